import { QueryTypes, Sequelize } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { type EventEnvelope, HubClient, type Swap } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { type NodeProcess, startBalancer, startNode, TestRedis } from '../support/cluster.js';
import { TestPostgres } from '../support/pg-cluster.js';
import { requireServices } from '../support/services.js';
import { listingInput } from '../support/traders.js';

const haveCluster = await TestPostgres.create().then(
  (pg) => pg.destroy().then(() => true),
  (err) => {
    if (requireServices) throw err;
    console.warn(`skipped: rolling restart: cannot run a PostgreSQL cluster of the test's own (${err})`);
    return false;
  },
);

describe.skipIf(!haveCluster)('rolling restart of two nodes under load', () => {
  test('SIGTERM drains a node: no acked command and no event is lost while each node restarts in turn', async () => {
    const pg = await TestPostgres.create();
    const redis = await TestRedis.start();
    const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, SHUTDOWN_GRACE_MS: '5000' };
    const nodes: NodeProcess[] = await Promise.all([startNode(env), startNode(env)]);
    const lb = await startBalancer(nodes.map((n) => n.port));
    const sequelize = new Sequelize(pg.url, { logging: false });
    const clients: HubClient[] = [];
    try {
      const make = async (name: string) => {
        const c = await HubClient.register(lb.url, {
          email: uniqueEmail(name),
          password: PASSWORD,
          displayName: name,
        });
        await c.connect();
        clients.push(c);
        return c;
      };
      const pairs = await Promise.all(
        Array.from({ length: 4 }, async (_, i) => ({
          seller: await make(`s${i}`),
          buyer: await make(`b${i}`),
        })),
      );
      const got = new Map<HubClient, EventEnvelope[]>();
      for (const c of clients) {
        const list: EventEnvelope[] = [];
        got.set(c, list);
        c.onEvent((e) => list.push(e));
      }
      const acked: Swap[] = [];
      let stop = false;
      let failures = 0;
      const loops = pairs.map(async ({ seller, buyer }) => {
        while (!stop) {
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

      for (const i of [0, 1]) {
        const before = acked.length;
        await expect.poll(() => acked.length, { timeout: 20_000 }).toBeGreaterThan(before + 20);
        const old = nodes[i]!;
        expect(await old.kill('SIGTERM')).toBe(0); // a clean exit after draining
        nodes[i] = await startNode(env, old.port);
      }
      const before = acked.length;
      await expect.poll(() => acked.length, { timeout: 20_000 }).toBeGreaterThan(before + 20);
      stop = true;
      await Promise.all(loops);

      const rows = await sequelize.query<{ id: string; round: number; status: string }>(
        'SELECT id, round, status FROM swaps',
        { type: QueryTypes.SELECT },
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of acked) {
        const row = byId.get(s.id);
        expect(row, `acked swap ${s.id}`).toBeDefined();
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
        await expect.poll(() => list.length, { timeout: 15_000 }).toBe(want.length);
        expect(list.map((e) => e.id)).toEqual(want);
      }
      console.info(`rolling restart: ${acked.length} acked commands, ${failures} loop iterations refused`);
    } finally {
      for (const c of clients) c.close();
      await sequelize.close();
      await lb.close();
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await redis.stop();
      await pg.destroy();
    }
  }, 150_000);
});
