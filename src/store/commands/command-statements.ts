import { QueryTypes, type Sequelize, Transaction } from 'sequelize';

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

/** Sequelize's Transaction, as far as CommandStatements drives it by hand. */
interface ManualTransaction {
  begin(): Promise<void>;
  prepareEnvironment(useCls: boolean): Promise<void>;
  finished?: string;
  cleanup(): void;
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
 * inlined by Sequelize's escaping; all others bind their values (docs/decisions.md, "Round trips
 * of a command").
 *
 * Named for what it holds, the statements of one command's transaction (not `Session`, which is
 * the auth answer of PROTOCOL.md, nor a PostgreSQL session, which is a connection).
 */
export class CommandStatements {
  private tx: Transaction | undefined;
  private beginning: Promise<Transaction> | undefined;
  /** whether START TRANSACTION has been sent */
  private open = false;
  private pending: PendingWrite[] = [];
  /** statements of pending writes sent so far (a flush cannot be taken back by `reset`) */
  flushes = 0;

  constructor(readonly sequelize: Sequelize) {}

  /** A connection of the pool for the transaction; START TRANSACTION is left to the first statement. */
  private begin(): Promise<Transaction> {
    this.beginning ??= (async () => {
      const t = new Transaction(this.sequelize, {});
      const manual = t as unknown as ManualTransaction;
      manual.begin = async () => {};
      await manual.prepareEnvironment(false);
      this.tx = t;
      return t;
    })();
    return this.beginning;
  }

  /** `$n` placeholders replaced by their values as SQL literals. */
  private inline(sql: string, bind: unknown[]): string {
    return sql.replace(/\$(\d+)/g, (_m, n: string) => this.sequelize.escape(bind[Number(n) - 1] as string));
  }

  /** One statement in the transaction; the first one carries START TRANSACTION. */
  private async send<T extends object>(sql: string, bind: unknown[], select: boolean): Promise<T[]> {
    const transaction = await this.begin();
    const type = select ? QueryTypes.SELECT : QueryTypes.RAW;
    if (this.open) return (await this.sequelize.query(sql, { bind, transaction, type })) as T[];
    this.open = true;
    return (await this.sequelize.query(`START TRANSACTION; ${this.inline(sql, bind)}`, {
      transaction,
      type,
    })) as T[];
  }

  /** Rows of a read in the command's transaction (begun now if need be), after its pending writes. */
  async read<T extends object>(sql: string, bind: unknown[]): Promise<T[]> {
    await this.flush();
    return this.send<T>(sql, bind, true);
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
    await this.send(oneStatement(parts), bind, false);
  }

  /**
   * Commits the command with `parts` (from `take`) as its last statement: with COMMIT in the same
   * round trip inside a transaction, or alone (atomic by itself) when the command read nothing.
   */
  async commit(parts: string[], bind: unknown[]): Promise<void> {
    const t = this.tx;
    if (!t) {
      if (parts.length) await this.sequelize.query(oneStatement(parts), { bind });
      return;
    }
    if (parts.length === 0) {
      await t.commit();
      return;
    }
    const sql = `${this.open ? '' : 'START TRANSACTION; '}${this.inline(oneStatement(parts), bind)}; COMMIT`;
    this.open = true;
    await this.sequelize.query(sql, { transaction: t });
    // committed by the query itself: the connection goes back to the pool
    const manual = t as unknown as ManualTransaction;
    manual.finished = 'commit';
    manual.cleanup();
  }

  /** Ends a begun transaction without its changes; never throws (the connection is released). */
  async rollback(): Promise<void> {
    const t = this.tx ?? (await this.beginning?.catch(() => undefined));
    if (!t || (t as unknown as ManualTransaction).finished) return;
    await t.rollback().catch(() => {});
  }
}
