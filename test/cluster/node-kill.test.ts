import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { startBalancer, startNode, TestRedis } from '../support/cluster.js';
import { expectNothingLost, negotiationLoad, recordEvents } from '../support/load.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { withMeter } from '../support/traders.js';

const ready = await postgresAvailable('node killed under load');

describe.skipIf(!ready)('a node killed with SIGKILL during a negotiation load', () => {
  test('every acked command is committed; its clients move to the other node and miss nothing', async () => {
    const redis = await TestRedis.start();
    const db = await freshDatabase();
    const env = { ...db.env, REDIS_URL: redis.url, REDIS_PREFIX: `t-${db.id}` };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    const lb = await startBalancer([a.port, b.port]);
    const clients: HubClient[] = [];
    try {
      const make = async (name: string) => {
        const c = await HubClient.register(
          lb.url,
          { email: uniqueEmail(name), password: PASSWORD, displayName: name },
          { ackTimeoutMs: 3000, attempts: 5 },
        );
        const t = await withMeter(c);
        await c.connect();
        clients.push(c);
        return t;
      };
      const pairs = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => ({
          seller: await make(`s${i}`),
          buyer: await make(`b${i}`),
        })),
      );
      const got = recordEvents(clients);
      const load = negotiationLoad(pairs);

      await expect.poll(() => load.acked.length, { timeout: 15_000 }).toBeGreaterThan(30);
      await a.kill('SIGKILL');
      const afterKill = load.acked.length;
      await expect.poll(() => load.acked.length, { timeout: 20_000 }).toBeGreaterThan(afterKill + 30);
      await load.stop();

      await expectNothingLost(db.url!, load.acked, got);
      console.info(
        `node kill: ${load.acked.length} acked commands, ${load.failures} loop iterations refused`,
      );
    } finally {
      for (const c of clients) c.close();
      await lb.close();
      await Promise.all([a.kill('SIGKILL'), b.kill()]);
      await redis.stop();
      await db.drop();
    }
  }, 120_000);
});
