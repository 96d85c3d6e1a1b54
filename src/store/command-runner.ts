import { createHash } from 'node:crypto';
import { QueryTypes, type Sequelize, UniqueConstraintError } from 'sequelize';
import { HubError } from '../domain/errors.js';
import type { EventDraft } from '../domain/events.js';
import type { MarketRules, UnitOfWork } from '../domain/unit-of-work.js';
import { eventsInsert } from './event-log.js';
import { listingRepo } from './listing-repo.js';
import { Session } from './session.js';
import { SWAP_CONSTRAINT_ERRORS, swapRepo } from './swap-repo.js';

/** One command of one user; `key` is its requestId or Idempotency-Key. */
export interface CommandRequest {
  userId: string;
  /** the command name, part of what a key is bound to */
  command: string;
  key?: string;
  /** the parsed payload without its key; a repeat of the key with another payload is CONFLICT */
  payload: unknown;
}

/**
 * JSON with object keys sorted and bigints as text, so equal parsed payloads hash equally
 * whatever their key order or spelling ("12.5" and 12.50 are one volume).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'bigint'
      ? v.toString()
      : v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, (v as Record<string, unknown>)[k]]),
          )
        : v,
  );
}

const hashPayload = (command: string, payload: unknown) =>
  createHash('sha256').update(command).update('\0').update(canonicalJson(payload)).digest();

/** A constraint a concurrent command tripped, as the answer the losing command gets. */
function raced(err: unknown): unknown {
  const constraint =
    err instanceof UniqueConstraintError ? (err.parent as { constraint?: string }).constraint : undefined;
  const answer = constraint ? SWAP_CONSTRAINT_ERRORS[constraint] : undefined;
  return answer ? answer() : err;
}

interface StoredAnswer {
  command: string;
  payload_hash: Buffer;
  response: unknown;
}

/**
 * Runs domain commands: one transaction holding the changes, their events (the outbox) and the
 * idempotency record with the answer (see Session for how few round trips that takes). A repeated key returns the stored answer and does nothing.
 * `committed` is told after each commit that appended events, so the relay publishes at once.
 */
export class CommandRunner {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly rules: MarketRules,
    private readonly committed: () => void = () => {},
  ) {}

  private observer:
    | { transactionSeconds: { observe(v: number): void }; eventsAppended: { inc(n: number): void } }
    | undefined;

  /** Reports each transaction's duration and the events it appended. */
  observe(observer: CommandRunner['observer']): void {
    this.observer = observer;
  }

  async run<R>(req: CommandRequest, fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    if (req.key === undefined) return this.system(fn);
    const hash = hashPayload(req.command, req.payload);
    const answer = { userId: req.userId, key: req.key, command: req.command, hash };
    try {
      // No lookup first: a repeat is rare, and its transaction fails on the stored key and is rolled back.
      return await this.transact(fn, answer);
    } catch (err) {
      // The key was used before (a retry) or meanwhile (a concurrent retry): its answer wins, and
      // this attempt, rolled back, did nothing.
      if (err instanceof UniqueConstraintError || err instanceof HubError) {
        const winner = await this.storedAnswer(req.userId, req.key);
        if (winner) return this.replay<R>(winner, req.command, hash);
      }
      throw raced(err);
    }
  }

  /** A command of the hub itself (sweeps): no user, no idempotency key. */
  system<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    return this.transact(fn).catch((err) => {
      throw raced(err);
    });
  }

  private async transact<R>(
    fn: (uow: UnitOfWork) => Promise<R>,
    answer?: { userId: string; key: string; command: string; hash: Buffer },
  ): Promise<R> {
    const events: EventDraft[] = [];
    const began = performance.now();
    const session = new Session(this.sequelize);
    let result: R;
    try {
      const now = new Date();
      const uow: UnitOfWork = {
        now,
        rules: this.rules,
        listings: listingRepo(session),
        swaps: swapRepo(session),
        emit: (e) => void events.push(e),
      };
      result = await fn(uow);
      await this.finish(session, now, events, answer && { ...answer, response: result });
    } catch (err) {
      await session.rollback();
      throw err;
    }
    this.observer?.transactionSeconds.observe((performance.now() - began) / 1000);
    if (events.length) {
      this.observer?.eventsAppended.inc(events.length);
      this.committed();
    }
    return result;
  }

  /**
   * The command's pending writes, its events and its idempotency record, in one statement sent
   * with the COMMIT; the whole command when it read nothing.
   */
  private async finish(
    session: Session,
    at: Date,
    events: EventDraft[],
    answer?: { userId: string; key: string; command: string; hash: Buffer; response: unknown },
  ): Promise<void> {
    // $1 is the events' time, bound only when there are events
    const bind: unknown[] = events.length ? [at] : [];
    const parts: string[] = [];
    if (events.length) parts.push(eventsInsert(events, bind));
    parts.push(...session.take(bind));
    if (answer) {
      bind.push(answer.userId, answer.key, answer.command, answer.hash, JSON.stringify(answer.response));
      const p = bind.length;
      parts.push(
        `INSERT INTO idempotency_keys (user_id, key, command, payload_hash, response)
         VALUES ($${p - 4}, $${p - 3}, $${p - 2}, $${p - 1}, $${p}::jsonb)`,
      );
    }
    await session.commit(parts, bind);
  }

  private async storedAnswer(userId: string, key: string): Promise<StoredAnswer | undefined> {
    const [row] = await this.sequelize.query<StoredAnswer>(
      'SELECT command, payload_hash, response FROM idempotency_keys WHERE user_id = $1 AND key = $2',
      { bind: [userId, key], type: QueryTypes.SELECT },
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
    const [, meta] = await this.sequelize.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - ($1::int * interval '1 millisecond')`,
      { bind: [maxAgeMs] },
    );
    return (meta as { rowCount?: number })?.rowCount ?? 0;
  }
}
