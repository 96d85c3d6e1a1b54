// Negotiation load for fault tests, and the checks that nothing acked or published was lost.
import { QueryTypes, Sequelize } from 'sequelize';
import { expect } from 'vitest';
import type { EventEnvelope, HubClient, Swap } from '../../src/client/index.js';
import { listingInput, type TestTrader } from './traders.js';

/**
 * Each pair runs create, propose, counter, accept in a loop; every acked swap is kept. The traders
 * list and propose on their own meters (test/support/traders.ts, `withMeter`).
 */
export function negotiationLoad(pairs: { seller: TestTrader; buyer: TestTrader }[]) {
  const acked: Swap[] = [];
  let stopped = false;
  let failures = 0;
  const loops = pairs.map(async ({ seller, buyer }) => {
    while (!stopped) {
      try {
        const listing = await seller.createListing(listingInput({ volumeKwh: '10' }));
        const s = await buyer.propose({ listingId: listing.id, volumeKwh: '5', pricePerKwh: '0.1' });
        acked.push(s);
        acked.push(await seller.counter({ swapId: s.id, round: 1, volumeKwh: '5', pricePerKwh: '0.12' }));
        acked.push(await buyer.accept(s.id, 2));
      } catch {
        failures++;
      }
    }
  });
  return {
    acked,
    get failures() {
      return failures;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Every event each client receives, in arrival order. */
export function recordEvents(clients: HubClient[]): Map<HubClient, EventEnvelope[]> {
  const got = new Map<HubClient, EventEnvelope[]>();
  for (const c of clients) {
    const list: EventEnvelope[] = [];
    got.set(c, list);
    c.onEvent((e) => list.push(e));
  }
  return got;
}

/**
 * The database of `url` has every acked swap in that state or a later one, and every client
 * ends with every event addressed to it, once each, ascending.
 */
export async function expectNothingLost(
  url: string,
  acked: Swap[],
  got: Map<HubClient, EventEnvelope[]>,
): Promise<void> {
  const sequelize = new Sequelize(url, { logging: false });
  try {
    const rows = await sequelize.query<{ id: string; round: number; status: string }>(
      'SELECT id, round, status FROM swaps',
      { type: QueryTypes.SELECT },
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const s of acked) {
      const row = byId.get(s.id);
      expect(row, `acked swap ${s.id} is committed`).toBeDefined();
      expect(row!.round).toBeGreaterThanOrEqual(s.round);
      if (s.status === 'accepted') expect(row!.status).toBe('accepted');
    }
    for (const [client, list] of got) {
      const want = (
        await sequelize.query<{ id: string }>(
          'SELECT id::text AS id FROM events WHERE user_a = $1 OR user_b = $1 ORDER BY events.id',
          { bind: [client.user.id], type: QueryTypes.SELECT },
        )
      ).map((r) => r.id);
      await expect
        .poll(() => list.length, {
          timeout: 15_000,
          message: `${client.user.displayName} connected=${client.connected}`,
        })
        .toBe(want.length);
      expect(list.map((e) => e.id)).toEqual(want);
    }
  } finally {
    await sequelize.close();
  }
}
