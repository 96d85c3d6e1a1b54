import { type StoredEvent, toEnvelope } from '../domain/events.js';
import type { HubMetrics } from '../metrics.js';
import { userRoom } from './auth.js';
import { roomsForMarketEvent } from './feed-rooms.js';
import type { HubServer, HubSocket } from './server.js';

/** Socket.IO's EVENT packet type (socket.io-parser). */
const EVENT_PACKET = 2;

interface SocketStream {
  /** the highest event id this connection has been sent */
  lastSent: bigint;
  /** live events that arrived while the connection was still replaying, with their send */
  held: { id: bigint; send: () => void }[] | undefined;
}

type Apply = (opts: { flags?: Record<string, unknown> }, callback: (socket: HubSocket) => void) => void;

/**
 * Delivers committed events to rooms (users, feeds) through the adapter, so a broadcast crosses
 * nodes over Redis and reaches only nodes with interested sockets. On each receiving node the
 * adapter's per-socket step is wrapped: a connection is sent an event only if its id is above the
 * last one it was sent (ascending order, repeats dropped), and events are held back while the
 * connection replays. The event id travels in the broadcast's flags.
 */
export class Delivery {
  private readonly streams = new Map<string, SocketStream>();

  constructor(
    private readonly io: HubServer,
    private readonly metrics?: HubMetrics,
  ) {
    const adapter = io.of('/').adapter as unknown as { apply: Apply };
    const apply = adapter.apply.bind(adapter);
    adapter.apply = (opts, callback) => {
      const raw = opts.flags?.eventId;
      if (typeof raw !== 'string') return apply(opts, callback);
      const id = BigInt(raw);
      apply(opts, (socket) => this.offer(socket, id, () => callback(socket)));
    };
  }

  /** Broadcasts events (ascending) to the users they are addressed to and to matching feeds. */
  publish(events: StoredEvent[]): void {
    const adapter = this.io.of('/').adapter;
    for (const e of events) {
      const rooms = e.users.map(userRoom);
      if (e.market) rooms.push(...roomsForMarketEvent(e.market));
      void adapter.broadcast(
        { type: EVENT_PACKET, nsp: '/', data: ['event', toEnvelope(e)] },
        { rooms: new Set(rooms), except: new Set(), flags: { eventId: e.id.toString() } as never },
      );
    }
  }

  /** A new connection, before it joins any room: live events are held until `release`. */
  open(socket: HubSocket): void {
    this.streams.set(socket.id, { lastSent: 0n, held: [] });
    socket.once('disconnect', () => this.streams.delete(socket.id));
  }

  /** Holds live events again (a catch-up from the log is about to run); `release` ends it. */
  hold(socket: HubSocket): void {
    const s = this.streams.get(socket.id);
    if (s && !s.held) s.held = [];
  }

  /** Where the connection's stream starts: events up to `id` count as sent. */
  startAt(socket: HubSocket, id: bigint): void {
    const s = this.streams.get(socket.id);
    if (s) s.lastSent = id;
  }

  /** Sends one event directly (replay), keeping the order rule. */
  sendDirect(socket: HubSocket, e: StoredEvent): void {
    const s = this.streams.get(socket.id);
    if (!s || e.id <= s.lastSent) return;
    s.lastSent = e.id;
    this.metrics?.replayed.inc();
    socket.emit('event', toEnvelope(e));
  }

  lastSent(socket: HubSocket): bigint {
    return this.streams.get(socket.id)?.lastSent ?? 0n;
  }

  /** Ends the replay: `before` runs first (the sync message), then the held events in order. */
  release(socket: HubSocket, before: () => void): void {
    const s = this.streams.get(socket.id);
    if (!s) return;
    const held = s.held ?? [];
    s.held = undefined;
    before();
    held.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const h of held) this.offer(socket, h.id, h.send);
  }

  private offer(socket: HubSocket, id: bigint, send: () => void) {
    const s = this.streams.get(socket.id);
    if (!s) return send(); // not yet opened: nothing to order against
    if (s.held) {
      s.held.push({ id, send });
      return;
    }
    if (id <= s.lastSent) return;
    s.lastSent = id;
    send();
  }
}
