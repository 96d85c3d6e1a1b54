import type { StoredEvent } from '../domain/events.js';
import { type NotifyTarget, retryDelayMs } from '../domain/notify.js';
import type { AttemptRecord } from '../store/notify/target-rows.js';

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

/**
 * The delivery log's record of an attempt: delivered; retrying, due after the schedule's delay for
 * that attempt (jittered by `random`, at least the receiver's Retry-After); or failed, when the
 * answer is final or the schedule is spent.
 */
export function attemptRecord(
  eventId: bigint,
  type: string,
  attempt: number,
  r: Exclude<SendOutcome, { kind: 'skip' } | { kind: 'gone' }>,
  schedule: readonly number[],
  random: () => number,
): AttemptRecord {
  const at = new Date();
  const base = { eventId, type, attempt, at, responseStatus: r.status ?? null };
  if (r.kind !== 'delivered') r = { ...r, error: storableError(r.error) };
  if (r.kind === 'delivered') return { ...base, status: 'delivered', error: null, nextAttemptAt: null };
  const delay = r.kind === 'retry' ? retryDelayMs(schedule, attempt, random()) : undefined;
  if (r.kind === 'retry' && delay !== undefined) {
    const wait = Math.max(delay, r.retryAfterMs ?? 0);
    return { ...base, status: 'retrying', error: r.error, nextAttemptAt: new Date(at.getTime() + wait) };
  }
  return { ...base, status: 'failed', error: r.error, nextAttemptAt: null };
}

/**
 * An error as the delivery log keeps it: a receiver's words are anything (a NUL byte PostgreSQL
 * refuses, control characters): those become `?`, and the whole is at most 300 characters.
 */
function storableError(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '?').slice(0, 300);
}
