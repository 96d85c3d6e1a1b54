// The limits that keep a stalled or vanished node from holding PostgreSQL reach every session of
// the hub: the pool's and the relay's (configurable; defaults in src/config.ts).
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';

const ready = await postgresAvailable('session limits');

describe.skipIf(!ready)("the hub's PostgreSQL sessions", () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({
      env: {
        DATABASE_STATEMENT_TIMEOUT_MS: '7000',
        DATABASE_IDLE_TIMEOUT_MS: '3000',
        DATABASE_KEEPALIVE_SECONDS: '9',
      },
    });
  });
  afterAll(() => node?.stop());

  const show = async (query: (sql: string) => Promise<string>) => ({
    statement: await query('SHOW statement_timeout'),
    idleInTransaction: await query('SHOW idle_in_transaction_session_timeout'),
    keepalivesIdle: await query('SHOW tcp_keepalives_idle'),
    keepalivesInterval: await query('SHOW tcp_keepalives_interval'),
    keepalivesCount: await query('SHOW tcp_keepalives_count'),
    idleSession: await query('SHOW idle_session_timeout'),
    name: await query('SHOW application_name'),
  });

  test('pool sessions: statement and idle-in-transaction limits, keepalives', async () => {
    const sequelize = node.hub.db!.sequelize;
    const settings = await show(async (sql) => {
      const [row] = await sequelize.query<Record<string, string>>(sql, { type: QueryTypes.SELECT });
      return Object.values(row!)[0]!;
    });
    expect(settings).toEqual({
      statement: '7s',
      idleInTransaction: '3s',
      keepalivesIdle: '9',
      keepalivesInterval: '3',
      keepalivesCount: '3',
      idleSession: '0',
      name: `renex-hub/${process.pid}`,
    });
  });

  test("the relay's session also ends when idle, freeing its lock for another node", async () => {
    const client = new pg.Client(node.hub.db!.relaySession!);
    await client.connect();
    try {
      const settings = await show(
        async (sql) => Object.values((await client.query(sql)).rows[0])[0] as string,
      );
      expect(settings).toMatchObject({
        statement: '7s',
        idleInTransaction: '3s',
        keepalivesIdle: '9',
        idleSession: '3s',
        name: `renex-relay/${process.pid}`,
      });
    } finally {
      await client.end();
    }
  });
});
