// The embedded database is one PGlite session shared by several connections (the hub's two pools,
// and tools such as psql). Concurrent extended-protocol queries on them must each get their own
// rows. pglite-socket alone interleaves two connections' extended-protocol batches (one got the
// other's rows here: electric-sql/pglite#1046); batchesKeptWhole (src/store/db/pglite-batches.ts)
// keeps each batch whole.
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { freshEmbeddedDir } from '../support/services.js';

describe('the embedded database under concurrent connections', () => {
  test('queries of different shapes on four connections at once each get their own answer', async () => {
    const dir = await freshEmbeddedDir();
    const node = await startHub({ db: dir });
    const db = node.hub.db!;
    const tools = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
    try {
      for (const c of tools) await c.connect();
      // writes make PGlite flush its files between statements, when other connections' messages arrive
      await tools[0]!.query('CREATE TABLE probe (n int PRIMARY KEY, tag text NOT NULL)');
      // each connection asks a query whose shape (columns, types) differs from the others'
      const viaTool = (c: pg.Client, i: number) =>
        c
          .query<{ n: number; tag: string }>('INSERT INTO probe VALUES ($1, $2) RETURNING n, tag', [
            i,
            `tool-${i}`,
          ])
          .then((r) => r.rows[0]);
      const viaSql = (i: number) =>
        db.sql.rows<{ tag: string; n: string }>(
          "SELECT $1::text AS tag, ($2::int * 2)::text AS n, 'x' AS pad",
          [`sql-${i}`, i],
        );
      const viaModels = (i: number) =>
        db.sequelize.query<{ s: string }>('SELECT $1::text || $2::text AS s', {
          bind: ['models-', String(i)],
          type: QueryTypes.SELECT,
        });
      const rounds = 150;
      // each connection asks its queries one after another (as a pool's client does); the four
      // connections ask at the same time
      const inTurn = async (ask: (i: number) => Promise<void>) => {
        for (let i = 0; i < rounds; i++) await ask(i);
      };
      const work: Promise<void>[] = [
        inTurn(async (i) => expect(await viaTool(tools[0]!, i)).toEqual({ n: i, tag: `tool-${i}` })),
        inTurn(async (i) =>
          expect(await viaTool(tools[1]!, i + 1000)).toEqual({ n: i + 1000, tag: `tool-${i + 1000}` }),
        ),
        inTurn(async (i) =>
          expect((await viaSql(i))[0]).toEqual({ tag: `sql-${i}`, n: String(2 * i), pad: 'x' }),
        ),
        inTurn(async (i) => expect((await viaModels(i))[0]).toEqual({ s: `models-${i}` })),
      ];
      const results = await Promise.allSettled(work);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
    } finally {
      for (const c of tools) await c.end().catch(() => {});
      await node.stop();
      await dir.drop();
    }
  }, 60_000);
});
