import type { Logger } from 'pino';
import { type EventEnvelope, type StoredEvent, toEnvelope } from '../domain/events.js';
import type { HubMetrics } from '../metrics.js';
import { userRoom } from './auth.js';
import { roomsForMarketEvent } from './feed-rooms.js';
import type { HubServer, HubSocket } from './server.js';

interface SocketStream {
  /** the highest event id this connection has been sent; it only grows */
  lastSent: bigint;
  /** the id of the last live event this connection was considered for (a socket in two rooms) */
  considered: bigint;
  /** live events that arrived while the connection was still replaying */
  held: { id: bigint; envelope: EventEnvelope }[] | undefined;
}

/**
 * Delivers committed events to this node's sockets: the users they are addressed to and the feeds
 * that match. Events come from this node's copy of the relay's stream (EventStream), ascending and
 * each once. Per connection, an event is sent only if its id is above the last one it was sent
 * (ascending order, repeats of replay dropped), and live events are held while the connection
 * replays. Sending is one local broadcast per event (Socket.IO encodes it once), to the event's
 * rooms except the sockets that must not get it now.
 */
export class Delivery {
  private readonly streams = new Map<string, SocketStream>();
  private readonly maxQueued: number;
  private readonly log: Logger | undefined;

  constructor(
    private readonly io: HubServer,
    private readonly metrics?: HubMetrics,
    opts: { maxQueued?: number; log?: Logger } = {},
  ) {
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.log = opts.log;
  }

  /**
   * Whether the socket's client has stopped reading: more than `maxQueued` messages wait for it
   * (Engine.IO's buffer: a WebSocket whose writes the kernel no longer takes, a polling client that
   * asks for nothing). Such a socket is closed rather than left to grow the node's memory with a
   * copy of every event for it; its client reconnects with its lastEventId and is replayed what it
   * missed.
   */
  private stalled(sockets: Map<string, HubSocket>, sid: string): boolean {
    const socket = sockets.get(sid);
    if (!socket) return false;
    // Engine.IO keeps the messages not yet handed to the transport in `writeBuffer`, which it does
    // not expose in its types (test/hardening/slow-consumer.test.ts fails if that changes)
    const queued = (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
    if (queued <= this.maxQueued) return false;
    this.log?.warn({ userId: socket.data.userId, queued }, 'a socket that stopped reading is closed');
    socket.disconnect(true);
    return true;
  }

  /** Sends events (ascending) to this node's sockets in their rooms. */
  deliver(events: StoredEvent[]): void {
    const { adapter, sockets } = this.io.of('/');
    const rooms = adapter.rooms;
    for (const e of events) {
      const targets = e.users.map(userRoom);
      if (e.market) targets.push(...roomsForMarketEvent(e.market));
      const envelope = toEnvelope(e);
      const except: string[] = [];
      let sending = false;
      for (const room of targets) {
        const sids = rooms.get(room);
        if (!sids) continue;
        for (const sid of sids) {
          const s = this.streams.get(sid);
          if (!s) {
            except.push(sid); // not a connection this node has opened: nothing to order against
            continue;
          }
          if (s.considered === e.id) continue;
          s.considered = e.id;
          if (s.held) s.held.push({ id: e.id, envelope });
          else if (e.id > s.lastSent && !this.stalled(sockets, sid)) {
            s.lastSent = e.id;
            sending = true;
            continue;
          }
          except.push(sid);
        }
      }
      if (!sending) continue;
      const to = this.io.local.to(targets);
      (except.length ? to.except(except) : to).emit('event', envelope);
    }
  }

  /** A new connection, before it joins any room: live events are held until `release`. */
  open(socket: HubSocket): void {
    this.streams.set(socket.id, { lastSent: 0n, considered: 0n, held: [] });
  }

  /** The connection closed (its disconnect): its stream ends. */
  close(socket: HubSocket): void {
    this.streams.delete(socket.id);
  }

  /** Where the connection's stream starts: events up to `id` count as sent. It never moves back. */
  startAt(socket: HubSocket, id: bigint): void {
    const s = this.streams.get(socket.id);
    if (s && id > s.lastSent) s.lastSent = id;
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
    if (!s?.held) return;
    const held = s.held;
    s.held = undefined;
    before();
    // held in the stream's order, which is ascending
    for (const h of held) {
      if (h.id <= s.lastSent) continue;
      s.lastSent = h.id;
      socket.emit('event', h.envelope);
    }
  }
}
