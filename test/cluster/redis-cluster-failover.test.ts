// A Redis Cluster master killed with SIGKILL while three hub nodes serve a negotiation load: its
// replica is promoted; commands keep committing, delivery resumes by itself, no connection misses
// or repeats an event, and /readyz tells of the outage while it lasts.
import { describe, expect, test } from 'vitest';
import type { HubClient } from '../../src/client/index.js';
import { type NodeProcess, startNode } from '../support/cluster.js';
import { expectNothingLost, negotiationLoad, recordEvents } from '../support/load.js';
import { redisClusterAvailable, TestRedisCluster } from '../support/redis-cluster.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { type TestTrader, trader } from '../support/traders.js';

const ready =
  (await postgresAvailable('Redis Cluster fail-over')) &&
  (await redisClusterAvailable('Redis Cluster fail-over'));

interface Readiness {
  at: number;
  node: number;
  status: number;
  redis: boolean | undefined;
}

/** Asks every node's /readyz every 100 ms (one question at a time per node) until stopped. */
function watchReadiness(nodes: NodeProcess[]) {
  const seen: Readiness[] = [];
  let stopped = false;
  const loops = nodes.map(async (node, i) => {
    while (!stopped) {
      try {
        const res = await fetch(`${node.url}/readyz`);
        const body = (await res.json()) as { checks: { redis?: boolean } };
        seen.push({ at: Date.now(), node: i, status: res.status, redis: body.checks.redis });
      } catch {
        seen.push({ at: Date.now(), node: i, status: 0, redis: undefined });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  return {
    seen,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe.skipIf(!ready)('a Redis Cluster master killed with SIGKILL under load', () => {
  test('commands keep committing, delivery resumes by itself, nothing is lost or repeated, /readyz tells', async () => {
    const redis = await TestRedisCluster.start();
    const db = await freshDatabase();
    const prefix = `t-${db.id}`;
    const env = { ...db.env, REDIS_CLUSTER_NODES: redis.nodes.join(','), REDIS_PREFIX: prefix };
    const nodes = await Promise.all([startNode(env), startNode(env), startNode(env)]);
    const clients: HubClient[] = [];
    try {
      const make = async (name: string, node: NodeProcess): Promise<TestTrader> => {
        const t = await trader(node.url, name, true, {}, { ackTimeoutMs: 5000, attempts: 5 });
        clients.push(t);
        return t;
      };
      // every pair spans two nodes: its events cross Redis
      const pairs = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => ({
          seller: await make(`s${i}`, nodes[i % 3]!),
          buyer: await make(`b${i}`, nodes[(i + 1) % 3]!),
        })),
      );
      const got = recordEvents(clients);
      const load = negotiationLoad(pairs);
      await expect.poll(() => load.acked.length, { timeout: 30_000 }).toBeGreaterThan(30);

      // the master of the relay stream's channel: other nodes hear of commits through it
      const victim = await redis.masterOf(`${prefix}#events`);
      const readiness = watchReadiness(nodes);
      const killedAt = Date.now();
      const beforeKill = load.acked.length;
      const killed = await redis.killMaster(victim);
      const promotedAt = Date.now();
      const duringOutage = load.acked.length - beforeKill;
      // commands kept committing while a third of the slots had no master: a limit's count waits
      // at most 500 ms for Redis, then the node counts alone
      expect(duringOutage).toBeGreaterThan(0);

      // readiness comes back by itself on every node
      await expect
        .poll(
          async () =>
            (await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/readyz`)).status))).join(),
          { timeout: 30_000 },
        )
        .toBe('200,200,200');
      const readyAgainAt = Date.now();
      await readiness.stop();
      // while the master was away, each node's /readyz said so: 503 with the redis check false
      for (const i of [0, 1, 2]) {
        const outage = readiness.seen.filter((r) => r.node === i && r.at >= killedAt && r.status === 503);
        expect(outage.length, `node ${i} reported the outage`).toBeGreaterThan(0);
        expect(outage.every((r) => r.redis === false)).toBe(true);
      }

      // commands keep committing after the fail-over, through the promoted replica
      const afterFailover = load.acked.length;
      await expect.poll(() => load.acked.length, { timeout: 30_000 }).toBeGreaterThan(afterFailover + 30);
      await load.stop();

      // every acked command is committed; every connection got every event of its user, once, ascending
      await expectNothingLost(db.url!, load.acked, got);
      console.info(
        `redis cluster fail-over (${killed} killed): promoted after ${promotedAt - killedAt} ms, ` +
          `ready again after ${readyAgainAt - killedAt} ms; ${duringOutage} commands acked meanwhile, ` +
          `${load.acked.length} in all, ${load.failures} loop iterations refused`,
      );
    } finally {
      for (const c of clients) c.close();
      await Promise.all(nodes.map((n) => n.kill()));
      await redis.stop();
      await db.drop();
    }
  }, 300_000);
});
