import type { StoredEvent } from '../domain/events.js';

interface Entry {
  /** the newest event addressed to the user that this node knows of */
  id: bigint;
  /** false while the log's answer is awaited: `id` then holds only what the stream brought since */
  known: boolean;
}

/**
 * The newest event addressed to each user this node has looked up lately, kept current from its
 * stream: a connection without `lastEventId` starts there (src/gateway/replay.ts), and once its
 * user is known here, without a read of the log. A page reloaded, a second tab, a connection that
 * dropped and came back to this node: none asks the database again.
 *
 * Exact, not a guess: an entry is made before its read of the log is sent and follows every event
 * the stream hands out from then on; the read's answer (the user's newest event below the
 * horizon, in a snapshot taken after the entry was made) covers every event the stream handed out
 * before, since the relay publishes only what lies below the horizon, and the horizon only grows.
 * So an entry's value is at least every event of its user this node's sockets were handed, which
 * is what a connection's start needs (the stream never skips an event: src/gateway/event-stream.ts).
 * Before the node's stream runs, nothing is kept. At most `max` users, the least recently asked
 * about forgotten first.
 */
export class NewestEvents {
  private readonly entries = new Map<string, Entry>();

  private readonly max: number;
  private readonly counted: (from: 'memory' | 'log') => void;

  constructor(
    /** whether the node's stream runs (it has a position): entries are made only then */
    private readonly streaming: () => boolean,
    opts: {
      /** users kept (about 200 bytes each); @default 100000 */
      max?: number;
      /** counts each lookup by where its answer came from */
      counted?: (from: 'memory' | 'log') => void;
    } = {},
  ) {
    this.max = opts.max ?? 100_000;
    this.counted = opts.counted ?? (() => {});
  }

  /** The stream handed out these events (ascending): the entries of their users follow. */
  observe(events: readonly StoredEvent[]): void {
    if (this.entries.size === 0) return;
    for (const e of events) {
      for (const u of e.users) {
        const entry = this.entries.get(u);
        if (entry && e.id > entry.id) entry.id = e.id;
      }
    }
  }

  /** The user's newest event (0 when none): from the entry once known, else `read` from the log. */
  async latest(userId: string, read: (userId: string) => Promise<bigint>): Promise<bigint> {
    const found = this.entries.get(userId);
    if (found?.known) {
      // most recently used last: the first key is the one forgotten
      this.entries.delete(userId);
      this.entries.set(userId, found);
      this.counted('memory');
      return found.id;
    }
    this.counted('log');
    if (!this.streaming()) return read(userId);
    const entry = found ?? this.add(userId);
    let fromLog: bigint;
    try {
      fromLog = await read(userId);
    } catch (err) {
      if (!entry.known && this.entries.get(userId) === entry) this.entries.delete(userId);
      throw err;
    }
    if (fromLog > entry.id) entry.id = fromLog;
    entry.known = true;
    return entry.id;
  }

  /** how many users are kept (metrics, tests) */
  get size(): number {
    return this.entries.size;
  }

  private add(userId: string): Entry {
    const entry: Entry = { id: 0n, known: false };
    this.entries.set(userId, entry);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return entry;
  }
}
