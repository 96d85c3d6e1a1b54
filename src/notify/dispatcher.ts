import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import type { StoredEvent } from '../domain/events.js';
import type { NotifyTarget, TargetKind } from '../domain/notify.js';
import type { SqlPool } from '../store/db/sql-pool.js';
import type { DispatchStore, Leased } from '../store/notify/dispatch-store.js';
import type { Channel } from './attempts.js';
import { KnownTargets } from './known-targets.js';
import { type Worker, type WorkerContext, work } from './target-worker.js';

export interface DispatcherOptions {
  sql: SqlPool;
  store: DispatchStore;
  channels: Record<TargetKind, Channel>;
  /** this node's name in leases: unique in the cluster */
  node: string;
  log: Logger;
  /**
   * disables a webhook that failed since before `cutoff`, if `token` still holds it, and tells its
   * owner (`webhook.disabled`)
   */
  onDisable(target: NotifyTarget, token: string, cutoff: Date): Promise<void>;
  /** how long a lease lasts; longer than a send's timeout, renewed while sending; @default 30000 */
  leaseMs?: number;
  /** the longest a send may take (the channels' timeout): a send starts only with this much lease left; @default 10000 */
  sendTimeoutMs?: number;
  /** how often this node looks for targets with work that nothing told it of; @default 1000 */
  pollMs?: number;
  /** requests this node has in flight at once (one at a time per target); it holds at most 4 times as many targets; @default 256 */
  concurrency?: number;
  /** how long a target with nothing to do stays leased before it is released; @default 2000 */
  idleMs?: number;
  /** how long the delivery log is kept; @default 30 days */
  keepLogMs?: number;
  random?: () => number;
  /**
   * resolves once the channels' sender can send (its thread started): a send's time, and the lease
   * it needs, count from then; @default ready at once
   */
  senderReady?: () => Promise<void>;
}

/** Targets the safety-net sweep looks at per poll. */
const SWEEP_CHUNK = 500;
/** How often a node prunes the delivery log, and how much at once. */
const PRUNE_EVERY_MS = 600_000;
const PRUNE_BATCH = 10_000;

/**
 * Sends each user's committed events to their webhooks and push subscriptions (PROTOCOL-PUSH.md),
 * from the event log, on every node, one node per target at a time (docs/notifications.md).
 *
 * A node leases a target (`notify_targets.claim_until`, with a token per claim) when the event
 * stream tells it that the target's user has new events (`nudge`), or when its poll finds a target
 * that needs a node: a lease that ran out (a node died or stopped) or a retry due; a slow sweep over
 * all targets is the safety net. While it holds the lease it sends the user's events past the
 * target's position in event-id order, one at a time, and after each round writes the attempts and
 * the new position in one statement, fenced by the claim's token: a node that died mid-round left
 * the position where it was, so the next holder sends those events again (at least once; receivers
 * deduplicate on the event id). A send starts only with more lease left than a send can take, and
 * the lease is renewed before, so two nodes never send to one target at once. A failed attempt is
 * retried on the channel's schedule, apart from the first attempts, which go on in order. A target
 * is let go only when it has nothing left to do, checked in the statement that lets it go.
 */
export class Dispatcher {
  private readonly workers = new Map<string, Worker>();
  private readonly pendingUsers = new Set<string>();
  private claimScheduled = false;
  /** the one claim statement in flight: claims go one at a time, so `maxTargets` holds */
  private claiming: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  private sweepAfter: string | null = null;
  /** the targets of users that have one: only their events need a lease */
  private readonly known = new KnownTargets();
  private prunedAt = 0;
  private readonly leaseMs: number;
  private readonly sendTimeoutMs: number;
  private readonly pollMs: number;
  /** the sends in flight, at most `concurrency`, first come first served */
  private readonly sends: LimitFunction;
  /** targets held at once */
  private readonly maxTargets: number;
  private readonly idleMs: number;
  private readonly keepLogMs: number;
  private readonly random: () => number;

  /** what the targets' workers need of this dispatcher */
  private readonly ctx: WorkerContext;

  constructor(private readonly o: DispatcherOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.sendTimeoutMs = o.sendTimeoutMs ?? 10_000;
    this.pollMs = o.pollMs ?? 1000;
    const concurrency = o.concurrency ?? 256;
    this.sends = pLimit(concurrency);
    this.maxTargets = 4 * concurrency;
    this.idleMs = o.idleMs ?? 2000;
    this.keepLogMs = o.keepLogMs ?? 30 * 86_400_000;
    this.random = o.random ?? Math.random;
    if (this.leaseMs < 2 * this.sendTimeoutMs) throw new Error('the lease must outlast two sends');
    this.ctx = {
      sql: o.sql,
      store: o.store,
      channels: o.channels,
      log: o.log,
      onDisable: o.onDisable,
      leaseMs: this.leaseMs,
      sendTimeoutMs: this.sendTimeoutMs,
      idleMs: this.idleMs,
      random: this.random,
      sends: this.sends,
      senderReady: o.senderReady ?? (async () => {}),
      stopped: () => this.stopped,
      requeue: (users) => this.requeue(users),
    };
  }

  start(): void {
    this.claim(() =>
      this.learnUsers().catch((err) => this.o.log.warn({ err }, 'notify: reading targets failed')),
    );
    const tick = () => {
      this.timer = setTimeout(() => {
        const round = this.poll().finally(() => {
          this.running.delete(round);
          if (!this.stopped) tick();
        });
        this.running.add(round);
      }, this.pollMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops taking work, lets the sends under way end (within their timeout) and hands the leases on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.workers.values()) w.wake?.();
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Committed events, as this node's event stream hands them over: their users' targets have work. */
  nudge(events: readonly StoredEvent[]): void {
    if (this.stopped) return;
    const users = new Set(events.flatMap((e) => e.users));
    if (!users.size) return;
    for (const w of this.workers.values()) {
      if (users.has(w.target.userId)) {
        w.woken = true;
        w.wake?.();
      }
    }
    // and a lease on every other target of theirs that no node holds (a user may have several)
    // (none when this node holds every target of theirs it knows: the stream's common case)
    this.requeue([...users].filter((u) => this.known.hasUnheld(u, (id) => this.workers.has(id))));
  }

  /** Runs `fn` (a claim) after the claims before it, counted among the work a stop waits for. */
  private claim(fn: () => Promise<void>): void {
    const next = this.claiming.then(fn);
    this.claiming = next.catch(() => {});
    const done = next.finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Users with new events whose targets this node does not hold: lease those no node holds. */
  private async claimPending(): Promise<void> {
    this.claimScheduled = false;
    const users = [...this.pendingUsers];
    this.pendingUsers.clear();
    const room = this.maxTargets - this.workers.size;
    if (!users.length || this.stopped) return;
    if (room <= 0) {
      for (const u of users) this.pendingUsers.add(u); // the next poll tries again
      return;
    }
    try {
      const began = Date.now();
      const leased = await this.o.store.claimForUsers(this.o.node, users, this.leaseMs, room);
      for (const l of leased) this.run(l, began);
    } catch (err) {
      for (const u of users) this.pendingUsers.add(u);
      this.o.log.warn({ err }, 'notify: leasing targets failed; the next poll tries again');
    }
  }

  /** Targets that need a node; then the sweep's next chunk; now and then the log's pruning. */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.pendingUsers.size) this.claim(() => this.claimPending());
    await new Promise<void>((resolve) =>
      this.claim(async () => {
        try {
          await this.pollOnce();
        } finally {
          resolve();
        }
      }),
    );
  }

  private async pollOnce(): Promise<void> {
    const { store, node } = this.o;
    try {
      await this.learnUsers();
      let room = this.maxTargets - this.workers.size;
      if (room > 0 && !this.stopped) {
        const began = Date.now();
        const leased = await store.claimDue(node, this.leaseMs, room);
        for (const l of leased) this.run(l, began);
        room -= leased.length;
      }
      if (room > 0 && !this.stopped) {
        const began = Date.now();
        const { leased, last } = await store.sweep(node, this.sweepAfter, SWEEP_CHUNK, room, this.leaseMs);
        this.sweepAfter = last;
        for (const l of leased) this.run(l, began);
      }
      if (Date.now() - this.prunedAt > PRUNE_EVERY_MS && !this.stopped) {
        this.prunedAt = Date.now();
        await store.prune(new Date(Date.now() - this.keepLogMs), PRUNE_BATCH);
      }
    } catch (err) {
      this.o.log.warn({ err }, 'notify: looking for targets with work failed');
    }
  }

  /** Learns the targets created since the last look: a user learned now gets a lease at once. */
  private async learnUsers(): Promise<void> {
    this.requeue(await this.known.update(this.o.store));
  }

  private run({ target, token }: Leased, leasedAt: number): void {
    if (this.stopped) {
      void this.o.store.expire(target.id, token).catch(() => {});
      return;
    }
    const existing = this.workers.get(target.id);
    if (existing) {
      // this node's worker outlived its lease and the target came back to this node: it goes on with
      // the new claim, from the position as it is now (another node may have moved it meanwhile)
      existing.token = token;
      existing.leaseEnds = leasedAt + this.leaseMs;
      existing.target = target;
      existing.woken = true;
      existing.wake?.();
      return;
    }
    const worker: Worker = {
      target,
      token,
      leaseEnds: leasedAt + this.leaseMs,
      woken: false,
    };
    this.workers.set(target.id, worker);
    const done = work(this.ctx, worker).finally(() => {
      this.workers.delete(target.id);
      this.running.delete(done);
    });
    this.running.add(done);
  }

  /** Users whose targets need a lease that no node holds (the next claim takes them). */
  private requeue(users: Iterable<string>): void {
    for (const u of users) this.pendingUsers.add(u);
    if (this.pendingUsers.size && !this.claimScheduled && !this.stopped) {
      this.claimScheduled = true;
      setImmediate(() => this.claim(() => this.claimPending()));
    }
  }

  /**
   * A user that has just been given a target (a webhook or push subscription created on this node):
   * its events lease it from now on.
   */
  learn(userId: string): void {
    this.known.told(userId);
  }
}
