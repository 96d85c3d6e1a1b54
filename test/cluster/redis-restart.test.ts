// Redis restarted while two hub nodes serve traffic, one Redis or a whole Redis Cluster killed and
// started again: commands keep committing, /readyz tells, and delivery resumes by itself with
// nothing lost.
import { QueryTypes, Sequelize } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { EventEnvelope, HubClient } from '../../src/client/index.js';
import { startNode, TestRedis } from '../support/cluster.js';
import { redisClusterAvailable, TestRedisCluster } from '../support/redis-cluster.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

/** A Redis the nodes use, that the test can take away and bring back. */
interface Backend {
  env: Record<string, string>;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const postgres = await postgresAvailable('Redis restart');
const backends: { name: string; ready: boolean; start(): Promise<Backend> }[] = [
  {
    name: 'one Redis',
    ready: postgres,
    async start() {
      const redis = await TestRedis.start();
      return {
        env: { REDIS_URL: redis.url },
        down: () => redis.stop(),
        up: () => redis.start(),
        stop: () => redis.stop(),
      };
    },
  },
  {
    name: 'a Redis Cluster',
    ready: postgres && (await redisClusterAvailable('Redis Cluster restart')),
    async start() {
      const cluster = await TestRedisCluster.start();
      return {
        env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') },
        down: () => cluster.kill(),
        up: () => cluster.restart(),
        stop: () => cluster.stop(),
      };
    },
  },
];

describe.each(backends)('$name restarted while two nodes serve traffic', ({ ready, start }) => {
  test.skipIf(!ready)(
    'commands keep committing, /readyz tells, delivery resumes by itself, no event is lost',
    async () => {
      const redis = await start();
      const db = await freshDatabase();
      const env = { ...db.env, ...redis.env, REDIS_PREFIX: `t-${db.id}` };
      const [a, b] = await Promise.all([startNode(env), startNode(env)]);
      const sequelize = new Sequelize(db.url!, { logging: false });
      const clients: HubClient[] = [];
      try {
        const seller = await trader(a.url, 'seller');
        const buyer = await trader(b.url, 'buyer');
        const latecomer = await trader(b.url, 'latecomer');
        clients.push(seller, buyer, latecomer);
        const got = new Map<HubClient, EventEnvelope[]>([
          [seller, []],
          [buyer, []],
        ]);
        for (const [c, list] of got) c.onEvent((e) => list.push(e));
        const listing = await seller.createListing(listingInput({ volumeKwh: '100000' }));

        let stop = false;
        let committed = 0;
        let refused = 0;
        const load = (async () => {
          while (!stop) {
            try {
              const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
              await seller.reject(s.id, 1);
              committed += 2;
            } catch {
              refused++;
            }
          }
        })();

        await expect.poll(() => committed, { timeout: 15_000 }).toBeGreaterThan(10);
        await redis.down();
        const before = committed;
        // commands still commit with Redis away (PostgreSQL is the source of truth)
        await expect.poll(() => committed, { timeout: 15_000 }).toBeGreaterThan(before + 10);
        await expect.poll(async () => (await fetch(`${a.url}/readyz`)).status, { timeout: 15_000 }).toBe(503);
        expect(((await (await fetch(`${b.url}/readyz`)).json()) as { checks: unknown }).checks).toMatchObject(
          {
            database: true,
            redis: false,
          },
        );

        await redis.up();
        const back = Date.now();
        // cross-node delivery resumes: the seller (node A) hears of the buyer's (node B) next proposal
        const marker = (
          await latecomer.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.2' })
        ).id;
        await expect
          .poll(() => got.get(seller)!.some((e) => (e.data as { id: string }).id === marker), {
            timeout: 20_000,
          })
          .toBe(true);
        const resumedMs = Date.now() - back;
        console.info(`delivery resumed ${resumedMs} ms after Redis came back`);
        for (const node of [a, b]) {
          await expect
            .poll(async () => (await fetch(`${node.url}/readyz`)).status, { timeout: 20_000 })
            .toBe(200);
        }

        stop = true;
        await load;
        // every client ends with every event addressed to it, each once, ascending
        for (const [client, list] of got) {
          const rows = await sequelize.query<{ id: string }>(
            'SELECT id::text AS id FROM events WHERE user_a = $1 OR user_b = $1 ORDER BY events.id',
            { bind: [client.user.id], type: QueryTypes.SELECT },
          );
          const want = rows.map((r) => r.id);
          await expect.poll(() => list.length, { timeout: 15_000 }).toBe(want.length);
          expect(list.map((e) => e.id)).toEqual(want);
        }
        expect(refused).toBe(0);
      } finally {
        for (const c of clients) c.close();
        await sequelize.close();
        await Promise.all([a.kill(), b.kill()]);
        await redis.stop();
        await db.drop();
      }
    },
    180_000,
  );
});
