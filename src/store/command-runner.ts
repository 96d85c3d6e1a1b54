import { createHash } from 'node:crypto';
import { QueryTypes, type Sequelize, UniqueConstraintError } from 'sequelize';
import { HubError } from '../domain/errors.js';
import type { EventDraft } from '../domain/events.js';
import type { SwapView } from '../domain/swap.js';
import type { MarketRules, UnitOfWork } from '../domain/unit-of-work.js';
import { AcceptGroups } from './accept-groups.js';
import { eventsInsert } from './event-log.js';
import { listingRepo, writeListingUpdate } from './listing-repo.js';
import { Session } from './session.js';
import {
  lockOpenOfListingExcept,
  lockSwapsOfListing,
  SWAP_CONSTRAINT_ERRORS,
  swapRepo,
  writeSwapUpdate,
} from './swap-repo.js';

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

/** The idempotency record of a command, but for its answer. */
interface PendingAnswer {
  userId: string;
  key: string;
  command: string;
  hash: Buffer;
}

const answerOf = (req: CommandRequest & { key: string }): PendingAnswer => ({
  userId: req.userId,
  key: req.key,
  command: req.command,
  hash: hashPayload(req.command, req.payload),
});

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
  private readonly groups: AcceptGroups;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly rules: MarketRules,
    private readonly committed: () => void = () => {},
  ) {
    this.groups = new AcceptGroups(this, sequelize);
  }

  /** An accept, run in a group with the others of its listing waiting on this node (AcceptGroups). */
  runAccept(
    req: CommandRequest,
    swapId: string,
    fn: (uow: UnitOfWork) => Promise<SwapView>,
  ): Promise<SwapView> {
    return this.groups.accept(req, swapId, fn);
  }

  /** A swap this node proposed or countered: its accept will not need to look its listing up. */
  seen(swap: { id: string; listingId: string }): void {
    this.groups.remember(swap);
  }

  private observer:
    | {
        transactionSeconds: { observe(v: number): void };
        eventsAppended: { inc(n: number): void };
        acceptGroupSize?: { observe(v: number): void };
      }
    | undefined;

  /** Reports each transaction's duration and the events it appended. */
  observe(observer: CommandRunner['observer']): void {
    this.observer = observer;
  }

  async run<R>(req: CommandRequest, fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    const { key } = req;
    if (key === undefined) return this.system(fn);
    try {
      // No lookup first: a repeat is rare, and its transaction fails on the stored key and is rolled back.
      return await this.transact(fn, [answerOf({ ...req, key })]);
    } catch (err) {
      return this.settle<R>(req, err);
    }
  }

  /**
   * The answer to a command whose attempt failed and changed nothing. If its key was used before
   * (a retry) or meanwhile (a concurrent retry), the stored answer wins; otherwise the error.
   */
  async settle<R>(req: CommandRequest, err: unknown): Promise<R> {
    if (req.key !== undefined && (err instanceof UniqueConstraintError || err instanceof HubError)) {
      const winner = await this.storedAnswer(req.userId, req.key);
      if (winner) return this.replay<R>(winner, req.command, hashPayload(req.command, req.payload));
    }
    throw raced(err);
  }

  /**
   * Accepts of swaps of one listing, in one transaction: the listing and the swaps locked once,
   * each accept run in turn against the state the ones before it left, every write, event and
   * answer sent with one COMMIT. An accept that is refused changes nothing and is answered its
   * error (through `settle`); if the transaction fails as a whole, it throws and nothing of it
   * stays. The same rules as one accept per transaction, one lock hold for many.
   */
  async runAccepts(
    listingId: string,
    accepts: { req: CommandRequest; swapId: string; fn: (uow: UnitOfWork) => Promise<SwapView> }[],
  ): Promise<({ ok: true; value: SwapView } | { ok: false; error: unknown })[]> {
    const began = performance.now();
    const session = new Session(this.sequelize);
    try {
      const now = new Date();
      const locked = await lockSwapsOfListing(
        session,
        listingId,
        accepts.map((a) => a.swapId),
      );
      if (!locked) throw new Error('none of the grouped swaps is on the listing');
      let listing = locked.listing;
      let swaps = new Map(locked.swaps.map((s) => [s.id, s]));
      // the open swaps any of these accepts may void: the listing can fall to available minus them all
      const floor = listing.availableWh - locked.swaps.reduce((sum, s) => sum + s.volumeWh, 0n);
      for (const s of await lockOpenOfListingExcept(session, listingId, floor, [...swaps.keys()]))
        swaps.set(s.id, s);

      const notInGroup = () => Promise.reject(new Error('not available to a grouped accept'));
      const events: EventDraft[] = [];
      const answers: (PendingAnswer & { response: unknown })[] = [];
      const outcomes: ({ ok: true; value: SwapView } | { ok: false; error: unknown })[] = [];
      for (const a of accepts) {
        const mark = session.mark();
        const flushes = session.flushes;
        const before = { listing, swaps: new Map(swaps) };
        const own: EventDraft[] = [];
        const uow: UnitOfWork = {
          now,
          rules: this.rules,
          emit: (e) => void own.push(e),
          listings: {
            insert: notInGroup,
            lock: notInGroup,
            lockForProposal: notInGroup,
            lockGateClosed: notInGroup,
            update: async (l) => {
              listing = l;
              await writeListingUpdate(session, l);
            },
          },
          swaps: {
            insert: notInGroup,
            lock: notInGroup,
            addOffer: notInGroup,
            lockExpired: notInGroup,
            lockWithListing: async (id) => {
              const swap = swaps.get(id);
              return swap && swap.listingId === listing.id ? { listing, swap } : undefined;
            },
            lockOpenOfListing: async (id, overWh, exceptId) =>
              [...swaps.values()]
                .filter(
                  (s) =>
                    s.listingId === id &&
                    s.status === 'open' &&
                    s.volumeWh > (overWh ?? 0n) &&
                    s.id !== exceptId,
                )
                .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)),
            update: async (s) => {
              swaps.set(s.id, s);
              await writeSwapUpdate(session, s);
            },
          },
        };
        try {
          const value = await a.fn(uow);
          events.push(...own);
          if (a.req.key !== undefined)
            answers.push({ ...answerOf({ ...a.req, key: a.req.key }), response: value });
          outcomes.push({ ok: true, value });
        } catch (error) {
          // a refusal comes before any write; anything else, or writes already sent, ends the group
          if (!(error instanceof HubError) || session.flushes !== flushes) throw error;
          session.reset(mark);
          listing = before.listing;
          swaps = before.swaps;
          outcomes.push({ ok: false, error });
        }
      }
      await this.finish(session, now, events, answers);
      this.committedWith(began, events.length);
      this.observer?.acceptGroupSize?.observe(accepts.length);
      return outcomes;
    } catch (err) {
      await session.rollback();
      throw err;
    }
  }

  /** A command of the hub itself (sweeps): no user, no idempotency key. */
  system<R>(fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    return this.transact(fn).catch((err) => {
      throw raced(err);
    });
  }

  private async transact<R>(fn: (uow: UnitOfWork) => Promise<R>, answers: PendingAnswer[] = []): Promise<R> {
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
      await this.finish(
        session,
        now,
        events,
        answers.map((a) => ({ ...a, response: result })),
      );
    } catch (err) {
      await session.rollback();
      throw err;
    }
    this.committedWith(began, events.length);
    return result;
  }

  private committedWith(began: number, events: number) {
    this.observer?.transactionSeconds.observe((performance.now() - began) / 1000);
    if (events) {
      this.observer?.eventsAppended.inc(events);
      this.committed();
    }
  }

  /**
   * The command's pending writes, its events and its idempotency record, in one statement sent
   * with the COMMIT; the whole command when it read nothing.
   */
  private async finish(
    session: Session,
    at: Date,
    events: EventDraft[],
    answers: (PendingAnswer & { response: unknown })[],
  ): Promise<void> {
    // $1 is the events' time, bound only when there are events
    const bind: unknown[] = events.length ? [at] : [];
    const parts: string[] = [];
    if (events.length) parts.push(eventsInsert(events, bind));
    parts.push(...session.take(bind));
    if (answers.length) {
      const rows = answers.map((a) => {
        bind.push(a.userId, a.key, a.command, a.hash, JSON.stringify(a.response));
        const p = bind.length;
        return `($${p - 4}, $${p - 3}, $${p - 2}, $${p - 1}, $${p}::jsonb)`;
      });
      parts.push(
        `INSERT INTO idempotency_keys (user_id, key, command, payload_hash, response) VALUES ${rows.join(', ')}`,
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
