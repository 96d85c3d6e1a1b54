// The notify_targets row as the stores read it, and an attempt of the delivery log: shared by the
// API's store (target-store.ts), the dispatcher's (dispatch-store.ts) and its batches.
import type { NotifyTarget, TargetKind } from '../../domain/notify.js';

/** A notify_targets row as read (bigints as text). */
export interface TargetRow {
  id: string;
  kind: TargetKind;
  user_id: string;
  events: string[];
  status: 'active' | 'disabled';
  url: string | null;
  description: string | null;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  endpoint: string | null;
  p256dh: string | null;
  auth: string | null;
  while_online: boolean | null;
  cursor: string;
  cursor_version: number;
  failing_since: Date | null;
  created_at: Date;
}

export const COLUMNS = `id, kind, user_id, events, status, url, description, secret, previous_secret, previous_secret_until,
  endpoint, p256dh, auth, while_online, cursor::text AS cursor, cursor_version, failing_since, created_at`;

export const toTarget = (r: TargetRow): NotifyTarget => ({
  id: r.id,
  kind: r.kind,
  userId: r.user_id,
  events: r.events,
  status: r.status,
  url: r.url,
  description: r.description,
  secret: r.secret,
  previousSecret: r.previous_secret,
  previousSecretUntil: r.previous_secret_until && new Date(r.previous_secret_until),
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  whileOnline: r.while_online,
  cursor: BigInt(r.cursor),
  cursorVersion: r.cursor_version,
  failingSince: r.failing_since && new Date(r.failing_since),
  createdAt: new Date(r.created_at),
});

/** One attempt of the delivery log, as the API lists it. */
export interface AttemptRecord {
  eventId: bigint;
  type: string;
  attempt: number;
  status: 'delivered' | 'retrying' | 'failed';
  responseStatus: number | null;
  error: string | null;
  at: Date;
  nextAttemptAt: Date | null;
}
