import pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { EventEnvelope } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { startHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

describe('ordering when transactions commit out of order', async () => {
  const real = await postgresAvailable('ordering interleaving');

  test.skipIf(!real)(
    'a later commit is not delivered or served before an earlier transaction finishes',
    async () => {
      const node = await startHub();
      const early = new pg.Client({ connectionString: node.database.url });
      try {
        const alice = await trader(node.url, 'alice');
        const got: EventEnvelope[] = [];
        alice.onEvent((e) => got.push(e));

        // T1 starts first and takes the lower transaction id with an event for alice...
        await early.connect();
        await early.query('BEGIN');
        await early.query(
          `INSERT INTO events (id, type, at, user_a, data)
         VALUES ((pg_current_xact_id()::text::bigint << 16), 'swap.proposed', now(), $1, '{"from":"T1"}')`,
          [alice.user.id],
        );
        // ...then T2 (a real command) commits while T1 is still open
        const listing = await alice.rest<{ id: string }>(
          'POST',
          '/api/v1/listings',
          listingInput({ meterId: alice.meterId }),
        );

        // T2's event stays behind T1: neither pushed live nor listed by GET /events
        await new Promise((r) => setTimeout(r, 600));
        expect(got).toEqual([]);
        const page = await api(node.url, 'GET', `/api/v1/events?after=${alice.lastEventId ?? 0}`, {
          token: alice.session.accessToken,
        });
        expect(page.body.items).toEqual([]);

        await early.query('COMMIT');
        await expect.poll(() => got.length, { timeout: 5000 }).toBe(2);
        expect(got.map((e) => e.type)).toEqual(['swap.proposed', 'listing.created']);
        expect((got[1]!.data as { id: string }).id).toBe(listing.id);
        expect(BigInt(got[0]!.id)).toBeLessThan(BigInt(got[1]!.id));
        alice.close();
      } finally {
        await early.end().catch(() => {});
        await node.stop();
      }
    },
  );
});
