import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { type NodeProcess, startBalancer, startNode, TestRedis } from '../support/cluster.js';
import { expectNothingLost, negotiationLoad, recordEvents } from '../support/load.js';
import { TestPostgres } from '../support/pg-cluster.js';
import { withMeter } from '../support/traders.js';

const haveCluster = await TestPostgres.available('rolling restart');

describe.skipIf(!haveCluster)('rolling restart of two nodes under load', () => {
  test('SIGTERM drains a node: no acked command and no event is lost while each node restarts in turn', async () => {
    const pg = await TestPostgres.create();
    const redis = await TestRedis.start();
    const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, SHUTDOWN_GRACE_MS: '5000' };
    const nodes: NodeProcess[] = await Promise.all([startNode(env), startNode(env)]);
    const lb = await startBalancer(nodes.map((n) => n.port));
    const clients: HubClient[] = [];
    try {
      const make = async (name: string) => {
        const c = await HubClient.register(lb.url, {
          email: uniqueEmail(name),
          password: PASSWORD,
          displayName: name,
        });
        const t = await withMeter(c);
        await c.connect();
        clients.push(c);
        return t;
      };
      const pairs = await Promise.all(
        Array.from({ length: 4 }, async (_, i) => ({
          seller: await make(`s${i}`),
          buyer: await make(`b${i}`),
        })),
      );
      const got = recordEvents(clients);
      const load = negotiationLoad(pairs);

      for (const i of [0, 1]) {
        const before = load.acked.length;
        await expect.poll(() => load.acked.length, { timeout: 20_000 }).toBeGreaterThan(before + 20);
        const old = nodes[i]!;
        expect(await old.kill('SIGTERM')).toBe(0); // a clean exit after draining
        nodes[i] = await startNode(env, old.port);
      }
      const before = load.acked.length;
      await expect.poll(() => load.acked.length, { timeout: 20_000 }).toBeGreaterThan(before + 20);
      await load.stop();

      await expectNothingLost(pg.url, load.acked, got);
      console.info(
        `rolling restart: ${load.acked.length} acked commands, ${load.failures} loop iterations refused`,
      );
    } finally {
      for (const c of clients) c.close();
      await lb.close();
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await redis.stop();
      await pg.destroy();
    }
  }, 150_000);
});
