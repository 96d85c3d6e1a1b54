import pg from 'pg';
import type { Logger } from 'pino';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { StoredEvent } from '../domain/events.js';
import { type EventRow, READ_LOG_SQL, readLog, toLogRead } from './event-log.js';

/** The longest wait between two reads while committed events are held back by the horizon. */
const HELD_RETRY_MAX_MS = 4;

/** Advisory lock naming the relay's leadership. */
const RELAY_LOCK = 7_263_110_003;

export interface RelayOptions {
  sequelize: Sequelize;
  /**
   * connection string of the same database, for the leader's own session (holding the lock);
   * unset for the embedded single-node database, where this node is always the leader
   */
  databaseUrl?: string;
  /** hands a batch of committed events, ascending, to delivery; returns false if it could not */
  publish(events: StoredEvent[]): boolean;
  log: Logger;
  /** events per read; @default 500 */
  batch?: number;
  /** poll interval when nothing kicks it; @default 100 */
  idleMs?: number;
  /** least time between two reads after kicks, so commits close together share a read; @default 2 */
  gatherMs?: number;
  /** how often a follower tries to become leader; @default 1000 */
  electionMs?: number;
}

/**
 * The outbox relay. One node of the cluster, holder of an advisory lock on a session of its own,
 * reads the event log in id order below the horizon (no transaction can still add ids there) and
 * publishes each event once, at most a poll interval after commit, or at once when kicked. Its
 * position is saved in outbox_cursor; a new leader resumes there, so a crash repeats events
 * (dropped by id downstream) and never skips one.
 */
export class OutboxRelay {
  private leaderSession: pg.Client | 'single-node' | undefined;
  private cursor = 0n;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private kicked = false;
  /** the wait before the next look while events are held back by the horizon; 0 when none are */
  private heldRetryMs = 0;
  private lastRead = Number.NEGATIVE_INFINITY;
  private readonly gatherMs: number;
  private stopped = false;
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly electionMs: number;

  constructor(private readonly opts: RelayOptions) {
    this.batch = opts.batch ?? 500;
    this.idleMs = opts.idleMs ?? 100;
    this.electionMs = opts.electionMs ?? 1000;
    this.gatherMs = opts.gatherMs ?? 2;
  }

  get isLeader(): boolean {
    return this.leaderSession !== undefined;
  }

  /** how far the relay has published */
  get position(): bigint {
    return this.cursor;
  }

  start(): void {
    this.schedule(0);
  }

  /** New events were committed: publish them now rather than at the next poll. */
  kick(): void {
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
    let next = this.isLeader ? this.idleMs : this.electionMs;
    try {
      if (!this.isLeader) await this.elect();
      if (this.isLeader) {
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
      next = Math.min(1000, this.idleMs * 5);
    } finally {
      this.running = false;
    }
    this.schedule(next);
  }

  private async publishBatch(): Promise<{ published: number; held: boolean }> {
    // the leader reads on its own session, so the relay never waits for (or holds) a pool connection
    const session = this.leaderSession;
    this.lastRead = performance.now();
    const { events, held } =
      session === 'single-node' || session === undefined
        ? await readLog(this.opts.sequelize, this.cursor, this.batch)
        : toLogRead(
            (
              await session.query<EventRow & { held: boolean }>(READ_LOG_SQL, [
                this.cursor.toString(),
                this.batch,
              ])
            ).rows,
          );
    if (events.length === 0) return { published: 0, held };
    // delivery is not possible now; keep the position
    if (!this.opts.publish(events)) return { published: 0, held: false };
    this.cursor = events[events.length - 1]!.id;
    const save = 'UPDATE outbox_cursor SET last_id = $1 WHERE name = $2 AND last_id < $1';
    const bind = [this.cursor.toString(), 'relay'];
    if (this.leaderSession === 'single-node') await this.opts.sequelize.query(save, { bind });
    else await (this.leaderSession as pg.Client).query(save, bind);
    return { published: events.length, held };
  }

  private async elect() {
    if (this.opts.databaseUrl === undefined) {
      const [row] = await this.opts.sequelize.query<{ last_id: string }>(
        "SELECT last_id::text AS last_id FROM outbox_cursor WHERE name = 'relay'",
        { type: QueryTypes.SELECT },
      );
      this.cursor = BigInt(row?.last_id ?? '0');
      this.leaderSession = 'single-node';
      return;
    }
    const session = new pg.Client({
      connectionString: this.opts.databaseUrl,
      application_name: 'renex-relay',
    });
    session.on('error', () => void this.resign());
    try {
      await session.connect();
      const { rows } = await session.query<{ won: boolean }>('SELECT pg_try_advisory_lock($1) AS won', [
        RELAY_LOCK,
      ]);
      if (!rows[0]?.won) {
        await session.end();
        return;
      }
      const cursor = await session.query<{ last_id: string }>(
        "SELECT last_id::text FROM outbox_cursor WHERE name = 'relay'",
      );
      this.cursor = BigInt(cursor.rows[0]?.last_id ?? '0');
      this.leaderSession = session;
      this.opts.log.info({ from: this.cursor.toString() }, 'this node relays the outbox');
    } catch (err) {
      await session.end().catch(() => {});
      throw err;
    }
  }

  private async resign() {
    const session = this.leaderSession;
    this.leaderSession = undefined;
    if (session && session !== 'single-node') await session.end().catch(() => {});
  }
}
