import { QueryTypes, type Sequelize } from 'sequelize';
import { HubError } from '../../domain/errors.js';
import type { StoredEvent } from '../../domain/events.js';
import type { NotifyTarget, TargetKind } from '../../domain/notify.js';
import type { SqlPool } from '../db/sql-pool.js';
import { type EventRow, HORIZON, toStoredEvent, userEventsSql } from '../outbox/event-log.js';
import { ReadBatcher } from '../reads/read-batcher.js';

/** A notify_targets row as read (bigints as text). */
interface TargetRow {
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

const COLUMNS = `id, kind, user_id, events, status, url, description, secret, previous_secret, previous_secret_until,
  endpoint, p256dh, auth, while_online, cursor::text AS cursor, cursor_version, failing_since, created_at`;

const toTarget = (r: TargetRow): NotifyTarget => ({
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

  const lockUser = (userId: string, transaction: unknown) =>
    sequelize.query('SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE', {
      bind: [userId],
      type: QueryTypes.SELECT,
      transaction: transaction as never,
    });

  const countOf = async (userId: string, kind: TargetKind, transaction: unknown) => {
    const [row] = await sequelize.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notify_targets WHERE user_id = $1 AND kind = $2',
      { bind: [userId, kind], type: QueryTypes.SELECT, transaction: transaction as never },
    );
    return row?.n ?? 0;
  };

  const upsertPushOnce = (p: NewPushSubscription) =>
    sequelize.transaction(async (transaction) => {
      await lockUser(p.userId, transaction);
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
        await lockUser(w.userId, transaction);
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
         ORDER BY id DESC LIMIT $3`,
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

/** A retry that is due. */
export interface DueRetry {
  eventId: bigint;
  attempt: number;
}

/** What a round reads: the target (if the claim still holds it) and its user's events past its position. */
export interface RoundRead {
  target?: NotifyTarget;
  events: StoredEvent[];
}

/** What a round's save tells: whether the claim held, whether the position moved, the row as it was. */
export interface SaveResult {
  held: boolean;
  moved: boolean;
  /** the target's version as the update saw it (after any wait for its row) */
  version?: number;
  row?: NotifyTarget;
}

const unwrap = <T>(v: T | Error): T => {
  if (v instanceof Error) throw v;
  return v;
};

/**
 * Runs `batch` over `asks` in one statement per pass: sorted by target id (concurrent batches lock
 * rows in one order) and at most one ask per target in a pass. If a statement fails, each of its
 * asks runs alone, so one target's trouble (its row locked past the statement timeout) fails that
 * target only, with its own error. The results are aligned with `asks`.
 */
async function eachAlone<A extends { id: string }, R>(
  asks: A[],
  batch: (asks: A[]) => Promise<R[]>,
): Promise<(R | Error)[]> {
  const results: (R | Error)[] = new Array(asks.length);
  let left = asks
    .map((a, n) => ({ a, n }))
    .sort((x, y) => (x.a.id < y.a.id ? -1 : x.a.id > y.a.id ? 1 : x.n - y.n));
  while (left.length) {
    const pass: typeof left = [];
    const later: typeof left = [];
    for (const x of left) (pass.length && pass[pass.length - 1]!.a.id === x.a.id ? later : pass).push(x);
    left = later;
    try {
      const out = await batch(pass.map((x) => x.a));
      pass.forEach((x, i) => {
        results[x.n] = out[i]!;
      });
    } catch (err) {
      if (pass.length === 1) {
        results[pass[0]!.n] = err instanceof Error ? err : new Error(String(err));
        continue;
      }
      for (const x of pass) {
        try {
          results[x.n] = (await batch([x.a]))[0]!;
        } catch (e) {
          results[x.n] = e instanceof Error ? e : new Error(String(e));
        }
      }
    }
  }
  return results;
}

interface RoundAsk {
  id: string;
  token: string;
  userId: string;
  cursor: bigint;
  limit: number;
}

interface SaveAsk {
  id: string;
  token: string;
  version: number;
  attempts: AttemptRecord[];
  log: boolean;
  failingSince?: Date | null;
  cursor?: bigint;
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

  // Rounds and saves asked for together go in one statement each (a ReadBatcher: while one runs,
  // the next gathers), so a node sending to many targets at once pays a read and a write per
  // batch, not per target.
  let roundKeys = 0;
  const roundAsks = new Map<string, RoundAsk>();
  const roundBatch = async (asks: RoundAsk[]): Promise<RoundRead[]> => {
    const rows = await sql.rows<EventRow & { n: string; target: TargetRow | null }>(
      `WITH h AS (SELECT ${HORIZON} AS horizon)
         SELECT q.n::text AS n,
           (SELECT row_to_json(c) FROM (SELECT ${COLUMNS} FROM notify_targets WHERE id = q.tid AND claim_token = q.token) c) AS target,
           e.*
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::int[]) WITH ORDINALITY
           AS q(tid, token, uid, after, lim, n)
         LEFT JOIN LATERAL (${userEventsSql('q.uid', 'q.after', 'q.lim')}) e ON true
         ORDER BY q.n, e.id`,
      [
        asks.map((a) => a.id),
        asks.map((a) => a.token),
        asks.map((a) => a.userId),
        asks.map((a) => a.cursor.toString()),
        asks.map((a) => a.limit),
      ],
    );
    const out: RoundRead[] = asks.map(() => ({ events: [] }));
    for (const r of rows) {
      const read = out[Number(r.n) - 1]!;
      if (r.target && !read.target) read.target = toTarget(r.target);
      if (r.id !== null) read.events.push(toStoredEvent(r));
    }
    return out;
  };
  const rounds = new ReadBatcher<string, RoundRead | Error>(
    async (keys) => {
      const asks = keys.map((k) => roundAsks.get(k)!);
      for (const k of keys) roundAsks.delete(k);
      const results = await eachAlone(asks, roundBatch);
      return new Map(keys.map((key, n) => [key, results[n]!]));
    },
    { events: [] },
    { maxBatch: 200, maxRunning: 1, gatherMs: 2 },
  );

  let saveKeys = 0;
  const saveAsks = new Map<string, SaveAsk>();
  const saveBatch = async (asks: SaveAsk[]): Promise<SaveResult[]> => {
    const each = <T>(pick: (a: SaveAsk, r: AttemptRecord) => T, which: (a: SaveAsk) => AttemptRecord[]) =>
      asks.flatMap((a) => which(a).map((r) => pick(a, r)));
    const logged = (a: SaveAsk) => (a.log ? a.attempts : []);
    const retrying = (a: SaveAsk) => a.attempts.filter((r) => r.status === 'retrying');
    const done = (a: SaveAsk) => a.attempts.filter((r) => r.status !== 'retrying');
    const rows = await sql.rows<{
      id: string;
      held: boolean;
      moved: boolean;
      version: number | null;
      now: TargetRow | null;
    }>(
      `WITH i AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::bigint[], $5::boolean[], $6::timestamptz[])
                    AS i(id, token, version, cursor, set_failing, failing_since)),
         u AS (UPDATE notify_targets t SET
                 cursor = CASE WHEN i.cursor IS NOT NULL AND t.cursor_version = i.version THEN GREATEST(t.cursor, i.cursor) ELSE t.cursor END,
                 failing_since = CASE WHEN i.set_failing AND t.cursor_version = i.version THEN i.failing_since ELSE t.failing_since END
               FROM i WHERE t.id = i.id AND t.claim_token = i.token
               RETURNING t.id, t.cursor_version AS version, (i.cursor IS NOT NULL AND t.cursor_version = i.version) AS moved),
         a AS (INSERT INTO notify_attempts (target_id, event_id, type, attempt, status, response_status, error, at, next_attempt_at)
               SELECT x.tid, x.event_id, x.type, x.attempt, x.status, x.response_status, x.error, x.at, x.next_at
               FROM unnest($7::uuid[], $8::bigint[], $9::text[], $10::int[], $11::text[], $12::int[], $13::text[],
                 $14::timestamptz[], $15::timestamptz[]) AS x(tid, event_id, type, attempt, status, response_status, error, at, next_at)
               JOIN u ON u.id = x.tid),
         d AS (DELETE FROM notify_retries r USING unnest($16::uuid[], $17::bigint[]) AS y(tid, event_id), u
               WHERE u.id = y.tid AND r.target_id = y.tid AND r.event_id = y.event_id),
         r AS (INSERT INTO notify_retries (target_id, event_id, attempt, due_at)
               SELECT z.tid, z.event_id, z.attempt, z.due_at
               FROM unnest($18::uuid[], $19::bigint[], $20::int[], $21::timestamptz[]) AS z(tid, event_id, attempt, due_at)
               JOIN u ON u.id = z.tid
               ON CONFLICT (target_id, event_id) DO UPDATE SET attempt = excluded.attempt, due_at = excluded.due_at)
         SELECT i.id, u.id IS NOT NULL AS held, COALESCE(u.moved, false) AS moved, u.version,
           (SELECT row_to_json(c) FROM (SELECT ${COLUMNS} FROM notify_targets WHERE id = i.id) c) AS now
         FROM i LEFT JOIN u ON u.id = i.id`,
      [
        asks.map((a) => a.id),
        asks.map((a) => a.token),
        asks.map((a) => a.version),
        asks.map((a) => a.cursor?.toString() ?? null),
        asks.map((a) => a.failingSince !== undefined),
        asks.map((a) => a.failingSince ?? null),
        each((a) => a.id, logged),
        each((_, r) => r.eventId.toString(), logged),
        each((_, r) => r.type, logged),
        each((_, r) => r.attempt, logged),
        each((_, r) => r.status, logged),
        each((_, r) => r.responseStatus, logged),
        each((_, r) => r.error, logged),
        each((_, r) => r.at, logged),
        each((_, r) => r.nextAttemptAt, logged),
        each((a) => a.id, done),
        each((_, r) => r.eventId.toString(), done),
        each((a) => a.id, retrying),
        each((_, r) => r.eventId.toString(), retrying),
        each((_, r) => r.attempt + 1, retrying),
        each((_, r) => r.nextAttemptAt, retrying),
      ],
    );
    // each row as this statement's snapshot saw it (before its own update): its secrets, keys and
    // events are what the API last wrote, its version what a replay last set
    const byId = new Map(rows.map((r) => [r.id, r]));
    return asks.map((a) => {
      const r = byId.get(a.id);
      return {
        held: r?.held ?? false,
        moved: r?.moved ?? false,
        version: r?.version ?? undefined,
        row: r?.now ? toTarget(r.now) : undefined,
      };
    });
  };
  const saves = new ReadBatcher<string, SaveResult | Error>(
    async (keys) => {
      const asks = keys.map((k) => saveAsks.get(k)!);
      for (const k of keys) saveAsks.delete(k);
      const results = await eachAlone(asks, saveBatch);
      return new Map(keys.map((key, n) => [key, results[n]!]));
    },
    { held: false, moved: false },
    // a save waits a little for others: it holds up nothing but the target's next round
    { maxBatch: 200, maxRunning: 1, gatherMs: 10 },
  );

  return {
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

    /**
     * A round's reading: the target as it is now (what its owner changed: secrets, keys, the events
     * it takes), if this claim still holds it, and its user's events past `cursor` below the
     * horizon, at most `limit`. The rounds of the targets a node sends to at once are read together
     * in one statement.
     */
    round(id: string, token: string, userId: string, cursor: bigint, limit: number): Promise<RoundRead> {
      const key = String(++roundKeys);
      roundAsks.set(key, { id, token, userId, cursor, limit });
      return rounds.get(key).then(unwrap);
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
         WHERE target_id = $1 AND due_at <= now() ORDER BY due_at, event_id LIMIT $2`,
        [id, limit],
      );
      return rows.map((r) => ({ eventId: BigInt(r.event_id), attempt: r.attempt }));
    },

    /**
     * A round's attempts, if this claim still holds the target (as the update's row lock sees it:
     * the writes hang on the update's row, never on a snapshot): logged (`log`);
     * a retrying one (re)scheduled, any other's retry removed; and, unless a replay moved the
     * position meanwhile (the version differs), `failingSince` set (undefined: unchanged) and the
     * position moved to `cursor` (never back). Whether the claim held, whether the position moved,
     * and the row as it was (what the owner changed meanwhile). The saves of the targets a node
     * sends to at once go together in one statement.
     */
    save(
      token: string,
      target: Pick<NotifyTarget, 'id' | 'cursorVersion'>,
      attempts: AttemptRecord[],
      opts: { log: boolean; failingSince?: Date | null; cursor?: bigint },
    ): Promise<SaveResult> {
      const key = String(++saveKeys);
      saveAsks.set(key, { token, id: target.id, version: target.cursorVersion, attempts, ...opts });
      return saves.get(key).then(unwrap);
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
