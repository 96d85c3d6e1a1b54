// One target's sending on the node that leases it (src/notify/dispatcher.ts): rounds of retries
// and first attempts, each written in one (batched) statement fenced by the claim's token.
import type { LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import type { StoredEvent } from '../domain/events.js';
import type { NotifyTarget, TargetKind } from '../domain/notify.js';
import type { SqlPool } from '../store/db/sql-pool.js';
import type { DispatchStore } from '../store/notify/dispatch-store.js';
import type { AttemptRecord } from '../store/notify/target-rows.js';
import { readEventsById } from '../store/outbox/event-log.js';
import { attemptRecord, type Channel, type SendOutcome } from './attempts.js';

/** What a target's worker needs of its dispatcher. */
export interface WorkerContext {
  sql: SqlPool;
  store: DispatchStore;
  channels: Record<TargetKind, Channel>;
  log: Logger;
  onDisable(target: NotifyTarget, token: string, cutoff: Date): Promise<void>;
  leaseMs: number;
  sendTimeoutMs: number;
  idleMs: number;
  random: () => number;
  /** the node's bound on sends in flight */
  sends: LimitFunction;
  /** resolves once the sender can send (src/notify/send-thread.ts) */
  senderReady(): Promise<void>;
  stopped(): boolean;
  /** users whose targets need a lease that no node holds */
  requeue(users: Iterable<string>): void;
}

/** Events read per round of a target's first attempts: a round's attempts are written together. */
const EVENTS_PER_ROUND = 20;
/** Retries sent per round. */
const RETRIES_PER_ROUND = 20;

export interface Worker {
  target: NotifyTarget;
  /** the claim this node holds the target by: every write is fenced by it */
  token: string;
  /** when this node's lease ends, by this node's clock (counted from before the statement that set it) */
  leaseEnds: number;
  /** something happened for its user since it last looked */
  woken: boolean;
  /** when the earliest retry this worker scheduled is due (ms since the epoch) */
  retryAt?: number;
  wake?: () => void;
}

type RoundEnd = 'ok' | 'lost' | 'end';

/** Whether this claim still holds the target with room for a send; renews the lease first if short. */
async function holds(c: WorkerContext, w: Worker): Promise<boolean> {
  if (c.stopped()) return false;
  if (w.leaseEnds - Date.now() > c.sendTimeoutMs + c.leaseMs / 3) return true;
  const began = Date.now();
  if (!(await c.store.renew(w.target.id, w.token, c.leaseMs))) return false;
  w.leaseEnds = began + c.leaseMs;
  return true;
}

export async function work(c: WorkerContext, w: Worker): Promise<void> {
  const { store } = c;
  let released = false;
  // at the start of a claim, the retries scheduled before it; later, those this worker scheduled
  let checkRetries = true;
  try {
    for (;;) {
      w.woken = false;
      let more = false;
      if (checkRetries || (w.retryAt !== undefined && Date.now() >= w.retryAt)) {
        if (w.retryAt !== undefined && Date.now() >= w.retryAt) w.retryAt = undefined;
        const r = await retryRound(c, w);
        if (r.end !== 'ok') return;
        checkRetries = more = r.full;
      }
      const f = await firstRound(c, w);
      if (f.end !== 'ok' || c.stopped()) return;
      if (f.full || more || w.woken) continue;
      // nothing more now: wait a while for more (a nudge, or a retry of its own falling due)
      const wait = Math.max(0, Math.min(c.idleMs, (w.retryAt ?? Number.POSITIVE_INFINITY) - Date.now()));
      const woken = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), wait);
        w.wake = () => {
          clearTimeout(t);
          resolve(true);
        };
      });
      w.wake = undefined;
      if (c.stopped()) return;
      if (!woken && !(w.retryAt !== undefined && Date.now() >= w.retryAt)) {
        // let go only if there is still nothing to do, as the statement that lets go sees it
        if (await store.releaseIfIdle(w.target.id, w.token)) {
          released = true;
          // an event that came while letting go: its nudge found the target still held
          if (w.woken) c.requeue([w.target.userId]);
          return;
        }
        checkRetries = true; // something arrived or fell due meanwhile
      }
    }
  } catch (err) {
    c.log.warn({ err, target: w.target.id }, 'notify: a target stopped; another node takes it up');
  } finally {
    // not let go idle (stopping, an error, a claim lost or a target ended): the lease ends now
    // (a no-op for a claim that no longer holds), so the poll gives the target to a node at once
    if (!released) await store.expire(w.target.id, w.token).catch(() => {});
  }
}

/** Sends the due retries (`full`: as many as a round takes, there may be more). */
async function retryRound(c: WorkerContext, w: Worker): Promise<{ end: RoundEnd; full: boolean }> {
  const due = await c.store.dueRetries(w.target.id, RETRIES_PER_ROUND);
  if (!due.length) return { end: 'ok', full: false };
  const events = await eventsById(
    c,
    due.map((d) => d.eventId),
  );
  const attempts: AttemptRecord[] = [];
  let outcome: RoundEnd = 'ok';
  for (const d of due) {
    const event = events.get(d.eventId);
    if (!event) {
      attempts.push(
        attemptRecord(
          d.eventId,
          'unknown',
          d.attempt,
          { kind: 'failed', error: 'the event is not in the log' },
          [],
          c.random,
        ),
      );
      continue;
    }
    outcome = await attempt(c, w, event, d.attempt, attempts);
    if (outcome !== 'ok') break;
  }
  const saved = await save(c, w, attempts);
  return { end: saved === 'ok' ? outcome : saved, full: due.length === RETRIES_PER_ROUND };
}

/** Sends the first attempts of the events past the position, in order (`full`: there may be more). */
async function firstRound(c: WorkerContext, w: Worker): Promise<{ end: RoundEnd; full: boolean }> {
  const t = w.target;
  const read = await c.store.round(t.id, w.token, t.userId, t.cursor, EVENTS_PER_ROUND);
  if (!read.target) return { end: 'lost', full: false };
  if (read.target.cursorVersion !== t.cursorVersion) {
    // a replay moved the position since this worker last looked (it read past the old one): go on
    // from the new position, with its fresh start on failures
    if (w.target === t) w.target = read.target;
    return { end: 'ok', full: true };
  }
  // what the owner changed (a rotated secret, the events it takes) counts from this round on
  refresh(t, read.target);
  // the version the round's position counts from: its save moves the position only if no replay
  // came meanwhile, even if the worker took up a new claim's copy of the target in between
  const version = t.cursorVersion;
  const events = read.events;
  if (!events.length) return { end: 'ok', full: false };
  const attempts: AttemptRecord[] = [];
  let position = t.cursor;
  let outcome: RoundEnd = 'ok';
  for (const e of events) {
    if (t.events.includes(e.type)) {
      outcome = await attempt(c, w, e, 1, attempts);
      if (outcome === 'lost') break;
    }
    position = e.id;
    if (outcome === 'end') break;
  }
  const saved = await save(c, w, attempts, position, version);
  return { end: saved === 'ok' ? outcome : saved, full: events.length === EVENTS_PER_ROUND };
}

/**
 * One send and its record; 'lost' when the claim no longer holds the target, 'end' when the target
 * is gone or was disabled. The lease is checked (and renewed when short) once a send slot is free and
 * the sender ready, right before the request leaves: waiting for either never eats into the lease a
 * send needs, so two nodes never send to one target at once.
 */
async function attempt(
  c: WorkerContext,
  w: Worker,
  event: StoredEvent,
  attempt: number,
  out: AttemptRecord[],
): Promise<RoundEnd> {
  const channel = c.channels[w.target.kind];
  const failed = (err: unknown): SendOutcome => ({
    kind: 'retry',
    error: err instanceof Error ? err.message : String(err),
  });
  // a failure of the lease's statement ends the claim (work() lets the target go); one of the
  // sender is this attempt's, retried
  const r = await c.sends(async (): Promise<SendOutcome | 'lost'> => {
    try {
      await c.senderReady();
    } catch (err) {
      return failed(err);
    }
    if (!(await holds(c, w))) return 'lost';
    return channel.send(w.target, event, attempt).catch(failed);
  });
  if (r === 'lost') return 'lost';
  if (r.kind === 'skip') {
    // a first attempt not made is no attempt; a retry not made ends the delivery (it would be
    // skipped again: its user is online, or it is past its time)
    if (attempt > 1)
      out.push(
        attemptRecord(event.id, event.type, attempt, { kind: 'failed', error: 'not sent' }, [], c.random),
      );
    return 'ok';
  }
  if (r.kind === 'gone') {
    await c.store.removeGone(w.target.id, w.token, w.target.p256dh ?? '');
    return 'end';
  }
  const rec = attemptRecord(event.id, event.type, attempt, r, channel.retrySchedule, c.random);
  out.push(rec);
  if (rec.nextAttemptAt)
    w.retryAt = Math.min(w.retryAt ?? Number.POSITIVE_INFINITY, rec.nextAttemptAt.getTime());
  // failing since the first of an unbroken run of failures; a delivery ends the run
  if (rec.status === 'delivered') w.target.failingSince = null;
  else {
    w.target.failingSince ??= rec.at;
    const limit = channel.disableAfterMs;
    if (limit !== undefined && rec.at.getTime() - w.target.failingSince.getTime() >= limit) {
      const saved = await save(c, w, out);
      out.length = 0;
      if (saved !== 'ok') return saved;
      await c.onDisable(w.target, w.token, new Date(rec.at.getTime() - limit));
      return 'end';
    }
  }
  return 'ok';
}

/**
 * Writes a round; takes in what the owner changed; reloads the target when a replay moved its
 * position meanwhile. `cursor` counts from the position of version `from` (the round's): a replay
 * since then leaves the position where the replay put it. 'end' when the target was deleted.
 */
async function save(
  c: WorkerContext,
  w: Worker,
  attempts: AttemptRecord[],
  cursor?: bigint,
  from = w.target.cursorVersion,
): Promise<RoundEnd> {
  if (!attempts.length && cursor === undefined) return 'ok';
  const t = w.target;
  const { held, moved, version, row } = await c.store.save(
    w.token,
    { id: t.id, cursorVersion: from },
    attempts,
    {
      log: t.kind === 'webhook',
      failingSince: attempts.length ? t.failingSince : undefined,
      cursor,
    },
  );
  if (!held) return 'lost';
  if (row) refresh(t, row);
  if ((version ?? row?.cursorVersion ?? from) !== from || t.cursorVersion !== from) {
    // a replay (as the update saw the row, after any wait for it): its position and its fresh
    // start on failures
    const now = await c.store.reload(t.id, w.token);
    if (!now) return 'lost';
    w.target = now;
  } else if (cursor !== undefined && moved && cursor > t.cursor) t.cursor = cursor;
  return 'ok';
}

async function eventsById(c: WorkerContext, ids: bigint[]): Promise<Map<bigint, StoredEvent>> {
  const events = await readEventsById(c.sql, ids);
  return new Map(events.map((e) => [e.id, e]));
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
