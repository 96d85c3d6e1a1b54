// A database whose transaction counter is behind its event log (restored from a dump, or a replica
// promoted after losing transactions) would have every node take new events for ones already
// delivered: the hub refuses to start on it, saying how far to move the counter.
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';

const real = await postgresAvailable('event ids against the transaction counter');

describe.skipIf(!real)('event ids ahead of the transaction counter', () => {
  test('the hub starts on its own log, and refuses one from transactions the server has not reached', async () => {
    const db = await freshDatabase();
    const first = await startHub({ db });
    await first.stop();
    // a second start on the same log is fine: its ids are below the counter
    await (await startHub({ db })).stop();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // an event of a transaction a million ahead of the counter, as a restore would leave it
      const { rows } = await client.query<{ ahead: string }>(
        `SELECT ((pg_current_xact_id()::text::bigint + 1000000) << 16)::text AS ahead`,
      );
      await client.query(
        `INSERT INTO events (id, type, at, data) VALUES ($1, 'listing.created', now(), '{}'::jsonb)`,
        [rows[0]!.ahead],
      );
    } finally {
      await client.end();
    }
    await expect(startHub({ db })).rejects.toThrow(
      /the event log holds ids of transaction \d+, but PostgreSQL's transactions are at \d+.*pg_resetwal -e 0 -x \d+/,
    );
    await db.drop();
  });
});
