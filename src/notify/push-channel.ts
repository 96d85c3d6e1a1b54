import { type StoredEvent, toEnvelope } from '../domain/events.js';
import type { NotifyTarget } from '../domain/notify.js';
import type { Channel, SendOutcome } from './attempts.js';
import type { Post } from './send-thread.js';
import { DEFAULT_PUSH_TTL_SECONDS, pushMessageFor, sendPush, type VapidKeys } from './web-push.js';

/** Retries of a push: a push is worth little late, so they are few and close (the TTL bounds them too). */
export const PUSH_RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000];

/** The longest wait a push service's Retry-After may impose before the next attempt. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export interface PushChannelOptions {
  vapid: VapidKeys;
  /** PUSH_ALLOW_HTTP: http: and loopback endpoints (tests) */
  allowHttp: boolean;
  timeoutMs: number;
  /** whether the user has a live socket on any node (then a push waits for `whileOnline`) */
  isOnline(userId: string): Promise<boolean>;
  /** sends the request (the sender's thread, src/notify/send-thread.ts) */
  post: Post;
}

/**
 * Web Push (PROTOCOL-PUSH.md, "Web Push"): the event as a short notification, encrypted for the
 * subscription and signed with the hub's VAPID key. Not sent while the user is online (their
 * dashboard shows it) unless the subscription asks, nor once older than a push lives.
 */
export function pushChannel(o: PushChannelOptions): Channel {
  return {
    retrySchedule: PUSH_RETRY_SCHEDULE_MS,
    async send(target: NotifyTarget, event: StoredEvent): Promise<SendOutcome> {
      const now = new Date();
      if (now.getTime() - event.at.getTime() > DEFAULT_PUSH_TTL_SECONDS * 1000) return { kind: 'skip' };
      const envelope = toEnvelope(event);
      // an offer whose deadline has passed is not "your turn" any more (a retry, a late first
      // attempt): the TTL runs to that deadline, and the push with it
      const { status, expiresAt } = (envelope.data ?? {}) as { status?: unknown; expiresAt?: unknown };
      if (status === 'open' && typeof expiresAt === 'string' && Date.parse(expiresAt) <= now.getTime()) {
        return { kind: 'skip' };
      }
      const msg = pushMessageFor(envelope, target.userId, now);
      if (!msg) return { kind: 'skip' };
      if (!target.whileOnline && (await o.isOnline(target.userId))) return { kind: 'skip' };
      const out = await sendPush(
        { endpoint: target.endpoint!, p256dh: target.p256dh!, auth: target.auth! },
        msg,
        o.vapid,
        o.post,
        { allowPrivate: o.allowHttp, timeoutMs: o.timeoutMs },
      );
      if (out.kind === 'retry') {
        return {
          kind: 'retry',
          status: out.status,
          error: out.error ?? 'retry',
          retryAfterMs:
            out.retryAfterMs === undefined ? undefined : Math.min(out.retryAfterMs, MAX_RETRY_AFTER_MS),
        };
      }
      return out;
    },
  };
}
