import { QueryTypes, Sequelize } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { type EventEnvelope, HubClient, type Swap } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { startBalancer, startNode, TestRedis } from '../support/cluster.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput } from '../support/traders.js';

const ready = await postgresAvailable('node killed under load');

describe.skipIf(!ready)('a node killed with SIGKILL during a negotiation load', () => {
  test('every acked command is committed; its clients move to the other node and miss nothing', async () => {
    const redis = await TestRedis.start();
    const db = await freshDatabase();
    const env = { ...db.env, REDIS_URL: redis.url, REDIS_PREFIX: `t-${db.id}` };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    const lb = await startBalancer([a.port, b.port]);
    const sequelize = new Sequelize(db.url!, { logging: false });
    const clients: HubClient[] = [];
    try {
      const make = async (name: string) => {
        const c = await HubClient.register(
          lb.url,
          { email: uniqueEmail(name), password: PASSWORD, displayName: name },
          { ackTimeoutMs: 3000, attempts: 5 },
        );
        await c.connect();
        clients.push(c);
        return c;
      };
      const pairs = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => ({
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

      await expect.poll(() => acked.length, { timeout: 15_000 }).toBeGreaterThan(30);
      await a.kill('SIGKILL');
      const afterKill = acked.length;
      await expect.poll(() => acked.length, { timeout: 20_000 }).toBeGreaterThan(afterKill + 30);
      stop = true;
      await Promise.all(loops);

      // every acked command is in the database, in that state or a later one
      const rank = { open: 0, accepted: 1 } as Record<string, number>;
      const rows = await sequelize.query<{ id: string; status: string; round: number }>(
        'SELECT id, status, round FROM swaps',
        { type: QueryTypes.SELECT },
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of acked) {
        const row = byId.get(s.id);
        expect(row, `acked swap ${s.id} is committed`).toBeDefined();
        expect(row!.round).toBeGreaterThanOrEqual(s.round);
        expect(rank[row!.status]!).toBeGreaterThanOrEqual(rank[s.status]!);
      }
      // every client ends with every event addressed to it, once each, ascending
      for (const [client, list] of got) {
        const want = (
          await sequelize.query<{ id: string }>(
            'SELECT id::text AS id FROM events WHERE user_a = $1 OR user_b = $1 ORDER BY events.id',
            { bind: [client.user.id], type: QueryTypes.SELECT },
          )
        ).map((r) => r.id);
        await expect
          .poll(() => list.length, {
            timeout: 15_000,
            message: `${client.user.displayName} connected=${client.connected} got ${list.map((e) => e.id)} want ${want}`,
          })
          .toBe(want.length);
        expect(list.map((e) => e.id)).toEqual(want);
      }
      console.info(`node kill: ${acked.length} acked commands, ${failures} loop iterations refused`);
    } finally {
      for (const c of clients) c.close();
      await sequelize.close();
      await lb.close();
      await Promise.all([a.kill('SIGKILL'), b.kill()]);
      await redis.stop();
      await db.drop();
    }
  }, 120_000);
});
