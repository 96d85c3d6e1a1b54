import type { LoginState } from '../../domain/auth/accounts.js';
import { type EventDraft, type EventType, isMarketEventType, type StoredEvent } from '../../domain/events.js';
import type { TraceCarrier } from '../../telemetry/trace-context.js';
import type { SqlPool } from '../db/sql-pool.js';
import { isUuidText, ReadBatcher } from '../reads/read-batcher.js';

/**
 * The outbox. An event id is (transaction id << 16) + its position in the transaction, so ids
 * ascend with the transaction that wrote them, and every id below (oldest running transaction
 * << 16) belongs to a finished transaction: that part of the log never changes again. Readers
 * only look below that horizon (docs/delivery.md).
 */
export const HORIZON = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)`;

/**
 * Most events one transaction may append from its drafts: positions take the low 16 bits of the id,
 * and those from DERIVED_EVENT_POSITION on are for events a statement derives from rows.
 */
export const MAX_EVENTS_PER_TRANSACTION = 32_768;

/** The first position of events a statement derives from rows (`listing.matched`), after every draft's. */
export const DERIVED_EVENT_POSITION = 32_768;

/**
 * The INSERT of a transaction's events, with its bind values appended to `bind` (`$1` must already
 * be the events' time). Ids take the writing transaction's id: see HORIZON. `traces`, given only
 * while tracing is on, holds each draft's trace context, stored beside it.
 */
export function eventsInsert(
  drafts: EventDraft[],
  bind: unknown[],
  traces?: readonly (TraceCarrier | undefined)[],
): string {
  if (drafts.length > MAX_EVENTS_PER_TRANSACTION) throw new Error('too many events in one transaction');
  const traced = traces?.some((t) => t !== undefined) ? traces : undefined;
  const values = drafts.map((d, i) => {
    bind.push(d.type, d.users[0] ?? null, d.users[1] ?? null, JSON.stringify(d.data));
    const p = bind.length;
    const row = `(pg_current_xact_id()::text::bigint << 16) + ${i}, $${p - 3}, $1, $${p - 2}::uuid, $${p - 1}::uuid, $${p}::jsonb`;
    if (!traced) return `(${row})`;
    bind.push(traced[i]?.traceparent ?? null, traced[i]?.tracestate ?? null);
    return `(${row}, $${p + 1}, $${p + 2})`;
  });
  const columns = `id, type, at, user_a, user_b, data${traced ? ', traceparent, tracestate' : ''}`;
  return `INSERT INTO events (${columns}) VALUES ${values.join(', ')}`;
}

export interface EventRow {
  id: string;
  type: EventType;
  at: Date;
  user_a: string | null;
  user_b: string | null;
  data: unknown;
  /** read by the relay and the fill of a node's stream only (RELAYED_COLUMNS) */
  traceparent?: string | null;
  tracestate?: string | null;
}

export function toStoredEvent(r: EventRow): StoredEvent {
  const data = r.data as Record<string, unknown>;
  const market =
    r.type === 'market.trade'
      ? { energyType: String(data.energyType), zone: String(data.zone) }
      : isMarketEventType(r.type)
        ? { energyType: String(data.energyType), zone: String(data.zone), side: String(data.side) }
        : undefined;
  const event: StoredEvent = {
    id: BigInt(r.id),
    type: r.type,
    at: new Date(r.at),
    users: [r.user_a, r.user_b].filter((u): u is string => u !== null),
    market,
    data,
  };
  if (r.traceparent) event.trace = { traceparent: r.traceparent, tracestate: r.tracestate ?? undefined };
  return event;
}

const EVENT_COLUMNS = 'id, type, at, user_a, user_b, data';
/** `id` as text: a query selecting it orders by `events.id` (a bare `id` would sort the text) */
const AS_TEXT = 'id::text AS id, type, at, user_a, user_b, data';
/** what the relay's stream carries besides: the trace context of the command that wrote each event */
const RELAYED_COLUMNS = 'id, type, at, user_a, user_b, data, traceparent, tracestate';

/**
 * Every event after $1 below the horizon, ascending, at most $2; each row also names the newest
 * committed event at or above the horizon (`held_to`: it waits for an older transaction), null
 * when there is none. With no event to read, one row of nulls carries it. `max(id)` above the
 * horizon reads one index entry; an EXISTS over `id >= horizon` was planned as a sequential scan
 * of the whole log.
 */
export const READ_LOG_SQL = `WITH h AS (SELECT ${HORIZON} AS horizon),
  batch AS (SELECT ${RELAYED_COLUMNS} FROM events, h WHERE events.id > $1 AND events.id < h.horizon
            ORDER BY events.id LIMIT $2)
  SELECT b.id::text AS id, b.type, b.at, b.user_a, b.user_b, b.data, b.traceparent, b.tracestate,
    (SELECT max(id) FROM events WHERE id >= (SELECT horizon FROM h))::text AS held_to
  FROM (SELECT 1) AS one LEFT JOIN batch b ON true ORDER BY b.id`;

/**
 * A read of the log: the events, and the newest committed event held back by the horizon (an
 * older transaction is still running), if any.
 */
export interface LogRead {
  events: StoredEvent[];
  heldTo: bigint | undefined;
}

/** A row of READ_LOG_SQL */
export type LogReadRow = EventRow & { held_to: string | null };

export function toLogRead(rows: LogReadRow[]): LogRead {
  const heldTo = rows[0]?.held_to;
  return {
    events: rows.filter((r) => r.id !== null).map(toStoredEvent),
    heldTo: heldTo ? BigInt(heldTo) : undefined,
  };
}

export async function readLog(sql: SqlPool, afterId: bigint, limit: number): Promise<LogRead> {
  const rows = await sql.rows<LogReadRow>(READ_LOG_SQL, [afterId.toString(), limit]);
  return toLogRead(rows);
}

/**
 * Every event with `afterId < id <= upTo`, ascending, at most `limit`: a stretch of the relay's
 * stream that a node missed. `upTo` is a position the relay reached, so the whole stretch lies
 * below the horizon and is final.
 */
export async function readLogRange(
  sql: SqlPool,
  afterId: bigint,
  upTo: bigint,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await sql.rows<EventRow>(
    `SELECT ${AS_TEXT}, traceparent, tracestate FROM events WHERE id > $1 AND id <= $2 ORDER BY events.id LIMIT $3`,
    [afterId.toString(), upTo.toString(), limit],
  );
  return rows.map(toStoredEvent);
}

/** The events of `ids` that are in the log, ascending. */
export async function readEventsById(sql: SqlPool, ids: bigint[]): Promise<StoredEvent[]> {
  if (!ids.length) return [];
  const rows = await sql.rows<EventRow>(
    `SELECT ${AS_TEXT} FROM events WHERE id = ANY($1::bigint[]) ORDER BY events.id`,
    [ids.map(String)],
  );
  return rows.map(toStoredEvent);
}

/**
 * The events addressed to `userId` after `afterId` and below the horizon, ascending, at most
 * `limit`. Two index range scans (user_a, user_b) merged.
 */
export async function readUserEvents(
  sql: SqlPool,
  userId: string,
  afterId: bigint,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await sql.rows<EventRow>(`WITH h AS (SELECT ${HORIZON} AS horizon) ${USER_EVENTS}`, [
    userId,
    afterId.toString(),
    limit,
  ]);
  return rows.map(toStoredEvent);
}

/**
 * The events of user `user` after id `after` below the horizon (a CTE `h` in the statement),
 * ascending, at most `limit` (SQL expressions: placeholders or columns), as `readUserEvents` reads
 * them, for statements that read them with more.
 */
export const userEventsSql = (user: string, after: string, limit: string) => `SELECT ${AS_TEXT} FROM (
    (SELECT ${EVENT_COLUMNS} FROM events, h WHERE user_a = ${user} AND id > ${after} AND id < h.horizon ORDER BY id LIMIT ${limit})
    UNION ALL
    (SELECT ${EVENT_COLUMNS} FROM events, h WHERE user_b = ${user} AND id > ${after} AND id < h.horizon ORDER BY id LIMIT ${limit})
  ) e ORDER BY e.id LIMIT ${limit}`;

const USER_EVENTS = userEventsSql('$1', '$2', '$3');

/** The newest event addressed to `userId` below the horizon, or 0 when there is none. */
export async function latestUserEventId(sql: SqlPool, userId: string): Promise<bigint> {
  const [row] = await sql.rows<{ id: string | null }>(
    `WITH h AS (SELECT ${HORIZON} AS horizon)
     SELECT GREATEST(
       (SELECT max(id) FROM events, h WHERE user_a = $1 AND id < h.horizon),
       (SELECT max(id) FROM events, h WHERE user_b = $1 AND id < h.horizon))::text AS id`,
    [userId],
  );
  return BigInt(row?.id ?? '0');
}

/** The two reads of every socket handshake (the first also of every authenticated request). */
export interface HandshakeReads {
  /**
   * whether an access token of `userId`'s login `familyId` may be used: 'revoked' once a token of
   * the login was (logout, refresh-token reuse), 'disabled' or 'deleted' as its user is, else 'live'
   */
  loginState(userId: string, familyId: string): Promise<LoginState>;
  /** the newest event addressed to `userId` below the horizon, or 0 */
  latestUserEventId(userId: string): Promise<bigint>;
}

/** A login state's number in the batch's answer: its index here (absent from the answer: 'live'). */
const LOGIN_STATES: readonly LoginState[] = ['live', 'revoked', 'disabled', 'deleted'];

/**
 * Every handshake checks its login is not revoked and its user exists and is not disabled (before
 * the socket is accepted; every REST request asks the same) and, without a lastEventId, looks up
 * the user's newest event (after it joined its rooms). The reads asked for together go in one
 * statement of both kinds (ReadBatcher: always a statement sent after the read was asked for, so
 * a revocation or a disabling committed before the handshake and an event below the horizon
 * after the join are seen): under load one round trip serves many handshakes.
 */
const HANDSHAKE_READS_SQL = `WITH h AS (SELECT ${HORIZON} AS horizon)
  SELECT 'r' || x.f || x.u AS k,
    CASE WHEN usr.id IS NULL THEN '${LOGIN_STATES.indexOf('deleted')}'
         WHEN usr.disabled_at IS NOT NULL THEN '${LOGIN_STATES.indexOf('disabled')}'
         ELSE '${LOGIN_STATES.indexOf('revoked')}' END AS v
  FROM unnest($1::text[], $2::text[]) AS x(f, u) LEFT JOIN users usr ON usr.id = x.u::uuid
  WHERE usr.id IS NULL OR usr.disabled_at IS NOT NULL
    OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = x.f::uuid AND revoked_at IS NOT NULL)
  UNION ALL
  SELECT 'l' || u, GREATEST(
    (SELECT max(id) FROM events, h WHERE user_a = u::uuid AND id < h.horizon),
    (SELECT max(id) FROM events, h WHERE user_b = u::uuid AND id < h.horizon))::text
  FROM unnest($3::text[]) AS u`;

/**
 * The handshake reads over `sql`, through one batcher: create it once per database (src/hub.ts)
 * and give it to every reader that asks these reads (the account store, the event reader), so their
 * reads share its statements.
 */
export function handshakeReads(
  sql: SqlPool,
  opts: {
    prepared: boolean;
    /** how long a read waits for others to share its statement (ReadBatcher's gatherMs) */
    gatherMs: number;
  },
): HandshakeReads {
  // a named statement, parsed once per connection, on a server; PGlite's one session is shared by
  // all the pool's connections, where a connection opened again would name it a second time
  const name = opts.prepared ? 'renex_handshake_reads' : undefined;
  // keys: 'r' + family id + user id, 'l' + user id (uuids of 36 characters: the prefix letter cannot be confused)
  const batch = new ReadBatcher<string, bigint>(
    async (keys) => {
      const families: string[] = [];
      const loginUsers: string[] = [];
      const users: string[] = [];
      for (const k of keys) {
        if (k[0] === 'r') {
          families.push(k.slice(1, 37));
          loginUsers.push(k.slice(37));
        } else users.push(k.slice(1));
      }
      const rows = await sql.rows<{ k: string; v: string | null }>(
        HANDSHAKE_READS_SQL,
        [families, loginUsers, users],
        name,
      );
      const values = new Map<string, bigint>();
      for (const r of rows) if (r.v !== null) values.set(r.k, BigInt(r.v));
      return values;
    },
    0n,
    { maxBatch: 500, maxRunning: 1, gatherMs: opts.gatherMs },
  );
  return {
    // an id that is no uuid names no row (and must not fail the batch's ::uuid cast)
    loginState: async (userId, familyId) => {
      if (!isUuidText(userId) || !isUuidText(familyId)) return 'revoked';
      return LOGIN_STATES[Number(await batch.get(`r${familyId}${userId}`))] ?? 'revoked';
    },
    latestUserEventId: async (userId) => (isUuidText(userId) ? batch.get(`l${userId}`) : 0n),
  };
}

/** Reading a user's stream: what replay and GET /events need from the log. */
export interface EventReader {
  userEvents(userId: string, afterId: bigint, limit: number): Promise<StoredEvent[]>;
  latestUserEventId(userId: string): Promise<bigint>;
}

/** `handshake`: the database's one batcher of handshake reads (see handshakeReads) */
export function eventReader(sql: SqlPool, handshake: HandshakeReads): EventReader {
  return {
    userEvents: (userId, afterId, limit) => readUserEvents(sql, userId, afterId, limit),
    // asked by every connection without lastEventId: batched with the handshakes' revocation checks
    latestUserEventId: (userId) => handshake.latestUserEventId(userId),
  };
}

/** Seconds since the oldest event the relay has not published was written; 0 when there is none. */
export async function outboxLag(sql: SqlPool): Promise<number> {
  const [row] = await sql.rows<{ lag: string | null }>(
    `SELECT extract(epoch FROM now() - min(at)) AS lag FROM events
     WHERE id > (SELECT last_id FROM outbox_cursor WHERE name = 'relay')`,
  );
  return Math.max(0, Number(row?.lag ?? 0));
}
