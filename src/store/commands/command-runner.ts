import { HubError } from '../../domain/errors.js';
import type { CommandPort, CommandRequest } from '../../domain/market.js';
import type { MarketRules, UnitOfWork } from '../../domain/unit-of-work.js';
import { inSpan, inTrace } from '../../telemetry/trace-context.js';
import { type SqlPool, uniqueViolation } from '../db/sql-pool.js';
import { isUnavailable, nothingCommitted } from '../db/unavailable.js';
import { CommandTx, hashPayload } from './command-tx.js';
import { listingRepo } from './listing-repo.js';
import { meterRepo } from './meter-repo.js';
import { SWAP_CONSTRAINT_ERRORS, swapRepo } from './swap-repo.js';
import { tradeRepo } from './trade-repo.js';

export { canonicalJson } from './command-tx.js';
export type { CommandRequest };

/** A constraint a concurrent command tripped, as the answer the losing command gets. */
function raced(err: unknown): unknown {
  const constraint = uniqueViolation(err);
  const answer = constraint === undefined ? undefined : SWAP_CONSTRAINT_ERRORS[constraint];
  return answer ? answer() : err;
}

/**
 * A commit whose connection failed (isUnavailable) for a reason that does not say the transaction
 * was rolled back: the COMMIT may have been carried out. `original` keeps the driver's error
 * (isUnavailable follows it).
 */
export class CommitUnknown extends Error {
  override name = 'CommitUnknown';
  constructor(readonly original: unknown) {
    super('the connection failed while committing');
  }
}

/** errors that say PostgreSQL rolled the transaction back: the commit did not happen */
const ROLLED_BACK = new Set(['40P01', '40001', '57014', '25P03']);

function commitFailure(err: unknown): unknown {
  if (!isUnavailable(err)) return err;
  const code =
    (err as { code?: string; original?: { code?: string } }).code ??
    (err as { original?: { code?: string } }).original?.code;
  return code !== undefined && ROLLED_BACK.has(code) ? err : new CommitUnknown(err);
}

/** What a runner reports of its transactions (HubMetrics). */
export interface RunnerObserver {
  transactionSeconds: { observe(v: number): void };
  eventsAppended: { inc(n: number): void };
  /** the commands of each transaction that carries more than one (group commit, AcceptGroups) */
  acceptGroupSize?: { observe(v: number): void };
}

interface StoredAnswer {
  command: string;
  payload_hash: Buffer;
  response: unknown;
}

/**
 * Runs domain commands: one transaction holding the changes, their events (the outbox) and the
 * idempotency record with the answer (see CommandStatements for how few round trips that takes). A repeated key returns the stored answer and does nothing.
 * `committed` is told after each commit that appended events, so the relay publishes at once.
 * Group commit wraps it (AcceptGroups) through `transaction` and `settle`.
 */
export class CommandRunner implements CommandPort {
  /** @param observer told each transaction's duration and the events it appended */
  constructor(
    private readonly sql: SqlPool,
    private readonly rules: MarketRules,
    private readonly committed: () => void,
    private readonly observer?: RunnerObserver,
  ) {}

  async run<R>(req: CommandRequest, fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    if (req.key === undefined) return this.system(fn);
    try {
      // No lookup first: a repeat is rare, and its transaction fails on the stored key and is rolled back.
      return await this.transact(fn, req);
    } catch (err) {
      return this.settle<R>(req, err);
    }
  }

  /**
   * A command of the store's own (an operator's curtailment) in one transaction with its events and,
   * given a key, its idempotency record, as `run` does for the market's commands.
   */
  async runInTransaction<R>(req: CommandRequest, work: (tx: CommandTx) => Promise<R>): Promise<R> {
    try {
      return await this.transaction(async (tx) => {
        const result = await work(tx);
        tx.answer(req, result);
        return result;
      });
    } catch (err) {
      return this.settle<R>(req, err);
    }
  }

  /**
   * The answer to a command whose attempt failed and changed nothing. If its key was used before
   * (a retry) or meanwhile (a concurrent retry), the stored answer wins; otherwise the error.
   */
  async settle<R>(req: CommandRequest, err: unknown): Promise<R> {
    if (err instanceof CommitUnknown) return this.settleUnknown<R>(req);
    if (req.key !== undefined && (uniqueViolation(err) !== undefined || err instanceof HubError)) {
      const winner = await this.storedAnswer(req.userId, req.key);
      if (winner) return this.replay<R>(winner, req.command, hashPayload(req.command, req.payload));
    }
    throw raced(err);
  }

  /**
   * The connection was lost with the COMMIT on its way: PostgreSQL may have committed. A probe on
   * another connection tells (committedAnswer): the stored answer if it did, the usual UNAVAILABLE
   * (nothing was committed) if it did not; only when the probe cannot tell either is the answer
   * UNAVAILABLE with `details.outcome: "unknown"` instead of "nothing was committed".
   */
  private async settleUnknown<R>(req: CommandRequest): Promise<R> {
    const hash = hashPayload(req.command, req.payload);
    const known =
      req.key === undefined ? undefined : await this.committedAnswer(req, hash).catch(() => undefined);
    if (known === 'none') throw nothingCommitted();
    if (known) return this.replay<R>(known, req.command, hash);
    throw new HubError(
      'UNAVAILABLE',
      'The connection to the database was lost as the command committed: it may have been committed. ' +
        'Send it again with the same requestId to know',
      { outcome: 'unknown' },
    );
  }

  /**
   * The answer `req`'s transaction stored, once that transaction has ended, or 'none' when it
   * stored none (it did not commit). An insert of the same key waits, at the key's unique index,
   * for a transaction still writing it (a COMMIT the server is carrying out, or one it has not yet
   * seen fail), then conflicts if that one committed; the probe itself is rolled back.
   */
  private async committedAnswer(req: CommandRequest, hash: Buffer): Promise<StoredAnswer | 'none'> {
    const c = await this.sql.connect();
    try {
      await c.script('BEGIN');
      const probe = await c.rows(
        `INSERT INTO idempotency_keys (user_id, key, command, payload_hash, response)
         VALUES ($1, $2, $3, $4, 'null'::jsonb) ON CONFLICT DO NOTHING RETURNING 1 AS inserted`,
        [req.userId, req.key, req.command, hash],
      );
      await c.script('ROLLBACK');
      c.release();
      if (probe.length) return 'none';
    } catch (err) {
      c.release(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    return (await this.storedAnswer(req.userId, req.key!)) ?? 'none';
  }

  /** A command of the hub itself (sweeps): no user, no idempotency key. */
  system<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    return this.transact(fn).catch((err) => {
      throw raced(err);
    });
  }

  private transact<R>(fn: (uow: UnitOfWork) => Promise<R>, req?: CommandRequest): Promise<R> {
    return this.transaction(async (tx) => {
      const { statements } = tx;
      const result = await fn(
        tx.uow({
          listings: listingRepo(statements),
          swaps: swapRepo(statements),
          meters: meterRepo(statements),
          trades: tradeRepo(statements),
        }),
      );
      if (req) tx.answer(req, result);
      return result;
    });
  }

  /**
   * `work` in one transaction (CommandTx), committed when it returns with the events and answers
   * it gathered, rolled back (and the error thrown) if it throws. What every command runs in.
   */
  async transaction<T>(work: (tx: CommandTx) => Promise<T>): Promise<T> {
    if (!inTrace()) return this.untracedTransaction(work);
    return inSpan('transaction', {}, () => this.untracedTransaction(work));
  }

  private async untracedTransaction<T>(work: (tx: CommandTx) => Promise<T>): Promise<T> {
    const began = performance.now();
    const tx = new CommandTx(this.sql, this.rules);
    let result: T;
    try {
      result = await work(tx);
    } catch (err) {
      await tx.rollback();
      throw err;
    }
    try {
      await tx.commit();
    } catch (err) {
      await tx.rollback();
      throw commitFailure(err);
    }
    this.observer?.transactionSeconds.observe((performance.now() - began) / 1000);
    if (tx.eventCount) {
      this.observer?.eventsAppended.inc(tx.eventCount);
      this.committed();
    }
    if (tx.commands > 1) this.observer?.acceptGroupSize?.observe(tx.commands);
    return result;
  }

  private async storedAnswer(userId: string, key: string): Promise<StoredAnswer | undefined> {
    const [row] = await this.sql.rows<StoredAnswer>(
      'SELECT command, payload_hash, response FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      [userId, key],
    );
    return row;
  }

  private replay<R>(stored: StoredAnswer, command: string, hash: Buffer): R {
    if (stored.command !== command || !Buffer.from(stored.payload_hash).equals(hash)) {
      throw new HubError('CONFLICT', 'This requestId was already used with a different payload');
    }
    return stored.response as R;
  }

  /** Removes answers older than `maxAgeMs`; returns how many. */
  async forgetAnswers(maxAgeMs: number): Promise<number> {
    return this.sql.count(
      `DELETE FROM idempotency_keys WHERE created_at < now() - ($1::int * interval '1 millisecond')`,
      [maxAgeMs],
    );
  }
}
