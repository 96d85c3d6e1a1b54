// The pg pool of the command path (src/store/db/sql-pool.ts): values inlined as literals read back
// exactly as bound ones do, a placeholder with no value or a time PostgreSQL would misread is an
// error (never NULL, never a wrong row), and a pool that cannot give a connection in time is
// UNAVAILABLE (retry), not INTERNAL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inline, literal, type SqlConnection, SqlPool } from '../../src/store/db/sql-pool.js';
import { toHubError } from '../../src/store/db/unavailable.js';
import { freshDatabase, type TestDatabase } from '../support/services.js';

let db: TestDatabase;
let sql: SqlPool;
beforeAll(async () => {
  db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => {}); // an idle connection's failure fails its next statement instead
  sql = new SqlPool(pool);
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe('literals', () => {
  test('read back as the bound values would be', async () => {
    const values = [
      "it's a \\ backslash",
      '12345678901234567890',
      new Date('2026-11-29T10:00:00.123Z'),
      Buffer.from([0, 1, 254, 255]),
      ['a"b', 'c\\d', ''],
      true,
      null,
    ];
    const sqlText =
      'SELECT $1::text AS s, $2::numeric::text AS n, $3::timestamptz AS t, $4::bytea AS b, $5::text[] AS a, $6::boolean AS f, $7::text AS z';
    const connection = await sql.connect();
    try {
      const [inlined] = (await connection.script(inline(sqlText, values)))[0]!.rows;
      const [bound] = await connection.rows(sqlText, values);
      expect(inlined).toEqual(bound);
      expect(inlined).toMatchObject({
        s: "it's a \\ backslash",
        n: '12345678901234567890',
        a: ['a"b', 'c\\d', ''],
      });
    } finally {
      connection.release();
    }
  });

  test('a placeholder with no value, or a value with no literal, is an error', () => {
    expect(() => inline('SELECT $1, $2', ['x'])).toThrow(/no value for \$2/);
    expect(() => inline('SELECT $0', ['x'])).toThrow(/no value for \$0/);
    expect(() => literal(new Date('0000-06-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => literal(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => literal(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => literal({ a: 1 })).toThrow(TypeError);
    expect(() => literal(['a', null])).toThrow(TypeError);
  });
});

describe('a pool with no connection to give', () => {
  test('waiting past its limit is UNAVAILABLE, and so is a pool that was ended', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 200 });
    pool.on('error', () => {});
    const small = new SqlPool(pool);
    // the limit also bounds opening the one connection, which a loaded machine can take longer
    // than 200 ms to do: open it again until it opens
    let held: SqlConnection | undefined;
    for (let attempt = 0; !held; attempt++) {
      held = await small.connect().catch((err: unknown) => {
        if (attempt >= 50) throw err;
        return undefined;
      });
    }
    const waited = await small.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(toHubError(waited).code).toBe('UNAVAILABLE');
    held.release();
    await small.end();
    const ended = await small.rows('SELECT 1').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(toHubError(ended).code).toBe('UNAVAILABLE');
  });
});
