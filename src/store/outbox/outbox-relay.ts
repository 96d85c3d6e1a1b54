import pg from 'pg';
import type { Logger } from 'pino';
import type { StoredEvent } from '../../domain/events.js';
import type { SqlPool } from '../db/sql-pool.js';
import { type LogReadRow, READ_LOG_SQL, readLog, toLogRead } from './event-log.js';

/** The longest wait between two reads while committed events are held back by the horizon. */
const HELD_RETRY_MAX_MS = 4;

/**
 * How long a committed event may wait behind the horizon (an older transaction still runs) before
 * the relay's steps say the stream is stale.
 */
const STALE_AFTER_MS = 500;
/** entries kept of what waits behind the horizon */
const MAX_WAITING = 1024;

/** Advisory lock naming the relay's leadership. */
const RELAY_LOCK = 7_263_110_003;

/**
 * One step of the relay's stream: every event with `from < id <= to`, ascending. `from` is where
 * the previous step ended, so a receiver that is not at `from` knows it missed a step and fills the
 * gap from the log (src/gateway/event-stream.ts). A step with no events (`from == to`) is a
 * heartbeat: it tells receivers how far the relay has got while nothing happens.
 */
export interface RelayBatch {
  from: bigint;
  to: bigint;
  events: StoredEvent[];
  /**
   * true when the step does not show the stream current: a committed event has waited behind the
   * horizon for STALE_AFTER_MS (a transaction older than it still runs), or the step is a node's
   * own look at the saved position rather than the relay's. What a node answers from the stream
   * alone (src/domain/auth/revoked-logins.ts) it then reads from the database.
   */
  stale?: boolean;
}

export interface RelayOptions {
  /** the hub's pool: the relay's reads when it has no session of its own (embedded) */
  sql: SqlPool;
  /**
   * how to open the relay's own session (holding the leadership lock), on the same database;
   * unset for the embedded single-node database, where this node is always the leader
   */
  session?: pg.ClientConfig;
  /** hands a step of the stream to delivery; the relay moves on whatever becomes of it */
  publish(batch: RelayBatch): void;
  log: Logger;
  /** events per read; @default 500 */
  batch?: number;
  /** poll interval when nothing kicks it; @default 100 */
  idleMs?: number;
  /** least time between two reads after kicks, so commits close together share a read; @default 2 */
  gatherMs?: number;
  /** how often a follower tries to become leader; @default 1000 */
  electionMs?: number;
  /**
   * the longest time between two published steps (a heartbeat when nothing was read): a node that
   * hears none for a while answers nothing from the stream alone; @default 250
   */
  heartbeatMs?: number;
}

/**
 * The outbox relay. One node of the cluster, holder of an advisory lock on a session of its own,
 * reads the event log in id order below the horizon (no transaction can still add ids there) and
 * publishes it as one gap-free stream of steps, at most a poll interval after commit, or at once
 * when kicked. Its position is saved in outbox_cursor; a new leader resumes there, so a fail-over
 * repeats events (dropped by position downstream) and never skips one.
 *
 * Every node keeps one relay session for its whole life: followers try the lock on it every
 * `electionMs`, never per commit, so a busy cluster opens no PostgreSQL session for elections.
 */
export class OutboxRelay {
  /** the session of this node's relay: the lock's holder, or a follower's for its elections */
  private session: pg.Client | undefined;
  private leader = false;
  private cursor = 0n;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private kicked = false;
  /** the wait before the next look while events are held back by the horizon; 0 when none are */
  private heldRetryMs = 0;
  private lastRead = Number.NEGATIVE_INFINITY;
  private lastPublished = Number.NEGATIVE_INFINITY;
  /**
   * The newest held event of each read that found a newer one, and when: once the cursor passes an
   * entry it goes. The first entry not yet published has waited at least since its time.
   */
  private readonly waiting: { id: bigint; since: number }[] = [];
  /** a new leader cannot tell how long what it finds held has waited: as if long */
  private justElected = false;
  private stale = false;
  private stopped = false;
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly gatherMs: number;
  private readonly electionMs: number;
  private readonly heartbeatMs: number;

  constructor(private readonly opts: RelayOptions) {
    this.batch = opts.batch ?? 500;
    this.idleMs = opts.idleMs ?? 100;
    this.electionMs = opts.electionMs ?? 1000;
    this.gatherMs = opts.gatherMs ?? 2;
    this.heartbeatMs = opts.heartbeatMs ?? 250;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** how far the relay has published */
  get position(): bigint {
    return this.cursor;
  }

  start(): void {
    this.schedule(0);
  }

  /** New events were committed: publish them now rather than at the next poll (leader only). */
  kick(): void {
    if (!this.leader) return; // a follower looks for the lock on its own timer, never per commit
    this.kicked = true;
    // commits in quick succession share one read: at most one read per gatherMs
    if (!this.running) this.schedule(Math.max(0, this.lastRead + this.gatherMs - performance.now()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.resign();
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick() {
    if (this.running || this.stopped) return;
    this.running = true;
    let next = this.electionMs;
    try {
      if (!this.leader) await this.elect();
      if (this.leader) {
        this.kicked = false;
        const { published, held } = await this.publishBatch();
        if (published === this.batch) next = 0;
        else if (this.kicked) next = this.gatherMs;
        else if (held) {
          // committed events wait behind an older transaction. A command's kicks when it ends;
          // this covers one that does not (autovacuum's ANALYZE, a rollback, another database
          // on the server): look again soon, every few ms while they wait
          this.heldRetryMs = Math.min(HELD_RETRY_MAX_MS, this.heldRetryMs ? this.heldRetryMs * 2 : 1);
          next = this.heldRetryMs;
        } else {
          this.heldRetryMs = 0;
          next = this.idleMs;
        }
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'outbox relay pass failed; retrying');
      // a session that failed is gone (PostgreSQL ended it, or the network did): a new one next time
      if (this.opts.session) await this.resign();
      next = Math.min(1000, this.idleMs * 5);
    } finally {
      this.running = false;
    }
    this.schedule(next);
  }

  private async publishBatch(): Promise<{ published: number; held: boolean }> {
    // the leader reads on its own session, so the relay never waits for (or holds) a pool connection
    const session = this.session;
    this.lastRead = performance.now();
    const { events, heldTo } =
      session === undefined
        ? await readLog(this.opts.sql, this.cursor, this.batch)
        : toLogRead(
            (await session.query<LogReadRow>(READ_LOG_SQL, [this.cursor.toString(), this.batch])).rows,
          );
    const now = performance.now();
    const published = events.at(-1)?.id ?? this.cursor;
    const waiting = this.waiting;
    while (waiting.length > 0 && waiting[0]!.id <= published) waiting.shift();
    const since = this.justElected ? Number.NEGATIVE_INFINITY : now;
    this.justElected = false;
    if (heldTo !== undefined && heldTo > (waiting.at(-1)?.id ?? -1n)) {
      // bounded: past MAX_WAITING the last entry takes the newer id and keeps its (earlier) time
      if (waiting.length < MAX_WAITING) waiting.push({ id: heldTo, since });
      else waiting[waiting.length - 1]!.id = heldTo;
    }
    const wasStale = this.stale;
    this.stale = waiting.length > 0 && now - waiting[0]!.since >= STALE_AFTER_MS;
    const held = heldTo !== undefined;
    const from = this.cursor;
    if (events.length === 0) {
      // a heartbeat, and at once when the stream turns stale
      if (now - this.lastPublished >= this.heartbeatMs || this.stale !== wasStale) {
        this.emit({ from, to: from, events, ...(this.stale && { stale: true }) });
      }
      return { published: 0, held };
    }
    const to = events[events.length - 1]!.id;
    this.cursor = to;
    this.emit({ from, to, events, ...(this.stale && { stale: true }) });
    const save = 'UPDATE outbox_cursor SET last_id = $1 WHERE name = $2 AND last_id < $1';
    const bind = [to.toString(), 'relay'];
    if (session === undefined) await this.opts.sql.count(save, bind);
    else await session.query(save, bind);
    return { published: events.length, held };
  }

  private emit(batch: RelayBatch) {
    this.lastPublished = performance.now();
    this.opts.publish(batch);
  }

  private async elect() {
    if (this.opts.session === undefined) {
      this.cursor = await readRelayCursor(this.opts.sql);
      this.becomeLeader();
      return;
    }
    if (!this.session) {
      const session = new pg.Client(this.opts.session);
      // a session that breaks is noticed by its next query; this only keeps the error from crashing
      session.on('error', (err) => this.opts.log.debug({ err }, 'relay session failed'));
      try {
        await session.connect();
      } catch (err) {
        await session.end().catch(() => {});
        throw err;
      }
      this.session = session;
    }
    const { rows } = await this.session.query<{ won: boolean }>('SELECT pg_try_advisory_lock($1) AS won', [
      RELAY_LOCK,
    ]);
    if (!rows[0]?.won) return;
    const cursor = await this.session.query<{ last_id: string }>(
      "SELECT last_id::text FROM outbox_cursor WHERE name = 'relay'",
    );
    this.cursor = BigInt(cursor.rows[0]?.last_id ?? '0');
    this.becomeLeader();
    this.opts.log.info({ from: this.cursor.toString() }, 'this node relays the outbox');
  }

  private becomeLeader() {
    this.leader = true;
    this.waiting.length = 0;
    this.justElected = true;
  }

  private async resign() {
    const session = this.session;
    this.session = undefined;
    if (this.leader && session) this.opts.log.info('this node no longer relays the outbox');
    this.leader = false;
    if (session) await session.end().catch(() => {});
  }
}

/** How far the relay has published (and saved): every event up to it was handed to delivery. */
export async function readRelayCursor(sql: SqlPool): Promise<bigint> {
  const [row] = await sql.rows<{ last_id: string }>(
    "SELECT last_id::text AS last_id FROM outbox_cursor WHERE name = 'relay'",
  );
  return BigInt(row?.last_id ?? '0');
}
