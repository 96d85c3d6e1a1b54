import { createHash } from 'node:crypto';
import type { EventDraft } from '../../domain/events.js';
import type { CommandRequest } from '../../domain/market.js';
import type {
  ListingRepo,
  MarketRules,
  MeterRepo,
  SwapRepo,
  TradeRepo,
  UnitOfWork,
} from '../../domain/unit-of-work.js';
import {
  currentCarrier,
  inSpan,
  inTrace,
  type TraceCarrier,
  tracingEnabled,
} from '../../telemetry/trace-context.js';
import type { SqlPool } from '../db/sql-pool.js';
import { eventsInsert } from '../outbox/event-log.js';
import { CommandStatements } from './command-statements.js';

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

/** What a key is bound to: the command and its canonical payload. */
export const hashPayload = (command: string, payload: unknown) =>
  createHash('sha256').update(command).update('\0').update(canonicalJson(payload)).digest();

/** An idempotency record to store with the transaction. */
interface Answer {
  userId: string;
  key: string;
  command: string;
  hash: Buffer;
  response: unknown;
}

/**
 * One transaction of commands as the store commits it: its statements, the events its commands
 * emitted (the outbox) and their idempotency answers, all sent in one statement with the COMMIT
 * (`commit`). A transaction usually carries one command; a group commit carries several
 * (`commands`).
 */
export class CommandTx {
  private time: Date | undefined;
  /**
   * The transaction's time, read when first asked for. The commands ask once they hold their first
   * lock (the listing, the swap), so a command that waited for a lock judges a gate or an offer's
   * expiry by the time it got it: read before the wait, an accept queued behind a long group commit
   * could trade after the gate had closed, with the sweep skipping the locked listing meanwhile.
   */
  get now(): Date {
    this.time ??= new Date();
    return this.time;
  }
  readonly statements: CommandStatements;
  private readonly events: EventDraft[] = [];
  /** while tracing is on: the trace context active where each event was emitted, stored with it */
  private traces: (TraceCarrier | undefined)[] | undefined;
  private readonly answers: Answer[] = [];
  /** the commands the transaction carries */
  commands = 1;

  constructor(
    sql: SqlPool,
    readonly rules: MarketRules,
  ) {
    this.statements = new CommandStatements(sql);
  }

  /** A unit of work of this transaction over the repositories given; what it emits is committed with it. */
  uow(
    repos: { listings: ListingRepo; swaps: SwapRepo; meters: MeterRepo; trades: TradeRepo },
    emit = (e: EventDraft) => this.emit(e),
  ): UnitOfWork {
    const tx = this;
    return {
      get now() {
        return tx.now;
      },
      rules: this.rules,
      ...repos,
      emit,
    };
  }

  emit(...events: EventDraft[]): void {
    this.events.push(...events);
    if (tracingEnabled()) {
      const carrier = currentCarrier();
      this.traces ??= [];
      for (let i = 0; i < events.length; i++) this.traces.push(carrier);
    }
  }

  /** Stores `response` as the answer to `req` (if it has a key), with the commit. */
  answer(req: CommandRequest, response: unknown): void {
    if (req.key === undefined) return;
    this.answers.push({
      userId: req.userId,
      key: req.key,
      command: req.command,
      hash: hashPayload(req.command, req.payload),
      response,
    });
  }

  get eventCount(): number {
    return this.events.length;
  }

  /**
   * The pending writes, the events and the idempotency records, in one statement sent with the
   * COMMIT; the whole transaction when it read nothing.
   */
  async commit(): Promise<void> {
    const { events, answers } = this;
    // $1 is the events' time, bound only when there are events
    const bind: unknown[] = events.length ? [this.now] : [];
    const parts: string[] = [];
    if (events.length) parts.push(eventsInsert(events, bind, this.traces));
    parts.push(...this.statements.take(bind));
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
    if (!inTrace()) return this.statements.commit(parts, bind);
    await inSpan('commit', { attributes: { 'renex.events': events.length } }, () =>
      this.statements.commit(parts, bind),
    );
  }

  rollback(): Promise<void> {
    return this.statements.rollback();
  }
}
