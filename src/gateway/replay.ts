import type { Logger } from 'pino';
import type { EventReader } from '../store/outbox/event-log.js';
import type { Delivery } from './delivery.js';
import type { NewestEvents } from './newest-events.js';
import type { HubSocket } from './server.js';

/** `lastEventId` of the handshake: a decimal positive 64-bit integer, or absent. */
export function parseLastEventId(raw: unknown): bigint | undefined | 'invalid' {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,19}$/.test(raw)) return 'invalid';
  const id = BigInt(raw);
  return id <= 9_223_372_036_854_775_807n ? id : 'invalid';
}

/**
 * A connection's start: every event addressed to the user after `lastEventId`, in order, then
 * `sync`, then the live events that arrived meanwhile (held by Delivery, repeats dropped).
 * Without `lastEventId` nothing is replayed and `sync` names the user's newest event (from
 * NewestEvents once this node knows the user, else read from the log after the rooms were joined).
 * The caller has opened the socket's stream in Delivery before it joined its rooms.
 */
export async function replay(
  socket: HubSocket,
  lastEventId: bigint | undefined,
  deps: { delivery: Delivery; newest: NewestEvents; events: EventReader; max: number; log: Logger },
): Promise<void> {
  const { delivery, events, max } = deps;
  const userId = socket.data.userId;
  let replayed = 0;
  let truncated = false;
  try {
    if (lastEventId === undefined) {
      delivery.startAt(socket, await deps.newest.latest(userId, events.latestUserEventId));
    } else {
      delivery.startAt(socket, lastEventId);
      const missed = await events.userEvents(userId, lastEventId, max + 1);
      truncated = missed.length > max;
      for (const e of missed.slice(0, max)) delivery.sendDirect(socket, e);
      replayed = Math.min(missed.length, max);
    }
  } catch (err) {
    deps.log.error({ err, userId }, 'replay failed; closing the connection so the client retries');
    socket.disconnect(true);
    return;
  }
  delivery.release(socket, () => {
    const last = delivery.lastSent(socket);
    socket.emit('sync', { lastEventId: last > 0n ? last.toString() : null, replayed, truncated });
  });
}
