// A relay step whose publish to Redis fails (here: Redis refuses the relay node's SPUBLISH) while
// every subscriber stays connected: the other node must still get the event, from the log.
import { Redis } from 'ioredis';
import { QueryTypes, Sequelize } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { TestRedis } from '../support/cluster.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = await postgresAvailable('failed publish');

describe.skipIf(!ready)('a publish that fails', () => {
  test('the event still reaches the other node, once and in order', async () => {
    const redis = await TestRedis.start();
    const admin = new Redis(redis.url);
    const db = await freshDatabase();
    const prefix = `t-${db.id}`;
    // node A talks to Redis as a user whose publishes can be refused; node B as the default user
    await admin.call('ACL', 'SETUSER', 'relay', 'on', '>relay-password', '~*', '&*', '+@all');
    const a = await startHub({
      db,
      env: { REDIS_URL: `redis://relay:relay-password@127.0.0.1:${redis.port}`, REDIS_PREFIX: prefix },
    });
    await expect.poll(() => a.hub.relay?.isLeader, { timeout: 10_000 }).toBe(true);
    const b = await startHub({ db, env: { REDIS_URL: redis.url, REDIS_PREFIX: prefix } });
    const sequelize = new Sequelize(db.url!, { logging: false });
    const seller = await trader(a.url, 'seller');
    const buyer = await trader(b.url, 'buyer');
    try {
      const [sellerLog, buyerLog] = [recorder(seller), recorder(buyer)];
      const listing = await seller.createListing(listingInput());
      const first = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      expect((await buyerLog.next('swap.proposed')).data).toMatchObject({ id: first.id });
      await sellerLog.next('swap.proposed');
      await seller.reject(first.id, 1);
      await buyerLog.next('swap.rejected');

      await admin.call('ACL', 'SETUSER', 'relay', '-spublish', '-publish');
      await admin.call('ACL', 'LOG', 'RESET');
      const lost = await buyer.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.1' });
      // the relay (node A) delivered it to its own socket, and Redis refused its publish
      expect((await sellerLog.next('swap.proposed')).data).toMatchObject({ id: lost.id });
      await expect
        .poll(async () => JSON.stringify(await admin.call('ACL', 'LOG')), { timeout: 10_000 })
        .toContain('spublish');
      await admin.call('ACL', 'SETUSER', 'relay', '+spublish', '+publish');

      await expect
        .poll(() => buyerLog.seen.some((e) => (e.data as { id: string }).id === lost.id), { timeout: 15_000 })
        .toBe(true);
      // and the stream goes on: every event of the buyer, each once, ascending
      await seller.reject(lost.id, 1);
      await buyerLog.next('swap.rejected');
      const rows = await sequelize.query<{ id: string }>(
        'SELECT id::text AS id FROM events WHERE user_a = $1 OR user_b = $1 ORDER BY events.id',
        { bind: [buyer.user.id], type: QueryTypes.SELECT },
      );
      expect(buyerLog.seen.map((e) => e.id)).toEqual(rows.map((r) => r.id));
    } finally {
      seller.close();
      buyer.close();
      await sequelize.close();
      await Promise.all([a.stop(), b.stop()]);
      admin.disconnect();
      await redis.stop();
      await db.drop();
    }
  }, 60_000);
});
