import type { NotifyTarget } from '../../domain/notify.js';
import type { SqlPool } from '../db/sql-pool.js';
import { HORIZON } from '../outbox/event-log.js';
import { createRoundBatches } from './round-batches.js';
import { COLUMNS, type TargetRow, toTarget } from './target-rows.js';

/** A retry that is due. */
export interface DueRetry {
  eventId: bigint;
  attempt: number;
}

/** A target leased by a node: the row, and the claim's token that fences the node's writes. */
export interface Leased {
  target: NotifyTarget;
  token: string;
}

/** Events of the user past the target's position below the horizon, or a retry due: work to do. */
const HAS_WORK = `(EXISTS (SELECT 1 FROM events e WHERE e.user_a = c.user_id AND e.id > c.cursor AND e.id < h.horizon)
  OR EXISTS (SELECT 1 FROM events e WHERE e.user_b = c.user_id AND e.id > c.cursor AND e.id < h.horizon)
  OR EXISTS (SELECT 1 FROM notify_retries r WHERE r.target_id = c.id AND r.due_at <= now()))`;

/**
 * What the dispatcher asks of the database (src/notify/dispatcher.ts), on the hub's pg pool: leases
 * on targets, the retries that are due, and each round's attempts with the target's new position.
 * Every write of a sender is fenced by its claim's token: a node whose lease ran out and was taken
 * by another (or by itself again, later) writes nothing more with the old claim.
 */
export function createDispatchStore(sql: SqlPool) {
  const lease = (ms: number) => `now() + make_interval(secs => ${Number(ms) / 1000})`;
  /** Leases the targets `pick` selects (as `pick_id`), for `leaseMs`. */
  const claim = async (pick: string, bind: unknown[], leaseMs: number): Promise<Leased[]> => {
    const rows = await sql.rows<TargetRow & { claim_token: string }>(
      `WITH h AS (SELECT ${HORIZON} AS horizon)
       UPDATE notify_targets t SET claimed_by = $1, claim_token = gen_random_uuid(), claim_until = ${lease(leaseMs)}
       FROM (${pick}) pick WHERE t.id = pick.pick_id RETURNING ${COLUMNS}, claim_token`,
      bind,
    );
    return rows.map((r) => ({ target: toTarget(r), token: r.claim_token }));
  };
  const unheld = '(c.claim_until IS NULL OR c.claim_until < now())';
  const batches = createRoundBatches(sql);

  return {
    round: batches.round,
    save: batches.save,
    /** Leases the active targets of `users` that no node holds; at most `limit`. */
    claimForUsers(node: string, users: string[], leaseMs: number, limit: number): Promise<Leased[]> {
      return claim(
        `SELECT c.id AS pick_id FROM notify_targets c
         WHERE c.user_id = ANY($2::uuid[]) AND c.status = 'active' AND ${unheld}
         ORDER BY c.id LIMIT $3 FOR UPDATE OF c SKIP LOCKED`,
        [node, users, limit],
        leaseMs,
      );
    },

    /**
     * Leases targets that need a node and have none: leases that ran out (a node died, stopped or
     * gave up with work left) and retries that are due. Both are index ranges of what there is to
     * do, whatever the number of idle targets.
     */
    claimDue(node: string, leaseMs: number, limit: number): Promise<Leased[]> {
      return claim(
        `SELECT c.id AS pick_id FROM notify_targets c
         WHERE c.status = 'active' AND ${unheld} AND c.id IN (
           (SELECT id FROM notify_targets WHERE claimed_by IS NOT NULL AND claim_until < now() ORDER BY claim_until LIMIT $2)
           UNION
           (SELECT r.target_id FROM notify_retries r JOIN notify_targets x ON x.id = r.target_id
            WHERE r.due_at <= now() AND x.status = 'active' AND (x.claim_until IS NULL OR x.claim_until < now())
            ORDER BY r.due_at LIMIT $2))
         LIMIT $2 FOR UPDATE OF c SKIP LOCKED`,
        [node, limit],
        leaseMs,
      );
    },

    /**
     * The safety net under the event stream's nudges: of the unheld targets after `after` in id
     * order (`chunk` of them), leases those with work; and the last id looked at (null: the end).
     */
    async sweep(node: string, after: string | null, chunk: number, limit: number, leaseMs: number) {
      const [last] = await sql.rows<{ id: string | null }>(
        `SELECT max(id::text) AS id FROM (SELECT id FROM notify_targets WHERE ($1::uuid IS NULL OR id > $1::uuid)
         ORDER BY id LIMIT $2) s`,
        [after, chunk],
      );
      if (!last?.id) return { leased: [], last: null };
      const leased = await claim(
        `SELECT c.id AS pick_id FROM notify_targets c, h
         WHERE ($2::uuid IS NULL OR c.id > $2::uuid) AND c.id <= $3::uuid AND c.status = 'active' AND ${unheld}
           AND ${HAS_WORK}
         ORDER BY c.id LIMIT $4 FOR UPDATE OF c SKIP LOCKED`,
        [node, after, last.id, limit],
        leaseMs,
      );
      return { leased, last: last.id };
    },

    /** The targets created after `since` (all of them without), with their users, and the newest creation time. */
    async targetsSince(
      since: Date | null,
      limit: number,
    ): Promise<{ targets: { id: string; userId: string }[]; newest: Date | null }> {
      const rows = await sql.rows<{ id: string; user_id: string; created_at: Date }>(
        `SELECT id, user_id, created_at FROM notify_targets WHERE $1::timestamptz IS NULL OR created_at > $1
         ORDER BY created_at LIMIT $2`,
        [since, limit],
      );
      const last = rows.at(-1);
      return {
        targets: rows.map((r) => ({ id: r.id, userId: r.user_id })),
        newest: last ? new Date(last.created_at) : null,
      };
    },

    /** The target as it is now, if this claim still holds it. */
    async reload(id: string, token: string): Promise<NotifyTarget | undefined> {
      const [row] = await sql.rows<TargetRow>(
        `SELECT ${COLUMNS} FROM notify_targets WHERE id = $1 AND claim_token = $2`,
        [id, token],
      );
      return row && toTarget(row);
    },

    /** Extends the lease of this claim; whether it still holds the target. */
    async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
      const rows = await sql.rows<{ id: string }>(
        `UPDATE notify_targets SET claim_until = ${lease(leaseMs)}
         WHERE id = $1 AND claim_token = $2 AND status = 'active' RETURNING id`,
        [id, token],
      );
      return rows.length > 0;
    },

    /**
     * Gives up this claim when the target has nothing left to do (no events past its position below
     * the horizon, no retry due): whether it did. One with work is kept: what arrived while the node
     * decided to let go is not left without a node.
     */
    async releaseIfIdle(id: string, token: string): Promise<boolean> {
      const rows = await sql.rows<{ id: string }>(
        `WITH h AS (SELECT ${HORIZON} AS horizon)
         UPDATE notify_targets t SET claimed_by = NULL, claim_token = NULL, claim_until = NULL
         FROM notify_targets c, h
         WHERE t.id = $1 AND t.claim_token = $2 AND c.id = t.id AND NOT ${HAS_WORK} RETURNING t.id`,
        [id, token],
      );
      return rows.length > 0;
    },

    /** Ends this claim's lease now, the node still named: the poll gives the target to a node at once. */
    async expire(id: string, token: string): Promise<void> {
      await sql.rows(
        `UPDATE notify_targets SET claim_until = now() - interval '1 millisecond' WHERE id = $1 AND claim_token = $2`,
        [id, token],
      );
    },

    /** The target's retries due now, oldest due first; at most `limit`. */
    async dueRetries(id: string, limit: number): Promise<DueRetry[]> {
      const rows = await sql.rows<{ event_id: string; attempt: number }>(
        `SELECT event_id::text AS event_id, attempt FROM notify_retries
         WHERE target_id = $1 AND due_at <= now() ORDER BY due_at, notify_retries.event_id LIMIT $2`,
        [id, limit],
      );
      return rows.map((r) => ({ eventId: BigInt(r.event_id), attempt: r.attempt }));
    },

    /**
     * Removes a push subscription its push service said is gone (404, 410), if this claim holds it
     * and its keys are still those that were refused (a browser that subscribed again keeps its new one).
     */
    async removeGone(id: string, token: string, p256dh: string): Promise<void> {
      await sql.rows(
        `DELETE FROM notify_targets WHERE id = $1 AND kind = 'push' AND claim_token = $2 AND p256dh = $3`,
        [id, token, p256dh],
      );
    },

    /** Deletes delivery log entries older than `before`, at most `limit`; how many. */
    prune(before: Date, limit: number): Promise<number> {
      return sql.count(
        `DELETE FROM notify_attempts WHERE id IN (SELECT id FROM notify_attempts WHERE at < $1 ORDER BY at LIMIT $2)`,
        [before, limit],
      );
    },
  };
}

export type DispatchStore = ReturnType<typeof createDispatchStore>;
