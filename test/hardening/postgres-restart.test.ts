import { QueryTypes, Sequelize } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { HubClient, type HubClientError, type Swap } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub } from '../support/hub.js';
import { TestPostgres } from '../support/pg-cluster.js';
import { listingInput, withMeter } from '../support/traders.js';

const haveCluster = await TestPostgres.available('PostgreSQL restart');

describe.skipIf(!haveCluster)('PostgreSQL restarted under load', () => {
  test('UNAVAILABLE while it is away, nothing acked without a commit, recovery by itself, /readyz tells', async () => {
    const pg = await TestPostgres.create();
    const node = await startHub({
      db: { id: `pg${pg.port}`, env: { DATABASE_URL: pg.url }, drop: async () => {} },
    });
    const clients: HubClient[] = [];
    try {
      const make = async (name: string) => {
        const c = await HubClient.register(
          node.url,
          { email: uniqueEmail(name), password: PASSWORD, displayName: name },
          { attempts: 1, ackTimeoutMs: 15_000 },
        );
        const t = await withMeter(c);
        await c.connect();
        clients.push(c);
        return t;
      };
      const seller = await make('seller');
      const buyer = await make('buyer');
      const listing = await seller.createListing(listingInput({ volumeKwh: '100000' }));

      const acked: Swap[] = [];
      const codes = new Map<string, number>();
      let stop = false;
      let open: string | undefined;
      const load = (async () => {
        while (!stop) {
          try {
            if (open) {
              acked.push(await buyer.withdraw(open));
              open = undefined;
            } else {
              const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
              acked.push(s);
              open = s.id;
            }
          } catch (err) {
            const code = (err as HubClientError).code ?? String(err);
            if (code === 'CONFLICT' && !open) {
              // a proposal committed while its answer was lost: find it and carry on from there
              const mine = await buyer.rest<{ items: Swap[] }>(
                'GET',
                '/api/v1/swaps?status=open&role=initiator',
              );
              open = mine.items[0]?.id;
            }
            codes.set(code, (codes.get(code) ?? 0) + 1);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      })();

      await expect.poll(() => acked.length, { timeout: 10_000 }).toBeGreaterThan(10);
      await pg.stop('fast');
      await expect.poll(() => codes.get('UNAVAILABLE') ?? 0, { timeout: 20_000 }).toBeGreaterThan(2);
      const ready = await fetch(`${node.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', checks: { database: false } });

      await pg.start();
      const before = acked.length;
      await expect.poll(() => acked.length, { timeout: 30_000 }).toBeGreaterThan(before + 10);
      await expect
        .poll(async () => (await fetch(`${node.url}/readyz`)).status, { timeout: 10_000 })
        .toBe(200);
      stop = true;
      await load;

      // only protocol codes, never INTERNAL; every acked command is committed
      expect(
        [...codes.keys()].filter((c) => c !== 'UNAVAILABLE' && c !== 'CONFLICT' && c !== 'INVALID_STATE'),
      ).toEqual([]);
      const sequelize = new Sequelize(pg.url, { logging: false });
      const rows = await sequelize.query<{ id: string; status: string }>('SELECT id, status FROM swaps', {
        type: QueryTypes.SELECT,
      });
      await sequelize.close();
      const status = new Map(rows.map((r) => [r.id, r.status]));
      for (const s of acked) {
        expect(status.get(s.id), `acked ${s.status} of ${s.id}`).toBeDefined();
        if (s.status === 'withdrawn') expect(status.get(s.id)).toBe('withdrawn');
      }
    } finally {
      for (const c of clients) c.close();
      await node.stop();
      await pg.destroy();
    }
  }, 120_000);
});
