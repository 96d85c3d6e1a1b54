// The objects of PROTOCOL.md as clients receive them: decimals and times are strings.
// Type-only: the domain's wire types are the one definition; nothing of the domain is bundled.

import type { OfferView, SwapView } from '../domain/swap.js';
import type { Ack, CommandData, CommandInput, CommandName } from '../gateway/protocol.js';

export type { Session, UserView as User } from '../domain/auth/accounts.js';
export type { StatementLine, StatementTotals } from '../domain/energy/statements.js';
export type { ErrorCode } from '../domain/errors.js';
export type { ListingView as Listing, SlotView as Slot } from '../domain/listing.js';

export type Offer = OfferView;
/** A swap; `GET /api/v1/swaps/:id` adds the whole offer thread. */
export type Swap = SwapView & { offers?: OfferView[] };

export type { FeesView as Fees } from '../domain/energy/fees.js';
export type { MeterSlotView as MeterSlot, MeterView as Meter } from '../domain/energy/meters.js';
export type { TapeView as TapeTrade } from '../domain/energy/tape.js';
export type { ZoneView as Zone } from '../domain/energy/zones.js';
export type { TradeView as Trade } from '../domain/trade.js';

// The socket commands, from the protocol's one map (src/gateway/protocol.ts): inputs as the
// commands' zod schemas accept them, ack data as the hub answers them.
export type { CommandData, CommandInput, CommandName };

/** Any string, without swallowing the literals it is united with (editors still suggest them). */
export type AnyString = string & Record<never, never>;

/** A value of an input with its closed sets of strings left open: `'solar' | 'wind' | AnyString`. */
type Open<V> = V extends readonly (infer E)[]
  ? Open<E>[]
  : V extends string
    ? string extends V
      ? V
      : V | AnyString
    : V;

/**
 * An input as the client accepts it: the schema's input type, except that a closed set of strings
 * (side, energy type) takes any string. The hub is the one that validates: a value outside the set
 * is its VALIDATION_FAILED, as for a script in any language, and callers that hold a plain string
 * (a form field, a fixture) need no cast. Fields, optionality and every other type are the schema's.
 */
export type Lenient<T> = { [P in keyof T]: Open<T[P]> };

/** What the caller passes for command K: its input without the `requestId` the client adds. */
export type CommandArgs<K extends CommandName> = K extends CommandName
  ? Lenient<Omit<CommandInput<K>, 'requestId'>>
  : never;

/** The commands whose input requires a `requestId`: those that change state (listing:*, swap:*). */
export type StateCommand = {
  [K in CommandName]: CommandInput<K> extends { requestId: string } ? K : never;
}[CommandName];

/** The client's side of `ClientToServerEvents`: the same commands and acks, inputs `Lenient`. */
export type ClientCommandEvents = {
  [K in CommandName]: (payload: Lenient<CommandInput<K>>, ack: Ack<CommandData<K>>) => void;
};
