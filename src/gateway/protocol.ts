// The typed event maps of the Socket.IO side of PROTOCOL.md. Every Server and Socket is typed with them.
import type { ErrorBody } from '../domain/errors.js';
import type { EventEnvelope } from '../domain/events.js';

export type { EventEnvelope };

export type Ack<T> = (answer: { ok: true; data: T } | { ok: false; error: ErrorBody }) => void;

export interface SyncMessage {
  lastEventId: string | null;
  replayed: number;
  truncated: boolean;
}

export interface ClientToServerEvents {
  'listing:create': (payload: unknown, ack: Ack<unknown>) => void;
  'listing:cancel': (payload: unknown, ack: Ack<unknown>) => void;
  'swap:propose': (payload: unknown, ack: Ack<unknown>) => void;
  'swap:counter': (payload: unknown, ack: Ack<unknown>) => void;
  'swap:accept': (payload: unknown, ack: Ack<unknown>) => void;
  'swap:reject': (payload: unknown, ack: Ack<unknown>) => void;
  'swap:withdraw': (payload: unknown, ack: Ack<unknown>) => void;
  'feed:subscribe': (payload: unknown, ack: Ack<unknown>) => void;
  'feed:unsubscribe': (payload: unknown, ack: Ack<unknown>) => void;
  'auth:refresh': (payload: unknown, ack: Ack<{ accessExpiresAt: string }>) => void;
}

export interface ServerToClientEvents {
  event: (event: EventEnvelope) => void;
  sync: (message: SyncMessage) => void;
  'auth:expiring': (message: { expiresAt: string }) => void;
}

export interface InterServerEvents {
  /** a node committed events: the relay leader should read the log now */
  'outbox:kick': () => void;
}

/** What the hub keeps on each socket. */
export interface SocketData {
  userId: string;
  /** the login the current access token belongs to */
  familyId: string;
  /** expiry of the current access token, ms since the epoch */
  expiresAt: number;
}
