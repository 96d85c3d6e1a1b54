// A command judges time once it holds its lock (src/store/commands/command-tx.ts, `now`): an accept
// that waited for the listing's lock past the offer's deadline is refused, not traded on a clock
// read before the wait. The sweeps are off, so nothing but the accept's own check stands between
// the expired offer and a trade; the lock is held by a transaction of the test, on the database
// both nodes share, and the accept goes through the other node.
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { HubClientError } from '../../src/client/index.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

const ready = (await postgresAvailable('time after lock')) && (await redisAvailable('time after lock'));
const env = { OFFER_TTL_SECONDS: '4', SWEEP_INTERVAL_MS: '600000' };

describe.skipIf(!ready)('time after the lock', () => {
  const nodes = twoNodes({ a: env, b: env });

  test('an accept that waited for the listing past the offer deadline is INVALID_STATE, and nothing trades', async () => {
    const seller = await trader(nodes.b.url, 'lock-seller');
    const buyer = await trader(nodes.a.url, 'lock-buyer');
    const listing = await seller.createListing(listingInput());
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    const holder = new pg.Client({ connectionString: nodes.db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM listings WHERE id = $1 FOR UPDATE', [listing.id]);
      // the accept is sent well before the deadline and waits for the listing's lock
      const accepted = seller.accept(swap.id, 1).then(
        () => undefined,
        (e: HubClientError) => e,
      );
      const deadline = Date.parse(swap.expiresAt);
      expect(deadline - Date.now()).toBeGreaterThan(500);
      await new Promise((r) => setTimeout(r, deadline - Date.now() + 300));
      await holder.query('COMMIT');
      const err = await accepted;
      expect(err?.code).toBe('INVALID_STATE');
      expect(err?.details).toEqual({ status: 'expired' });
      const { rows } = await holder.query('SELECT status FROM swaps WHERE id = $1', [swap.id]);
      expect(rows).toEqual([{ status: 'open' }]);
      const left = await holder.query(
        'SELECT available_wh = volume_wh AS untouched FROM listings WHERE id = $1',
        [listing.id],
      );
      expect(left.rows).toEqual([{ untouched: true }]);
    } finally {
      await holder.end();
      seller.close();
      buyer.close();
    }
  });
});
