import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type HubClientError, type Swap } from '../../src/client/index.js';
import { emitAck } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const METRICS_TOKEN = 'metrics-token-of-the-concurrency-test';
let node: TestHub;
beforeAll(async () => {
  node = await startHub({ env: { METRICS_TOKEN } });
});
afterAll(() => node?.stop());

const one = async <T extends object>(sql: string, bind: unknown[]) => {
  const [row] = await node.hub.db!.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  return row!;
};

describe('accept is atomic and never oversells', () => {
  test('50 concurrent accepts of different swaps on one listing', async () => {
    const owner = await trader(node.url, 'owner');
    const listing = await owner.createListing(listingInput({ volumeKwh: '100' }));
    const buyers = await Promise.all(Array.from({ length: 50 }, (_, i) => trader(node.url, `b${i}`)));
    const logs = buyers.map((b) => recorder(b));
    const swaps = await Promise.all(
      buyers.map((b) => b.propose({ listingId: listing.id, volumeKwh: '3', pricePerKwh: '0.1' })),
    );

    const outcomes = await Promise.allSettled(swaps.map((s) => owner.accept(s.id, 1)));
    const won = outcomes
      .filter((o): o is PromiseFulfilledResult<Swap> => o.status === 'fulfilled')
      .map((o) => o.value);
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    for (const l of lost)
      expect(['INVALID_STATE', 'INSUFFICIENT_VOLUME']).toContain((l.reason as HubClientError).code);

    const wonWh = won.reduce((sum, s) => sum + BigInt(s.volumeKwh.replace('.', '')), 0n);
    const after = await one<{ available_wh: string; volume_wh: string; status: string }>(
      'SELECT available_wh, volume_wh, status FROM listings WHERE id = $1',
      [listing.id],
    );
    expect(wonWh).toBeLessThanOrEqual(100_000n);
    expect(BigInt(after.volume_wh) - BigInt(after.available_wh)).toBe(wonWh);
    expect(won).toHaveLength(33); // 33 x 3 kWh fit in 100 kWh
    const db = await one<{ accepted: string; voided: string; open: string }>(
      `SELECT count(*) FILTER (WHERE status = 'accepted') AS accepted, count(*) FILTER (WHERE status = 'voided') AS voided,
              count(*) FILTER (WHERE status = 'open') AS open FROM swaps WHERE listing_id = $1`,
      [listing.id],
    );
    expect(db).toEqual({ accepted: '33', voided: '17', open: '0' });
    // the accepts that waited on the listing were committed in groups (AcceptGroups)
    const metrics = await (
      await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(Number(metrics.match(/^hub_accept_group_size_count (\d+)/m)?.[1] ?? 0)).toBeGreaterThan(0);

    // every loser is told: its swap voided for lack of volume
    await Promise.all(
      swaps.map(async (s, i) => {
        if (won.some((w) => w.id === s.id)) {
          expect((await logs[i]!.next('swap.accepted')).data).toMatchObject({ id: s.id, status: 'accepted' });
        } else {
          expect((await logs[i]!.next('swap.voided')).data).toMatchObject({
            id: s.id,
            reason: 'insufficient_volume',
          });
        }
      }),
    );
    for (const c of [owner, ...buyers]) c.close();
  });

  test('concurrent counters and accepts on one listing never deadlock: every answer is a protocol code', async () => {
    const owner = await trader(node.url, 'owner');
    const listing = await owner.createListing(listingInput({ volumeKwh: '100' }));
    const buyers = await Promise.all(Array.from({ length: 16 }, (_, i) => trader(node.url, `c${i}`)));
    const swaps = await Promise.all(
      buyers.map((b) => b.propose({ listingId: listing.id, volumeKwh: '30', pricePerKwh: '0.1' })),
    );
    const outcomes = await Promise.allSettled(
      swaps.map((s, i) =>
        i % 2
          ? owner.accept(s.id, 1)
          : owner.counter({ swapId: s.id, round: 1, volumeKwh: '30', pricePerKwh: '0.2' }),
      ),
    );
    const codes = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as HubClientError).code] : [],
    );
    expect(codes.filter((c) => c !== 'INVALID_STATE' && c !== 'INSUFFICIENT_VOLUME')).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value.status === 'accepted')).toHaveLength(3);
    for (const c of [owner, ...buyers]) c.close();
  });

  test('concurrent proposals of one trader on one listing: one opens, the others are CONFLICT', async () => {
    const owner = await trader(node.url, 'owner');
    const buyer = await trader(node.url, 'eager');
    const listing = await owner.createListing(listingInput({ volumeKwh: '100' }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect((o.reason as HubClientError).code).toBe('CONFLICT');
    const db = await one<{ swaps: string; events: string }>(
      `SELECT (SELECT count(*) FROM swaps WHERE listing_id = $1)::text AS swaps,
              (SELECT count(*) FROM events WHERE type = 'swap.proposed' AND data->>'listingId' = $2)::text AS events`,
      [listing.id, listing.id],
    );
    expect(db).toEqual({ swaps: '1', events: '1' });
    for (const c of [owner, buyer]) c.close();
  });

  test('grouped accepts keep idempotency: repeats of a requestId answer the first answer, a reused one is CONFLICT', async () => {
    const owner = await trader(node.url, 'owner');
    const listing = await owner.createListing(listingInput({ volumeKwh: '100' }));
    const buyers = await Promise.all(Array.from({ length: 6 }, (_, i) => trader(node.url, `g${i}`)));
    const swaps = await Promise.all(
      buyers.map((b) => b.propose({ listingId: listing.id, volumeKwh: '5', pricePerKwh: '0.1' })),
    );
    const socket = (owner as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
    const keys = swaps.map(() => randomUUID());
    const accept = (i: number, key = keys[i]!) =>
      emitAck(socket, 'swap:accept', { requestId: key, swapId: swaps[i]!.id, round: 1 });
    // all at once: the first runs alone, the others wait on the listing and commit as one group
    const answers = await Promise.all([
      ...swaps.map((_, i) => accept(i)),
      accept(0),
      accept(3),
      accept(4, keys[1]),
    ]);
    for (let i = 0; i < swaps.length; i++) {
      expect(answers[i]).toMatchObject({ ok: true, data: { id: swaps[i]!.id, status: 'accepted' } });
    }
    expect(answers[6]).toEqual(answers[0]);
    expect(answers[7]).toEqual(answers[3]);
    expect(answers[8]).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const db = await one<{ available_wh: string; accepted: string; events: string }>(
      `SELECT (SELECT available_wh FROM listings WHERE id = $1)::text AS available_wh,
              (SELECT count(*) FROM swaps WHERE listing_id = $1 AND status = 'accepted')::text AS accepted,
              (SELECT count(*) FROM events WHERE type = 'swap.accepted' AND data->>'listingId' = $2)::text AS events`,
      [listing.id, listing.id],
    );
    expect(db).toEqual({ available_wh: '70000', accepted: '6', events: '6' });
    for (const c of [owner, ...buyers]) c.close();
  });

  test('a retried accept with the same requestId after a dropped connection takes effect once', async () => {
    const owner = await trader(node.url, 'owner');
    const buyer = await trader(node.url, 'buyer');
    const listing = await owner.createListing(listingInput({ volumeKwh: '10' }));
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1' });

    // a client whose acks time out quickly, so it retries after the drop
    const impatient = new HubClient(node.url, owner.session, { ackTimeoutMs: 1500, attempts: 5 });
    await impatient.connect();
    let drops = 0;
    const dropped = new Promise<void>((resolve) =>
      impatient.onState((s) => {
        if (s === 'disconnected') {
          drops++;
          resolve();
        }
      }),
    );
    const accepting = impatient.accept(swap.id, 1);
    impatient.simulateDrop(); // the command is on the wire, its ack will be lost
    await dropped;
    const accepted = await accepting;
    expect(drops).toBe(1);
    expect(accepted).toMatchObject({ id: swap.id, status: 'accepted' });

    const state = await one<{ available_wh: string; accepted_events: string; keys: string }>(
      `SELECT (SELECT available_wh FROM listings WHERE id = $1)::text AS available_wh,
              (SELECT count(*) FROM events WHERE type = 'swap.accepted' AND data->>'id' = $2)::text AS accepted_events,
              (SELECT count(*) FROM idempotency_keys WHERE user_id = $3 AND command = 'swap:accept')::text AS keys`,
      [listing.id, swap.id, owner.user.id],
    );
    expect(state).toEqual({ available_wh: '6000', accepted_events: '1', keys: '1' });
    for (const c of [owner, buyer, impatient]) c.close();
  });
});
