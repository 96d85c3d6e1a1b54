import { QueryTypes, type Sequelize } from 'sequelize';
import { HubError } from '../../domain/errors.js';
import type { NotifyTarget, TargetKind } from '../../domain/notify.js';
import { lockUserRow } from '../accounts/user-lock.js';
import { HORIZON } from '../outbox/event-log.js';
import type { AttemptRecord } from './target-rows.js';
import { COLUMNS, type TargetRow, toTarget } from './target-rows.js';

export interface NewWebhook {
  id: string;
  userId: string;
  url: string;
  events: string[];
  description: string;
  secret: string;
  now: Date;
  max: number;
}

export interface NewPushSubscription {
  id: string;
  userId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  events: string[];
  whileOnline: boolean;
  now: Date;
  max: number;
}

/**
 * A new target starts after every event that is final now: its user's events from here on are its
 * work. (Events committed earlier but above the horizon are sent too: at least once.)
 */
const START_CURSOR = `${HORIZON} - 1`;

/**
 * Webhooks and push subscriptions as the API manages them (REST: Sequelize, raw statements). A user
 * has at most `max` of a kind: the count and the insert run after a lock on the user's row, so
 * registrations racing on any nodes take turns and the second one counts the first.
 */
export function createTargetStore(sequelize: Sequelize) {
  const select = async (sql: string, bind: unknown[]) =>
    (await sequelize.query<TargetRow>(sql, { bind, type: QueryTypes.SELECT })).map(toTarget);

  const countOf = async (userId: string, kind: TargetKind, transaction: unknown) => {
    const [row] = await sequelize.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notify_targets WHERE user_id = $1 AND kind = $2',
      { bind: [userId, kind], type: QueryTypes.SELECT, transaction: transaction as never },
    );
    return row?.n ?? 0;
  };

  const upsertPushOnce = (p: NewPushSubscription) =>
    sequelize.transaction(async (transaction) => {
      await lockUserRow(sequelize, p.userId, transaction);
      const [existing] = await sequelize.query<{ user_id: string }>(
        `SELECT user_id FROM notify_targets WHERE kind = 'push' AND endpoint = $1 FOR UPDATE`,
        { bind: [p.endpoint], type: QueryTypes.SELECT, transaction },
      );
      if (existing?.user_id !== p.userId && (await countOf(p.userId, 'push', transaction)) >= p.max) {
        return 'limit' as const;
      }
      if (existing && existing.user_id !== p.userId) {
        // another user's device now (a shared browser): a new subscription, nothing of the old one's
        // (its pending retries, its log) comes along
        await sequelize.query(`DELETE FROM notify_targets WHERE kind = 'push' AND endpoint = $1`, {
          bind: [p.endpoint],
          transaction,
        });
      }
      const [row] = await sequelize.query<TargetRow & { created: boolean }>(
        `INSERT INTO notify_targets (id, kind, user_id, events, status, endpoint, p256dh, auth, while_online, cursor, created_at, updated_at)
           VALUES ($1, 'push', $2, $3, 'active', $4, $5, $6, $7, ${START_CURSOR}, $8, $8)
           ON CONFLICT (endpoint) WHERE kind = 'push' DO UPDATE SET
             events = excluded.events, p256dh = excluded.p256dh, auth = excluded.auth,
             while_online = excluded.while_online, updated_at = excluded.updated_at
           WHERE notify_targets.user_id = excluded.user_id
           RETURNING ${COLUMNS}, (xmax = 0) AS created`,
        {
          bind: [p.id, p.userId, p.events, p.endpoint, p.p256dh, p.auth, p.whileOnline, p.now],
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      if (!row) return 'raced' as const;
      return { target: toTarget(row), created: row.created };
    });

  return {
    /** The new webhook, or 'limit' when its user has `max` already. */
    createWebhook(w: NewWebhook): Promise<NotifyTarget | 'limit'> {
      return sequelize.transaction(async (transaction) => {
        await lockUserRow(sequelize, w.userId, transaction);
        if ((await countOf(w.userId, 'webhook', transaction)) >= w.max) return 'limit' as const;
        const [row] = await sequelize.query<TargetRow>(
          `INSERT INTO notify_targets (id, kind, user_id, events, status, url, description, secret, cursor, created_at, updated_at)
           VALUES ($1, 'webhook', $2, $3, 'active', $4, $5, $6, ${START_CURSOR}, $7, $7) RETURNING ${COLUMNS}`,
          {
            bind: [w.id, w.userId, w.events, w.url, w.description, w.secret, w.now],
            type: QueryTypes.SELECT,
            transaction,
          },
        );
        return toTarget(row!);
      });
    },

    /**
     * The push subscription of this endpoint: a new one, or the user's existing one updated (keys,
     * events, whileOnline); another user's is replaced by a new one (the endpoint is the device's);
     * 'limit' when the user has `max` already.
     */
    async upsertPush(p: NewPushSubscription): Promise<{ target: NotifyTarget; created: boolean } | 'limit'> {
      // another user's registration of the endpoint racing this one (a shared browser): once it has
      // committed, this one moves the endpoint over
      for (let attempt = 1; ; attempt++) {
        const saved = await upsertPushOnce(p);
        if (saved !== 'raced') return saved;
        if (attempt === 3)
          throw new HubError('UNAVAILABLE', 'The endpoint is being registered elsewhere; try again');
      }
    },

    list(userId: string, kind: TargetKind): Promise<NotifyTarget[]> {
      return select(
        `SELECT ${COLUMNS} FROM notify_targets WHERE user_id = $1 AND kind = $2 ORDER BY created_at, id`,
        [userId, kind],
      );
    },

    async get(userId: string, kind: TargetKind, id: string): Promise<NotifyTarget | undefined> {
      const [t] = await select(
        `SELECT ${COLUMNS} FROM notify_targets WHERE id = $1 AND user_id = $2 AND kind = $3`,
        [id, userId, kind],
      );
      return t;
    },

    /** Whether it was the user's and is gone now (its retries and log with it). */
    async remove(userId: string, kind: TargetKind, id: string): Promise<boolean> {
      const rows = await sequelize.query<{ id: string }>(
        'DELETE FROM notify_targets WHERE id = $1 AND user_id = $2 AND kind = $3 RETURNING id',
        { bind: [id, userId, kind], type: QueryTypes.SELECT },
      );
      return rows.length > 0;
    },

    /** A new secret; the current one keeps signing beside it until `overlapUntil`. */
    async rotateSecret(userId: string, id: string, secret: string, now: Date, overlapUntil: Date) {
      const [t] = await select(
        `UPDATE notify_targets SET previous_secret = secret, previous_secret_until = $4, secret = $3, updated_at = $5
         WHERE id = $1 AND user_id = $2 AND kind = 'webhook' RETURNING ${COLUMNS}`,
        [id, userId, secret, overlapUntil, now],
      );
      return t;
    },

    /**
     * Sends the user's events after `after` again: the position goes back there (never forward),
     * and a version bump tells a node walking the old position to start over. A disabled webhook is
     * active again: a replay asks for delivery.
     */
    async replay(userId: string, id: string, after: bigint, now: Date): Promise<boolean> {
      const rows = await sequelize.query<{ id: string }>(
        `UPDATE notify_targets SET cursor = LEAST(cursor, $3::bigint), cursor_version = cursor_version + 1,
           status = 'active', failing_since = NULL, updated_at = $4,
           -- a target no node holds gets a lease that has run out: the next poll gives it to a node
           claimed_by = CASE WHEN claim_until IS NULL OR claim_until < now() THEN 'replay' ELSE claimed_by END,
           claim_until = CASE WHEN claim_until IS NULL OR claim_until < now() THEN now() ELSE claim_until END
         WHERE id = $1 AND user_id = $2 AND kind = 'webhook' RETURNING id`,
        { bind: [id, userId, after.toString(), now], type: QueryTypes.SELECT },
      );
      return rows.length > 0;
    },

    /** The delivery log of a target, newest first, in pages keyed on the attempt's row id. */
    async attempts(targetId: string, limit: number, before?: bigint) {
      const rows = await sequelize.query<{
        id: string;
        event_id: string;
        type: string;
        attempt: number;
        status: AttemptRecord['status'];
        response_status: number | null;
        error: string | null;
        at: Date;
        next_attempt_at: Date | null;
      }>(
        `SELECT id::text AS id, event_id::text AS event_id, type, attempt, status, response_status, error, at, next_attempt_at
         FROM notify_attempts WHERE target_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
         ORDER BY notify_attempts.id DESC LIMIT $3`,
        { bind: [targetId, before?.toString() ?? null, limit + 1], type: QueryTypes.SELECT },
      );
      return {
        items: rows.slice(0, limit).map((r) => ({
          id: BigInt(r.id),
          eventId: BigInt(r.event_id),
          type: r.type,
          attempt: r.attempt,
          status: r.status,
          responseStatus: r.response_status,
          error: r.error,
          at: new Date(r.at),
          nextAttemptAt: r.next_attempt_at && new Date(r.next_attempt_at),
        })),
        more: rows.length > limit,
      };
    },
  };
}

export type TargetStore = ReturnType<typeof createTargetStore>;
