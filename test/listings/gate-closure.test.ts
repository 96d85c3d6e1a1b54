import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { HubClientError, Listing } from '../../src/client/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

/**
 * Moves the gate closure of `ids` to `seconds` from now (the database's clock). Delivery windows
 * are on the zone's 60-minute grid and trading closes an hour before them, so the tests move the
 * gate instead of waiting for the clock; the sweeper and the commands read gate_closes_at.
 */
async function moveGate(node: TestHub, ids: string[], seconds: number) {
  await node.hub.db!.sequelize.query(
    `UPDATE listings SET gate_closes_at = now() + make_interval(secs => $2) WHERE id = ANY($1::uuid[])`,
    { bind: [ids, seconds] },
  );
}

/** The first start on a `slotMinutes` grid (from UTC midnight) more than `minutes` from now. */
function gridStartAfter(minutes: number, slotMinutes: number): Date {
  const slot = slotMinutes * 60_000;
  return new Date(Math.ceil((Date.now() + minutes * 60_000 + 1_000) / slot) * slot);
}

describe('gate closure', async () => {
  const real = await postgresAvailable('gate closure on two nodes');

  test.skipIf(!real)('expires each listing exactly once with two hubs sweeping one database', async () => {
    const db = await freshDatabase();
    // sweeps every 50 ms on both nodes
    const env = { SWEEP_INTERVAL_MS: '50' };
    const a = await startHub({ db, env });
    const b = await startHub({ db, env });
    try {
      const owner = await trader(a.url, 'owner');
      const log = recorder(owner);
      const listings: Listing[] = [];
      for (let i = 0; i < 20; i++) {
        const start = new Date(Date.parse(listingInput().deliveryStart) + i * 3_600_000);
        listings.push(
          await owner.createListing(
            listingInput({
              deliveryStart: start.toISOString(),
              deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
            }),
          ),
        );
      }
      const far = await owner.createListing(listingInput());
      // the 20 listings' gates close 2 s from now, a few ms apart (the far one keeps its own)
      await a.hub.db!.sequelize.query(
        `UPDATE listings SET gate_closes_at = now() + interval '2 seconds' + (n * interval '10 milliseconds')
           FROM unnest($1::uuid[]) WITH ORDINALITY AS moved(id, n) WHERE listings.id = moved.id`,
        { bind: [listings.map((l) => l.id)] },
      );
      // the owner is told of each closure, in the order the nodes' sweeps commit (a batch of the
      // later gates can commit first when the two nodes sweep at once)
      const open = new Set(listings.map((l) => l.id));
      while (open.size) {
        const closed = await log.next((e) => e.type === 'listing.closed' && open.has((e.data as Listing).id));
        expect(closed.data).toMatchObject({ status: 'expired', version: 2 });
        open.delete((closed.data as Listing).id);
      }
      const rows = await a.hub.db!.sequelize.query<{ id: string; n: string }>(
        `SELECT data->>'id' AS id, count(*) AS n FROM events WHERE type = 'listing.closed' GROUP BY 1`,
        { type: QueryTypes.SELECT },
      );
      expect(rows.map((r) => Number(r.n))).toEqual(listings.map(() => 1));
      expect(rows.map((r) => r.id).sort()).toEqual(listings.map((l) => l.id).sort());
      const [still] = await a.hub.db!.sequelize.query<{ status: string }>(
        'SELECT status FROM listings WHERE id = $1',
        {
          bind: [far.id],
          type: QueryTypes.SELECT,
        },
      );
      expect(still!.status).toBe('active');
      owner.close();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await db.drop();
    }
  });

  test('a listing past its gate cannot be cancelled even before the sweep reaches it', async () => {
    // a sweep interval far longer than the test: only the command's own check can refuse it
    const node = await startHub({ env: { SWEEP_INTERVAL_MS: '600000' } });
    try {
      const owner = await trader(node.url, 'owner');
      const listing = await owner.createListing(listingInput());
      // the gate closes 1 s from now; wait until it has passed
      await moveGate(node, [listing.id], 1);
      await new Promise((r) => setTimeout(r, 1_100));
      await expect(owner.cancelListing(listing.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
      await node.hub.sweeper!.sweep();
      const [row] = await node.hub.db!.sequelize.query<{ status: string }>(
        'SELECT status FROM listings WHERE id = $1',
        {
          bind: [listing.id],
          type: QueryTypes.SELECT,
        },
      );
      expect(row!.status).toBe('expired');
      owner.close();
    } finally {
      await node.stop();
    }
  });

  test("each zone's own gate lead applies at create", async () => {
    // two zones on a 15-minute grid: trading closes at delivery in one, two hours before it in the other
    const file = await marketConfigFile({
      zones: [
        { id: 'Gate-Zero', slotMinutes: 15, gateLeadMinutes: 0 },
        { id: 'Gate-Late', slotMinutes: 15, gateLeadMinutes: 120 },
      ],
    });
    const node = await startHub({ env: { MARKET_CONFIG: file } });
    try {
      const zero = await trader(node.url, 'zero', true, { zone: 'Gate-Zero' });
      const late = await trader(node.url, 'late', true, { zone: 'Gate-Late' });
      const window = (start: Date) => ({
        deliveryStart: start.toISOString(),
        deliveryEnd: new Date(start.getTime() + 15 * 60_000).toISOString(),
      });
      // 60 to 75 minutes ahead: past a 0-minute lead (and the default 60), within a 120-minute one
      const start = gridStartAfter(60, 15);
      expect(start.getTime() - Date.now()).toBeLessThan(90 * 60_000);
      const accepted = await zero.createListing(listingInput({ zone: 'Gate-Zero', ...window(start) }));
      expect(accepted).toMatchObject({
        zone: 'Gate-Zero',
        status: 'active',
        deliveryStart: start.toISOString(),
      });
      // 15 to 30 minutes ahead: inside the default lead, still open with a 0-minute lead
      const soon = gridStartAfter(15, 15);
      expect(await zero.createListing(listingInput({ zone: 'Gate-Zero', ...window(soon) }))).toMatchObject({
        status: 'active',
        deliveryStart: soon.toISOString(),
      });

      const before = await node.hub.db!.sequelize.query('SELECT id FROM listings', {
        type: QueryTypes.SELECT,
      });
      const err = (await late
        .createListing(listingInput({ zone: 'Gate-Late', ...window(start) }))
        .catch((e) => e)) as HubClientError;
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.details?.issues).toEqual([expect.objectContaining({ path: 'deliveryStart' })]);
      const after = await node.hub.db!.sequelize.query('SELECT id FROM listings', {
        type: QueryTypes.SELECT,
      });
      expect(after).toHaveLength(before.length);
      // well past the 120-minute lead, the same zone accepts it
      const later = gridStartAfter(150, 15);
      expect(await late.createListing(listingInput({ zone: 'Gate-Late', ...window(later) }))).toMatchObject({
        zone: 'Gate-Late',
        status: 'active',
      });
      zero.close();
      late.close();
    } finally {
      await node.stop();
    }
  });
});
