// Elections cost no PostgreSQL sessions: a follower tries the relay's lock on its own timer, on a
// session it keeps, never per commit. Counted by PostgreSQL itself (pg_stat_database.sessions).
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

const ready = (await postgresAvailable('relay sessions')) && (await redisAvailable('relay sessions'));

describe.skipIf(!ready)('the relay on two nodes under load', () => {
  test('no PostgreSQL session is opened per commit or per election', async () => {
    const db = await freshDatabase();
    const poolMax = 2;
    const env = { DATABASE_POOL_MAX: String(poolMax) };
    const a = await startHub({ db, redis: true, env });
    const b = await startHub({ db, redis: true, env });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const sessions = async () =>
      Number(
        (await admin.query('SELECT sessions FROM pg_stat_database WHERE datname = current_database()'))
          .rows[0].sessions,
      );
    const seller = await trader(a.url, 'seller');
    const buyers = await Promise.all([trader(b.url, 'b1'), trader(b.url, 'b2'), trader(a.url, 'b3')]);
    try {
      const listing = await seller.createListing(listingInput({ volumeKwh: '100000' }));
      // commands from both nodes, four at a time: each one kicks the relay on every node
      const load = (rounds: number) =>
        Promise.all(
          buyers.map(async (buyer) => {
            for (let i = 0; i < rounds; i++) {
              const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
              await seller.reject(s.id, 1);
            }
          }),
        );
      await load(5); // the pools fill up to the load's concurrency
      const before = await sessions();
      await load(40); // 240 commands, over several election periods
      // at most a pool that grew to its size (it already has, almost always); nothing per command
      const opened = (await sessions()) - before;
      expect(opened).toBeLessThanOrEqual(2 * poolMax);

      // each node keeps exactly one relay session, leader and follower alike
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name LIKE 'renex-relay/%'`,
      );
      expect(Number(rows[0]!.n)).toBe(2);
      expect([a.hub.relay!.isLeader, b.hub.relay!.isLeader].filter(Boolean)).toHaveLength(1);
    } finally {
      for (const c of [seller, ...buyers]) c.close();
      await admin.end();
      await Promise.all([a.stop(), b.stop()]);
      await db.drop();
    }
  }, 60_000);
});
