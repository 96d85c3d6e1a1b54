/** Event types of PROTOCOL.md. */
export type ListingEventType = 'listing.created' | 'listing.updated' | 'listing.closed';
export type SwapEventType =
  | 'swap.proposed'
  | 'swap.countered'
  | 'swap.accepted'
  | 'swap.rejected'
  | 'swap.withdrawn'
  | 'swap.expired'
  | 'swap.voided';
/** A trade's life after accept (PROTOCOL-MARKET.md): to each party, data the trade from its side. */
export type TradeEventType = 'trade.curtailed' | 'trade.settled';
/** The public tape's trade, to feed subscribers (live only, like `listing.*`). */
export type MarketEventType = 'market.trade';
/** To the owner of a listing that a new listing crosses (personal, replayed). */
export type MatchEventType = 'listing.matched';
/** To the owner of a webhook the hub disabled after its deliveries failed for days (PROTOCOL-PUSH.md). */
export type WebhookEventType = 'webhook.disabled';
/**
 * Internal, never sent to a client: who may use an access token changed (a login revoked, a user
 * disabled, enabled or deleted), written by the database with the change, addressed to no user and
 * no market, read by every node's stream (src/domain/auth/revoked-logins.ts).
 */
export type AccountEventType = 'access.changed';
export type EventType =
  | ListingEventType
  | SwapEventType
  | TradeEventType
  | MarketEventType
  | MatchEventType
  | WebhookEventType
  | AccountEventType;

/** The events of the market feed (live only): a listing's life and the tape. */
export const isMarketEventType = (type: string): boolean =>
  type === 'listing.created' ||
  type === 'listing.updated' ||
  type === 'listing.closed' ||
  type === 'market.trade';

/** Where a market event is routed: feed subscribers whose filter matches these. */
export interface MarketKey {
  energyType: string;
  zone: string;
  /** a listing's side; a trade has none and goes to subscribers of either side */
  side?: string;
}

/** An event a command produces; the store gives it its id and time when it commits. */
export interface EventDraft {
  type: EventType;
  data: unknown;
  /** the users it is addressed to (one or two): their personal stream, replay and history */
  users: string[];
  /** set for market events, which also reach matching feed subscribers live */
  market?: MarketKey;
}

/** A committed event, as stored and delivered. */
export interface StoredEvent {
  id: bigint;
  type: EventType;
  at: Date;
  users: string[];
  market?: MarketKey;
  data: unknown;
  /**
   * the W3C trace context of the command that wrote it, when tracing was on (docs/telemetry.md);
   * carried to every node's delivery, never to clients
   */
  trace?: { traceparent: string; tracestate?: string };
}

/** The wire envelope `{id, type, at, data}`; ids are decimal strings. */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  at: string;
  data: T;
}

export const toEnvelope = (e: StoredEvent): EventEnvelope => ({
  id: e.id.toString(),
  type: e.type,
  at: e.at.toISOString(),
  data: e.data,
});
