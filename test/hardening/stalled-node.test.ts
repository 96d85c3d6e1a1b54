// A node frozen inside a transaction (SIGSTOP) must not hold PostgreSQL: within the configured idle
// limit its transaction is ended, its row locks and the delivery horizon are released, the relay's
// lock it held passes to the other node, and the other node keeps committing and delivering.
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { HubClient } from '../../src/client/index.js';
import { startNode } from '../support/cluster.js';
import { freshDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = (await postgresAvailable('stalled node')) && (await redisAvailable('stalled node'));
const IDLE_MS = 1500;

describe.skipIf(!ready)('a node frozen mid-transaction', () => {
  test('its locks and the horizon are released within the idle limit; the other node goes on', async () => {
    const db = await freshDatabase();
    const env = {
      ...db.env,
      REDIS_URL: redisUrl!,
      REDIS_PREFIX: `t-${db.id}`,
      DATABASE_IDLE_TIMEOUT_MS: String(IDLE_MS),
    };
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const one = async <T>(sql: string, bind: unknown[] = []) => (await admin.query(sql, bind)).rows[0] as T;
    const holdsRelayLock = async (pid: number) =>
      (
        await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
           WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
          [`renex-relay/${pid}`],
        )
      ).n === 1;

    const a = await startNode(env);
    await expect.poll(() => holdsRelayLock(a.pid), { timeout: 10_000 }).toBe(true);
    const b = await startNode(env);
    const clients: HubClient[] = [];
    let frozen = false;
    try {
      const seller = await trader(b.url, 'seller');
      const latecomer = await trader(b.url, 'latecomer');
      const loaders = await Promise.all([1, 2, 3].map((i) => trader(a.url, `loader${i}`)));
      clients.push(seller, latecomer, ...loaders);
      const sellerLog = recorder(seller);
      const listing = await seller.createListing(listingInput({ volumeKwh: '100000' }));

      // node A proposes and withdraws on the listing all the time: its transactions lock the listing
      let stop = false;
      const load = loaders.map(async (buyer) => {
        while (!stop) {
          try {
            const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
            await buyer.withdraw(s.id);
          } catch {}
        }
      });

      // freeze A until it is caught with a transaction open
      let stalled: { pid: number; xid: string } | undefined;
      for (let attempt = 0; attempt < 300 && !stalled; attempt++) {
        process.kill(a.pid, 'SIGSTOP');
        frozen = true;
        stalled = await one<{ pid: number; xid: string } | undefined>(
          `SELECT pid, backend_xid::text AS xid FROM pg_stat_activity
           WHERE application_name = $1 AND state = 'idle in transaction' AND backend_xid IS NOT NULL`,
          [`renex-hub/${a.pid}`],
        );
        if (stalled) {
          // a statement A wrote just before it stopped may still reach its session (and commit the
          // transaction): caught only if the session is still idle in the same transaction a moment later
          await new Promise((r) => setTimeout(r, 100));
          const still = await one<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE pid = $1 AND state = 'idle in transaction' AND backend_xid::text = $2`,
            [stalled.pid, stalled.xid],
          );
          if (still.n !== 1) stalled = undefined;
        }
        if (!stalled) {
          process.kill(a.pid, 'SIGCONT');
          frozen = false;
          await new Promise((r) => setTimeout(r, 15));
        }
      }
      expect(stalled, 'node A caught inside a transaction').toBeDefined();
      const frozenAt = Date.now();
      const horizon = async () =>
        BigInt((await one<{ h: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h')).h);
      expect(await horizon()).toBeLessThanOrEqual(BigInt(stalled!.xid));

      // node B needs the listing's row lock that A's transaction holds: it gets it once A's is ended
      const proposed = await latecomer.propose({ listingId: listing.id, volumeKwh: '5', pricePerKwh: '0.2' });
      await expect
        .poll(
          async () =>
            (
              await one<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [
                stalled!.pid,
              ])
            ).n,
          {
            timeout: IDLE_MS + 10_000,
          },
        )
        .toBe(0);
      // the horizon is the server's: another test file's open transaction may hold it a while longer
      await expect.poll(horizon).toBeGreaterThan(BigInt(stalled!.xid));
      // and B delivers: the seller (on B) hears of the proposal made on B
      await expect
        .poll(() => sellerLog.seen.some((e) => (e.data as { id: string }).id === proposed.id), {
          timeout: 10_000,
        })
        .toBe(true);
      const releasedMs = Date.now() - frozenAt;
      console.info(`frozen node's transaction ended and delivery went on ${releasedMs} ms after SIGSTOP`);
      // the relay's lock the frozen node held went to B
      await expect.poll(() => holdsRelayLock(b.pid), { timeout: IDLE_MS + 10_000 }).toBe(true);

      // A comes back: its dead sessions are replaced and it serves again
      process.kill(a.pid, 'SIGCONT');
      frozen = false;
      stop = true;
      await Promise.all(load);
      const back = await trader(a.url, 'back');
      clients.push(back);
      await expect
        .poll(
          async () =>
            (
              await back
                .propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' })
                .catch(() => null)
            )?.status,
          { timeout: 15_000 },
        )
        .toBe('open');
    } finally {
      if (frozen) process.kill(a.pid, 'SIGCONT');
      for (const c of clients) c.close();
      await admin.end();
      await Promise.all([a.kill('SIGKILL'), b.kill()]);
      await db.drop();
    }
  }, 120_000);
});
