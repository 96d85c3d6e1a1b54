import type { StoredEvent } from '../../domain/events.js';
import type { NotifyTarget } from '../../domain/notify.js';
import type { SqlPool } from '../db/sql-pool.js';
import { type EventRow, HORIZON, toStoredEvent, userEventsSql } from '../outbox/event-log.js';
import { ReadBatcher } from '../reads/read-batcher.js';
import { type AttemptRecord, COLUMNS, type TargetRow, toTarget } from './target-rows.js';

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

/**
 * The two statements of a target's round, batched across the targets a node sends to at once
 * (src/notify/dispatcher.ts): its reading and its save.
 */
export function createRoundBatches(sql: SqlPool) {
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
         -- e.id is the id as text (userEventsSql hands it out so): ordered as a number
         ORDER BY q.n, e.id::bigint`,
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
  };
}
