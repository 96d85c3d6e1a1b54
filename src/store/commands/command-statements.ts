import { inline, type SqlConnection, type SqlPool } from '../db/sql-pool.js';

interface PendingWrite {
  /** the row it writes ("table:id"), so a second write of one row is not merged with the first */
  row: string;
  /** an update sets a row's whole changing state, so a later update of the row replaces it */
  kind: 'insert' | 'update';
  sql: string;
  bind: unknown[];
}

/** The pending writes at one moment, to go back to (`CommandStatements.mark`, `CommandStatements.reset`). */
export type WriteMark = readonly PendingWrite[];

/** Bind values of the writes sent together, well below PostgreSQL's 65,535 per statement. */
const MAX_BATCH_VALUES = 20_000;

/** `$n` placeholders of `sql` moved up by `offset`. */
const shift = (sql: string, offset: number) =>
  offset === 0 ? sql : sql.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + offset}`);

/**
 * Statements as one statement: all but the last become data-modifying CTEs, which PostgreSQL
 * always runs to completion, whether the last statement reads them or not.
 */
function oneStatement(parts: string[]): string {
  if (parts.length === 1) return parts[0]!;
  const ctes = parts.slice(0, -1).map((p, i) => `w${i} AS (${p})`);
  return `WITH ${ctes.join(', ')} ${parts[parts.length - 1]}`;
}

/**
 * The database as one command sees it, with as few round trips as the command allows:
 * - the transaction begins at the command's first read, and its START TRANSACTION travels with
 *   that read; a command that only writes needs none: its writes, events and answer are one
 *   statement, atomic on its own;
 * - writes wait and go out together, in the statement before the next read or in the command's
 *   final statement with its events, which carries the COMMIT with it.
 * A read sees every earlier write of the command, as it would have without the buffering. The
 * statements that carry START TRANSACTION or COMMIT go as one simple-protocol query, their values
 * inlined as literals by pg's `escapeLiteral`; all others bind their values (docs/decisions.md,
 * "Round trips of a command"). The transaction holds one connection of the hub's pg pool from its
 * first read to its end, through pg's public API only.
 *
 * Named for what it holds, the statements of one command's transaction (not `Session`, which is
 * the auth answer of PROTOCOL.md, nor a PostgreSQL session, which is a connection).
 */
export class CommandStatements {
  private connection: SqlConnection | undefined;
  private connecting: Promise<SqlConnection> | undefined;
  /** whether START TRANSACTION has been sent */
  private open = false;
  /** whether the transaction ended (committed or rolled back) and its connection went back */
  private ended = false;
  private pending: PendingWrite[] = [];
  /** statements of pending writes sent so far (a flush cannot be taken back by `reset`) */
  flushes = 0;

  constructor(readonly sql: SqlPool) {}

  /** The transaction's connection, taken from the pool at its first statement. */
  private connect(): Promise<SqlConnection> {
    this.connecting ??= this.sql.connect().then((c) => {
      this.connection = c;
      return c;
    });
    return this.connecting;
  }

  /** One statement in the transaction; the first one carries START TRANSACTION. */
  private async send<T extends object>(sql: string, bind: unknown[]): Promise<T[]> {
    const connection = await this.connect();
    if (this.open) return connection.rows<T>(sql, bind);
    this.open = true;
    const [, result] = await connection.script(`START TRANSACTION; ${inline(sql, bind)}`);
    return (result?.rows ?? []) as T[];
  }

  /** Rows of a read in the command's transaction (begun now if need be), after its pending writes. */
  async read<T extends object>(sql: string, bind: unknown[]): Promise<T[]> {
    await this.flush();
    return this.send<T>(sql, bind);
  }

  /**
   * A write of `row`, sent with the next statement. An update of a row with an update pending
   * replaces it (both set the row's whole changing state); any other second write of a row goes
   * out after the first, in a later statement.
   */
  async write(
    row: string,
    sql: string,
    bind: unknown[],
    kind: 'insert' | 'update' = 'insert',
  ): Promise<void> {
    const at = this.pending.findIndex((w) => w.row === row);
    if (at >= 0 && kind === 'update' && this.pending[at]!.kind === 'update') {
      this.pending[at] = { row, kind, sql, bind };
      return;
    }
    const values = this.pending.reduce((n, w) => n + w.bind.length, bind.length);
    if (at >= 0 || values > MAX_BATCH_VALUES) await this.flush();
    this.pending.push({ row, kind, sql, bind });
  }

  /** The pending writes now. */
  mark(): WriteMark {
    return [...this.pending];
  }

  /** Back to the pending writes of `mark` (a command of a group failed: its writes are dropped). */
  reset(mark: WriteMark): void {
    this.pending = [...mark];
  }

  /**
   * The pending writes as statements numbered after `bind`'s values, which they append to it;
   * they are no longer pending.
   */
  take(bind: unknown[]): string[] {
    const parts = this.pending.map((w) => {
      const sql = shift(w.sql, bind.length);
      bind.push(...w.bind);
      return sql;
    });
    this.pending = [];
    return parts;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bind: unknown[] = [];
    const parts = this.take(bind);
    this.flushes++;
    await this.send(oneStatement(parts), bind);
  }

  /**
   * Commits the command with `parts` (from `take`) as its last statement: with COMMIT in the same
   * round trip inside a transaction, or alone (atomic by itself) when the command read nothing.
   */
  async commit(parts: string[], bind: unknown[]): Promise<void> {
    if (!this.connecting) {
      if (parts.length) await this.sql.count(oneStatement(parts), bind);
      this.ended = true;
      return;
    }
    const connection = await this.connect();
    const last = parts.length ? `${inline(oneStatement(parts), bind)}; ` : '';
    await connection.script(`${this.open ? '' : 'START TRANSACTION; '}${last}COMMIT`);
    this.open = true;
    this.ended = true;
    connection.release();
  }

  /** Ends a begun transaction without its changes; never throws (the connection goes back, or is closed if broken). */
  async rollback(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    if (!connection) return;
    try {
      await connection.script('ROLLBACK');
      connection.release();
    } catch (err) {
      connection.release(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
