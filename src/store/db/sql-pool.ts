import pg from 'pg';

/** One statement's rows, or each statement's result of a multi-statement simple query. */
type Results = pg.QueryResult | pg.QueryResult[];

/**
 * A connection of the pool held by one unit of work (a command's transaction): its statements
 * go out one after another on it, and it goes back to the pool with `release`.
 */
export interface SqlConnection {
  /** the rows of one statement, its values bound */
  rows<T extends object>(sql: string, values: unknown[]): Promise<T[]>;
  /**
   * the result of each statement of `sql`, several statements separated by `;` sent as one
   * simple-protocol query (no bound values: inline them with `literal`)
   */
  script(sql: string): Promise<pg.QueryResult[]>;
  /** back to the pool; with `broken` set the connection is closed instead of kept */
  release(broken?: Error): void;
}

/**
 * The hub's `pg` pool for its hand-written SQL: the command path and the outbox (docs/decisions.md,
 * "One style per concern"). Held openly through pg's public API; `observe` sees every statement
 * (tests count them).
 */
export class SqlPool {
  constructor(
    private readonly pool: pg.Pool,
    private readonly observe?: (sql: string) => void,
  ) {}

  /**
   * The rows of one statement on any connection of the pool, autocommitted. With `prepared`, a
   * name unique to this text, each connection parses it once and then only binds it (a statement
   * sent very often: the handshake's reads).
   */
  async rows<T extends object>(sql: string, values: unknown[] = [], prepared?: string): Promise<T[]> {
    this.observe?.(sql);
    return (
      await this.pool.query<T>(prepared ? { text: sql, values, name: prepared } : { text: sql, values })
    ).rows;
  }

  /** The number of rows one autocommitted statement changed. */
  async count(sql: string, values: unknown[] = []): Promise<number> {
    this.observe?.(sql);
    return (await this.pool.query(sql, values)).rowCount ?? 0;
  }

  /** A connection for a unit of work, until it is released. */
  async connect(): Promise<SqlConnection> {
    const client = await this.pool.connect();
    const observe = this.observe;
    // A held connection that PostgreSQL ends (idle_in_transaction_session_timeout, a restart) emits
    // 'error' with nobody listening, which would end the process; its next statement fails instead,
    // and the connection is closed when released.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    return {
      async rows<T extends object>(sql: string, values: unknown[]) {
        observe?.(sql);
        return (await client.query<T>(sql, values)).rows;
      },
      async script(sql: string) {
        observe?.(sql);
        const results = (await client.query(sql)) as Results;
        return Array.isArray(results) ? results : [results];
      },
      release: (failed) => {
        client.off('error', onError);
        client.release(failed ?? broken ?? false);
      },
    };
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** Text of one element of a PostgreSQL array literal: quoted, with `"` and `\` escaped. */
const arrayElement = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * A value as an SQL literal, for a statement sent without bound values (`SqlConnection.script`).
 * Every value goes as a quoted literal of type unknown, which PostgreSQL types from its context,
 * as it types a bound value pg sends as text: the two read the same. Quoting is pg's own
 * `escapeLiteral`.
 */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) {
    // PostgreSQL reads an ISO time of the years 0001 to 9999 as written (it has no year 0)
    const year = value.getUTCFullYear();
    if (!(year >= 1 && year <= 9999)) throw new RangeError(`no SQL literal for the time ${String(value)}`);
    return pg.escapeLiteral(value.toISOString());
  }
  if (Buffer.isBuffer(value)) return pg.escapeLiteral(`\\x${value.toString('hex')}`);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return pg.escapeLiteral(`{${value.map(arrayElement).join(',')}}`);
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return pg.escapeLiteral(String(value));
  if (typeof value === 'number' && Number.isFinite(value)) return pg.escapeLiteral(String(value));
  throw new TypeError(`no SQL literal for a value of type ${typeof value}`);
}

/**
 * `$n` placeholders of `sql` replaced by their values of `bind` as literals. The hub's statements
 * have no `$` inside quoted strings or comments (a placeholder there would be replaced too); a
 * placeholder with no value is an error, never a NULL.
 */
export const inline = (sql: string, bind: unknown[]): string =>
  sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= bind.length) throw new RangeError(`no value for $${n}`);
    return literal(bind[i]);
  });

/** The constraint a unique violation of PostgreSQL names, or undefined for any other error. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: unknown; constraint?: unknown } | undefined;
  return e?.code === '23505' ? String(e.constraint ?? '') : undefined;
}
