import type { Logger } from 'pino';
import type { StoredEvent } from '../domain/events.js';
import { type NotifyTarget, retryDelayMs, type TargetKind } from '../domain/notify.js';
import type { SqlPool } from '../store/db/sql-pool.js';
import type { AttemptRecord, DispatchStore } from '../store/notify/target-store.js';
import { readLogRange, readUserEvents } from '../store/outbox/event-log.js';

/** What became of one attempt to send an event to a target. */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  /** try again later: a 429, a 5xx, a timeout, a network error */
  | { kind: 'retry'; status?: number; error: string; retryAfterMs?: number }
  /** never again: the receiver refused it for good */
  | { kind: 'failed'; status?: number; error: string }
  /** the push service says the subscription is gone (404, 410): it is removed */
  | { kind: 'gone'; status: number }
  /** not sent, and not an attempt: a push while its user is online, or one past its time */
  | { kind: 'skip' };

/** How events reach one kind of target. */
export interface Channel {
  send(target: NotifyTarget, event: StoredEvent, attempt: number): Promise<SendOutcome>;
  /** the delays after each failed attempt; spent, the delivery has failed */
  retrySchedule: readonly number[];
  /** a target that failed every attempt this long is disabled (`onDisable`); none for push */
  disableAfterMs?: number;
}

export interface DispatcherOptions {
  sql: SqlPool;
  store: DispatchStore;
  channels: Record<TargetKind, Channel>;
  /** this node's name in leases: unique in the cluster */
  node: string;
  log: Logger;
  /** disables a webhook that failed for `disableAfterMs` and tells its owner (`webhook.disabled`) */
  onDisable(target: NotifyTarget): Promise<void>;
  /** how long a lease lasts; longer than a send's timeout, renewed while sending; @default 30000 */
  leaseMs?: number;
  /** the longest a send may take (the channels' timeout): a send starts only with this much lease left; @default 10000 */
  sendTimeoutMs?: number;
  /** how often this node looks for targets with work that nothing told it of; @default 1000 */
  pollMs?: number;
  /** targets this node sends to at once (one send at a time each); @default 64 */
  concurrency?: number;
  /** how long a target with nothing to do stays leased before it is released; @default 2000 */
  idleMs?: number;
  random?: () => number;
}

/** Events read per round of a target's first attempts. */
const EVENTS_PER_ROUND = 100;
/** Retries sent per round. */
const RETRIES_PER_ROUND = 20;

interface Worker {
  target: NotifyTarget;
  /** when this node's lease ends, by this node's clock (counted from before the statement that set it) */
  leaseEnds: number;
  /** something happened for its user since it last looked */
  woken: boolean;
  wake?: () => void;
}

/**
 * Sends each user's committed events to their webhooks and push subscriptions (PROTOCOL-PUSH.md),
 * from the event log, on every node, one node per target at a time (docs/notifications.md).
 *
 * A node leases a target (`notify_targets.claim_until`) when the event stream tells it that the
 * target's user has new events (`nudge`), or when its poll finds a target with work no node holds
 * (a retry due, events past the target's position: what a node that died left). While it holds
 * the lease it sends the user's events past the target's position in event-id order, one at a
 * time, and after each round writes the attempts and the new position in one statement, fenced by
 * the lease: a node that died mid-round left the position where it was, so the next holder sends
 * those events again (at least once; receivers deduplicate on the event id). A send starts only
 * with more lease left than a send can take, and the lease is renewed before, so two nodes never
 * send to one target at once. A failed attempt is retried on the channel's schedule, apart from the
 * first attempts, which go on in order.
 */
export class Dispatcher {
  private readonly workers = new Map<string, Worker>();
  private readonly pendingUsers = new Set<string>();
  private claimScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private readonly leaseMs: number;
  private readonly sendTimeoutMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly idleMs: number;
  private readonly random: () => number;

  constructor(private readonly o: DispatcherOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.sendTimeoutMs = o.sendTimeoutMs ?? 10_000;
    this.pollMs = o.pollMs ?? 1000;
    this.concurrency = o.concurrency ?? 64;
    this.idleMs = o.idleMs ?? 2000;
    this.random = o.random ?? Math.random;
    if (this.leaseMs < 2 * this.sendTimeoutMs) throw new Error('the lease must outlast two sends');
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.poll().finally(() => {
          if (!this.stopped) tick();
        });
      }, this.pollMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops taking work, lets the sends under way end (within their timeout) and gives the leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.workers.values()) w.wake?.();
    await Promise.allSettled([...this.running]);
  }

  /** Committed events, as this node's event stream hands them over: their users' targets have work. */
  nudge(events: readonly StoredEvent[]): void {
    if (this.stopped) return;
    for (const e of events) {
      for (const u of e.users) {
        const mine = [...this.workers.values()].filter((w) => w.target.userId === u);
        if (mine.length) {
          for (const w of mine) {
            w.woken = true;
            w.wake?.();
          }
        } else this.pendingUsers.add(u);
      }
    }
    if (this.pendingUsers.size && !this.claimScheduled) {
      this.claimScheduled = true;
      setImmediate(() => void this.claimPending());
    }
  }

  /** Users with new events whose targets this node does not hold: lease those no node holds. */
  private async claimPending(): Promise<void> {
    this.claimScheduled = false;
    const users = [...this.pendingUsers];
    this.pendingUsers.clear();
    const room = this.concurrency - this.workers.size;
    if (!users.length || room <= 0 || this.stopped) return;
    try {
      const began = Date.now();
      const targets = await this.o.store.claimForUsers(this.o.node, users, this.leaseMs, room);
      for (const t of targets) this.run(t, began);
    } catch (err) {
      this.o.log.warn({ err }, 'notify: leasing targets failed; the poll picks them up');
    }
  }

  /** Targets with work no node holds: retries due, and what a node that died left. */
  private async poll(): Promise<void> {
    const room = this.concurrency - this.workers.size;
    if (room <= 0 || this.stopped) return;
    try {
      const began = Date.now();
      const targets = await this.o.store.claimDue(this.o.node, this.leaseMs, room);
      for (const t of targets) this.run(t, began);
    } catch (err) {
      this.o.log.warn({ err }, 'notify: looking for targets with work failed');
    }
  }

  private run(target: NotifyTarget, leasedAt: number): void {
    const existing = this.workers.get(target.id);
    if (existing) {
      existing.leaseEnds = leasedAt + this.leaseMs;
      existing.woken = true;
      existing.wake?.();
      return;
    }
    const worker: Worker = { target, leaseEnds: leasedAt + this.leaseMs, woken: false };
    this.workers.set(target.id, worker);
    const done = this.work(worker)
      .catch((err) =>
        this.o.log.warn({ err, target: target.id }, 'notify: a target stopped; another round takes it up'),
      )
      .finally(() => {
        this.workers.delete(target.id);
        this.running.delete(done);
      });
    this.running.add(done);
  }

  /** Whether this node still holds the target with room for a send; renews the lease first if short. */
  private async holds(w: Worker): Promise<boolean> {
    if (this.stopped) return false;
    if (w.leaseEnds - Date.now() > this.sendTimeoutMs + this.leaseMs / 3) return true;
    const began = Date.now();
    const held = await this.o.store.renew(this.o.node, [w.target.id], this.leaseMs);
    if (!held.has(w.target.id)) return false;
    w.leaseEnds = began + this.leaseMs;
    return true;
  }

  private async work(w: Worker): Promise<void> {
    const { store, node } = this.o;
    try {
      for (;;) {
        w.woken = false;
        const retried = await this.retryRound(w);
        if (retried === 'lost') return;
        const sent = await this.firstRound(w);
        if (sent === 'lost') return;
        if (retried || sent) continue;
        if (w.woken) continue;
        // nothing to do: wait a while for more (a nudge ends the wait), then let the lease go
        const woken = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), this.idleMs);
          w.wake = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        w.wake = undefined;
        if (!woken || this.stopped) break;
        // what the owner changed meanwhile (a rotated secret, the events it takes) counts from now on
        const now = await store.reload(node, w.target.id);
        if (!now) return;
        w.target = now;
      }
    } finally {
      // a stopped node or an idle target: any node may take it at once
      await store.release(node, [w.target.id]).catch(() => {});
    }
  }

  /** Sends the due retries; whether there were any, or 'lost' when the target is no longer this node's. */
  private async retryRound(w: Worker): Promise<boolean | 'lost'> {
    const due = await this.o.store.dueRetries(w.target.id, RETRIES_PER_ROUND);
    if (!due.length) return false;
    const events = await this.eventsById(due.map((d) => d.eventId));
    const attempts: AttemptRecord[] = [];
    let outcome: 'ok' | 'lost' | 'end' = 'ok';
    for (const d of due) {
      const event = events.get(d.eventId);
      if (!event) continue; // not in the log: nothing to send (its retry is dropped below)
      if (!(await this.holds(w))) {
        outcome = 'lost';
        break;
      }
      const r = await this.attempt(w, event, d.attempt, attempts);
      if (r !== 'ok') {
        outcome = r;
        break;
      }
    }
    for (const d of due) {
      if (!events.has(d.eventId))
        attempts.push(
          this.record(d.eventId, 'unknown', d.attempt, { kind: 'failed', error: 'event not found' }),
        );
    }
    const saved = await this.save(w, attempts);
    if (saved === 'lost' || outcome === 'lost') return 'lost';
    if (outcome === 'end') return 'lost';
    return true;
  }

  /** Sends the first attempts of the events past the position, in order; whether there were any. */
  private async firstRound(w: Worker): Promise<boolean | 'lost'> {
    const t = w.target;
    const events = await readUserEvents(this.o.sql, t.userId, t.cursor, EVENTS_PER_ROUND);
    if (!events.length) return false;
    const attempts: AttemptRecord[] = [];
    let position = t.cursor;
    let outcome: 'ok' | 'lost' | 'end' = 'ok';
    for (const e of events) {
      if (t.events.includes(e.type)) {
        if (!(await this.holds(w))) {
          outcome = 'lost';
          break;
        }
        outcome = await this.attempt(w, e, 1, attempts);
        if (outcome === 'lost') break;
      }
      position = e.id;
      if (outcome === 'end') break;
    }
    const saved = await this.save(w, attempts, position);
    if (saved === 'lost' || outcome !== 'ok') return 'lost';
    return true;
  }

  /** One send and its record; 'end' when the target is gone or disabled, 'lost' if it could not be sent. */
  private async attempt(
    w: Worker,
    event: StoredEvent,
    attempt: number,
    out: AttemptRecord[],
  ): Promise<'ok' | 'end' | 'lost'> {
    const channel = this.o.channels[w.target.kind];
    let r: SendOutcome;
    try {
      r = await channel.send(w.target, event, attempt);
    } catch (err) {
      r = { kind: 'retry', error: err instanceof Error ? err.message : String(err) };
    }
    if (r.kind === 'skip') return 'ok';
    if (r.kind === 'gone') {
      await this.o.store.removeGone(w.target.id);
      return 'end';
    }
    const rec = this.record(event.id, event.type, attempt, r, channel.retrySchedule);
    out.push(rec);
    // failing since the first of an unbroken run of failures; a delivery ends the run
    if (rec.status === 'delivered') w.target.failingSince = null;
    else {
      w.target.failingSince ??= rec.at;
      const limit = channel.disableAfterMs;
      if (limit !== undefined && rec.at.getTime() - w.target.failingSince.getTime() >= limit) {
        await this.save(w, out);
        out.length = 0;
        await this.o.onDisable(w.target);
        return 'end';
      }
    }
    return 'ok';
  }

  private record(
    eventId: bigint,
    type: string,
    attempt: number,
    r: Exclude<SendOutcome, { kind: 'skip' } | { kind: 'gone' }>,
    schedule: readonly number[] = [],
  ): AttemptRecord {
    const at = new Date();
    const base = {
      eventId,
      type,
      attempt,
      at,
      responseStatus: r.kind === 'delivered' ? r.status : (r.status ?? null),
    };
    if (r.kind === 'delivered') return { ...base, status: 'delivered', error: null, nextAttemptAt: null };
    const delay = r.kind === 'retry' ? retryDelayMs(schedule, attempt, this.random()) : undefined;
    if (r.kind === 'retry' && delay !== undefined) {
      const wait = Math.max(delay, r.retryAfterMs ?? 0);
      return { ...base, status: 'retrying', error: r.error, nextAttemptAt: new Date(at.getTime() + wait) };
    }
    return { ...base, status: 'failed', error: r.error, nextAttemptAt: null };
  }

  /** Writes a round; reloads the target when a replay moved its position meanwhile. */
  private async save(w: Worker, attempts: AttemptRecord[], cursor?: bigint): Promise<'ok' | 'lost'> {
    if (!attempts.length && cursor === undefined) return 'ok';
    const t = w.target;
    const {
      held,
      moved,
      now: row,
    } = await this.o.store.save(
      this.o.node,
      t,
      attempts,
      attempts.length ? t.failingSince : undefined,
      cursor,
    );
    if (!held) return 'lost';
    if (row) refresh(t, row);
    if (cursor !== undefined && !moved) {
      const now = await this.o.store.reload(this.o.node, t.id);
      if (!now) return 'lost';
      w.target = now;
    } else if (cursor !== undefined) t.cursor = cursor;
    return 'ok';
  }

  private async eventsById(ids: bigint[]): Promise<Map<bigint, StoredEvent>> {
    const found = new Map<bigint, StoredEvent>();
    for (const id of ids) {
      const [e] = await readLogRange(this.o.sql, id - 1n, id, 1);
      if (e) found.set(e.id, e);
    }
    return found;
  }
}

/**
 * What the owner may change on a target while a node sends to it (its secrets, URL, keys and the
 * events it takes), taken into the node's copy. The position and the failures are the node's own.
 */
function refresh(t: NotifyTarget, row: NotifyTarget): void {
  t.events = row.events;
  t.url = row.url;
  t.secret = row.secret;
  t.previousSecret = row.previousSecret;
  t.previousSecretUntil = row.previousSecretUntil;
  t.endpoint = row.endpoint;
  t.p256dh = row.p256dh;
  t.auth = row.auth;
  t.whileOnline = row.whileOnline;
}
