import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { Listing } from '../../src/client/index.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

describe('gate closure', async () => {
  const real = await postgresAvailable('gate closure on two nodes');

  test.skipIf(!real)('expires each listing exactly once with two hubs sweeping one database', async () => {
    const db = await freshDatabase();
    // sweeps every 50 ms on both nodes; trading closes 2 s before delivery
    const env = { SWEEP_INTERVAL_MS: '50', GATE_LEAD_SECONDS: '2' };
    const a = await startHub({ db, env });
    const b = await startHub({ db, env });
    try {
      const owner = await trader(a.url, 'owner');
      const log = recorder(owner);
      const soon = Date.now() + 6_000;
      const listings: Listing[] = [];
      for (let i = 0; i < 20; i++) {
        const start = new Date(soon + i * 10);
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
      // the owner is told of each closure
      for (const l of listings) {
        const closed = await log.next((e) => e.type === 'listing.closed' && (e.data as Listing).id === l.id);
        expect(closed.data).toMatchObject({ status: 'expired', version: 2 });
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
    const node = await startHub({ env: { SWEEP_INTERVAL_MS: '600000', GATE_LEAD_SECONDS: '3' } });
    try {
      const owner = await trader(node.url, 'owner');
      const start = new Date(Date.now() + 4_500);
      const listing = await owner.createListing(
        listingInput({
          deliveryStart: start.toISOString(),
          deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
        }),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, start.getTime() - 3_000 - Date.now() + 50)));
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
});
