// The typed event maps of the Socket.IO side of PROTOCOL.md. Every Server and Socket is typed with them.
import type { z } from 'zod';
import type { ErrorBody } from '../domain/errors.js';
import type { EventEnvelope } from '../domain/events.js';
import type { ListingView } from '../domain/listing.js';
import type {
  amendListingCommand,
  answerCommand,
  cancelListingCommand,
  counterCommand,
  createListingCommand,
  FeedFilter,
  proposeCommand,
  withdrawCommand,
} from '../domain/schemas.js';
import type { SwapView } from '../domain/swap.js';
import type { feedSubscribeInput, feedUnsubscribeInput, refreshInput } from './command-schemas.js';

export type { EventEnvelope };

export type Ack<T> = (answer: { ok: true; data: T } | { ok: false; error: ErrorBody }) => void;

export interface SyncMessage {
  lastEventId: string | null;
  replayed: number;
  truncated: boolean;
}

/** One command: the zod schema that parses its payload at the edge, and what its ack carries. */
interface Command<S extends z.ZodType, Data> {
  schema: S;
  /** what a client sends (decimals as strings or numbers, times as ISO strings) */
  input: z.input<S>;
  /** the ack's `data` once the command is committed */
  data: Data;
}

/**
 * The one map of the socket commands of PROTOCOL.md, from which `ClientToServerEvents`, the
 * server's handlers (`CommandSpec`) and the bundled client's methods all take their types.
 */
export interface CommandMap {
  'listing:create': Command<typeof createListingCommand, ListingView>;
  'listing:cancel': Command<typeof cancelListingCommand, ListingView>;
  'listing:amend': Command<typeof amendListingCommand, ListingView>;
  'swap:propose': Command<typeof proposeCommand, SwapView>;
  'swap:counter': Command<typeof counterCommand, SwapView>;
  'swap:accept': Command<typeof answerCommand, SwapView>;
  'swap:reject': Command<typeof answerCommand, SwapView>;
  'swap:withdraw': Command<typeof withdrawCommand, SwapView>;
  'feed:subscribe': Command<typeof feedSubscribeInput, { filter: FeedFilter }>;
  'feed:unsubscribe': Command<typeof feedUnsubscribeInput, Record<string, never>>;
  'auth:refresh': Command<typeof refreshInput, { accessExpiresAt: string }>;
}

export type CommandName = keyof CommandMap;
export type CommandSchema<K extends CommandName> = CommandMap[K]['schema'];
export type CommandInput<K extends CommandName> = CommandMap[K]['input'];
/** what the handler receives once the schema has parsed the payload (bigint units, Dates) */
export type CommandParsed<K extends CommandName> = z.output<CommandSchema<K>>;
export type CommandData<K extends CommandName> = CommandMap[K]['data'];

/** An ack's answer: the data once committed, or the error with its protocol code. */
export type AckAnswer<T> = Parameters<Ack<T>>[0];

export type ClientToServerEvents = {
  [K in CommandName]: (payload: CommandInput<K>, ack: Ack<CommandData<K>>) => void;
};

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
  /** the user's display name, stored with the listings and swaps they open */
  displayName: string;
  /** the login the current access token belongs to */
  familyId: string;
  /** expiry of the current access token, ms since the epoch */
  expiresAt: number;
}
