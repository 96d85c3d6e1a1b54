import type { Logger } from 'pino';
import type { EventType, MarketKey, StoredEvent } from '../domain/events.js';
import type { HubMetrics } from '../metrics.js';
import type { RelayBatch } from '../store/outbox/outbox-relay.js';

/** Events read per page while filling a gap from the log. */
const FILL_PAGE = 1000;
/** Steps waiting behind a fill before the older ones are dropped (the fill covers them anyway). */
const MAX_QUEUED = 256;
/** The longest wait between two tries of a fill that failed (the database is away). */
const FILL_RETRY_MAX_MS = 2000;

export interface EventStreamDeps {
  /** hands events, ascending and each once, to this node's sockets */
  deliver(events: StoredEvent[]): void;
  /** the log's events with `afterId < id <= upTo`, ascending, at most `limit` */
  readRange(afterId: bigint, upTo: bigint, limit: number): Promise<StoredEvent[]>;
  metrics?: HubMetrics;
  log: Logger;
}

/**
 * This node's copy of the relay's stream. The node keeps a position (every event up to it has been
 * handed to delivery) and takes the relay's steps in order: a step it has seen is dropped, a step
 * that overlaps is cut at the position, and a step that starts past the position (a publish that
 * failed, a message lost while the Redis subscription was down, a relay fail-over) first has the
 * missing stretch read from the log. So whatever Redis loses, every event reaches delivery once
 * and in id order; only its timing depends on Redis. The position only moves forward.
 */
export class EventStream {
  private position: bigint | undefined;
  private steppedAt = Number.NEGATIVE_INFINITY;
  /** steps waiting behind a fill, with when each was heard */
  private readonly queue: { batch: RelayBatch; at: number }[] = [];
  private draining = false;
  private stopped = false;

  constructor(private readonly deps: EventStreamDeps) {}

  /** Where the node starts (the relay's saved position); steps that came before wait for it. */
  start(position: bigint): void {
    this.position = position;
    void this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /**
   * When this node heard the relay's step it took last (a heartbeat included), if that step showed
   * the stream current (RelayBatch.stale) and nothing was missing before it; -Infinity while steps
   * wait behind a fill (a gap), or before the first. While the relay runs and no old transaction
   * holds the log back: less than the relay's heartbeat interval ago.
   */
  get lastStepAt(): number {
    return this.steppedAt;
  }

  /** how far this node has delivered */
  get delivered(): bigint | undefined {
    return this.position;
  }

  /** A step of the relay's stream (or a heartbeat: `from == to`, no events). */
  receive(batch: RelayBatch): void {
    if (this.stopped) return;
    // the usual case, a step that follows on: delivered at once, without waiting for a tick
    if (
      !this.draining &&
      this.queue.length === 0 &&
      this.position !== undefined &&
      batch.from <= this.position
    ) {
      this.apply(batch, Date.now());
      return;
    }
    this.steppedAt = Number.NEGATIVE_INFINITY; // behind: not current until the queue is through
    this.queue.push({ batch, at: Date.now() });
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - 1);
    void this.drain();
  }

  private async drain() {
    if (this.draining || this.position === undefined) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next && !this.stopped; next = this.queue.shift()) {
        if (next.batch.from > this.position) await this.fill(next.batch.from);
        this.apply(next.batch, next.at);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Hands on the part of a step (heard at `heardAt`) above the position. */
  private apply(batch: RelayBatch, heardAt: number) {
    const position = this.position!;
    this.steppedAt = batch.stale ? Number.NEGATIVE_INFINITY : heardAt;
    if (batch.to <= position) return;
    let first = 0;
    while (first < batch.events.length && batch.events[first]!.id <= position) first++;
    this.position = batch.to;
    if (first < batch.events.length) this.deps.deliver(first ? batch.events.slice(first) : batch.events);
  }

  /** Reads the log from the position up to `upTo` and hands it on, retrying while the database is away. */
  private async fill(upTo: bigint) {
    const { metrics, log } = this.deps;
    metrics?.streamGaps.inc();
    log.info(
      { from: this.position!.toString(), to: upTo.toString() },
      'filling a gap in the event stream from the log',
    );
    let wait = 50;
    while (this.position! < upTo && !this.stopped) {
      let page: StoredEvent[];
      try {
        page = await this.deps.readRange(this.position!, upTo, FILL_PAGE);
      } catch (err) {
        log.warn({ err }, 'reading the log to fill a gap failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(FILL_RETRY_MAX_MS, wait * 2);
        continue;
      }
      if (this.stopped) return;
      this.position = page.length < FILL_PAGE ? upTo : page[page.length - 1]!.id;
      if (page.length) {
        metrics?.streamFilled.inc(page.length);
        this.deps.deliver(page);
      }
    }
  }
}

/** A step on the wire between nodes (Redis): ids as text, times as ISO strings. */
interface WireBatch {
  from: string;
  to: string;
  stale?: boolean;
  /** the publishing node's id (live.ts): a node skips its own steps, which it took when it published */
  origin?: string;
  events: {
    id: string;
    type: EventType;
    at: string;
    users: string[];
    market?: MarketKey;
    data: unknown;
    /** the writing command's trace context, while tracing is on */
    trace?: StoredEvent['trace'];
  }[];
}

export function encodeBatch(b: RelayBatch, origin?: string): string {
  const wire: WireBatch = {
    // first, so that the publisher knows its own step by the text's start (ownStep)
    ...(origin && { origin }),
    from: b.from.toString(),
    to: b.to.toString(),
    events: b.events.map((e) => ({ ...e, id: e.id.toString(), at: e.at.toISOString() })),
    ...(b.stale && { stale: true }),
  };
  return JSON.stringify(wire);
}

/** Whether `text` is a step `origin` published (encodeBatch with it), without decoding it. */
export const ownStep = (text: string, origin: string): boolean =>
  text.startsWith(`{"origin":${JSON.stringify(origin)},`);

export function decodeBatch(text: string): RelayBatch {
  const wire = JSON.parse(text) as WireBatch;
  return {
    from: BigInt(wire.from),
    to: BigInt(wire.to),
    events: wire.events.map((e) => ({ ...e, id: BigInt(e.id), at: new Date(e.at) })),
    ...(wire.stale && { stale: true }),
  };
}
