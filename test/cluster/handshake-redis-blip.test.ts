// A node's Redis subscription dropping again and again while traders reconnect: a connection in its
// handshake must get nothing before `sync` (no lastEventId: nothing is replayed), and no connection
// may ever get an event twice or out of order.
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { describe, expect, test } from 'vitest';
import { TestRedis } from '../support/cluster.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

const ready = await postgresAvailable('handshake during Redis blips');

interface Connection {
  beforeSync: string[];
  ids: string[];
  synced: boolean;
}

/** One connection without lastEventId, open for `ms` after its sync (or until `ms` passes without one). */
function visit(url: string, token: string, ms: number): Promise<Connection> {
  const c: Connection = { beforeSync: [], ids: [], synced: false };
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  socket.on('event', (e: { id: string }) => {
    c.ids.push(e.id);
    if (!c.synced) c.beforeSync.push(e.id);
  });
  return new Promise((resolve) => {
    const done = () => {
      socket.close();
      resolve(c);
    };
    const timer = setTimeout(done, 2_000);
    socket.on('sync', () => {
      c.synced = true;
      clearTimeout(timer);
      setTimeout(done, ms);
    });
    socket.on('connect_error', done);
  });
}

describe.skipIf(!ready)('handshakes while the Redis subscription drops', () => {
  test('nothing before sync, nothing twice, nothing out of order', async () => {
    const redis = await TestRedis.start();
    const admin = new Redis(redis.url);
    const db = await freshDatabase();
    const hub = await startHub({ db, env: { REDIS_URL: redis.url, REDIS_PREFIX: `t-${db.id}` } });
    const traders: TestTrader[] = [];
    try {
      for (let i = 0; i < 10; i++) traders.push(await trader(hub.url, `t${i}`));
      // a history for everyone: a listing each, and offers on the next one's listing
      const listings = await Promise.all(
        traders.map((t) => t.createListing(listingInput({ volumeKwh: '100000' }))),
      );
      const negotiate = async (i: number) => {
        const buyer = traders[(i + 1) % traders.length]!;
        const s = await buyer.propose({ listingId: listings[i]!.id, volumeKwh: '1', pricePerKwh: '0.1' });
        await traders[i]!.reject(s.id, 1);
      };
      for (let round = 0; round < 2; round++) await Promise.all(traders.map((_, i) => negotiate(i)));

      let stop = false;
      const blips = (async () => {
        while (!stop) {
          await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub').catch(() => {});
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      const live = (async () => {
        for (let i = 0; !stop; i = (i + 1) % traders.length) await negotiate(i).catch(() => {});
      })();
      const connections: Connection[] = [];
      const deadline = Date.now() + 6_000;
      await Promise.all(
        traders.map(async (t) => {
          while (Date.now() < deadline) connections.push(await visit(hub.url, t.session.accessToken, 20));
        }),
      );
      stop = true;
      await Promise.all([blips, live]);

      expect(connections.length).toBeGreaterThan(100);
      expect(connections.filter((c) => c.synced).length).toBeGreaterThan(100);
      for (const c of connections) {
        expect(c.beforeSync).toEqual([]);
        const ids = c.ids.map(BigInt);
        for (let k = 1; k < ids.length; k++) expect(ids[k]! > ids[k - 1]!).toBe(true);
      }
    } finally {
      for (const t of traders) t.close();
      await hub.stop();
      admin.disconnect();
      await redis.stop();
      await db.drop();
    }
  }, 90_000);
});
