import { z } from 'zod';
import type { Market } from '../domain/market.js';
import {
  answerCommand,
  cancelListingCommand,
  counterCommand,
  createListingCommand,
  feedFilterInput,
  proposeCommand,
  requestIdInput,
  withdrawCommand,
} from '../domain/schemas.js';
import type { CommandRouter, CommandSpec } from './commands.js';
import { isFeedRoom, roomsForFilter } from './feed-rooms.js';
import type { HubSocket } from './server.js';

// Schemas and handlers are built once, not per socket: a zod schema costs kilobytes, and the
// handlers read everything they need from the socket they are given.
const feedSubscribeInput = feedFilterInput.extend({ requestId: requestIdInput.optional() });
const feedUnsubscribeInput = z.strictObject({ requestId: requestIdInput.optional() });

const terms = (t: { volumeKwh: bigint; pricePerKwh: bigint; note?: string }) => ({
  volumeWh: t.volumeKwh,
  priceE4: t.pricePerKwh,
  note: t.note,
});

// biome-ignore lint/suspicious/noExplicitAny: each spec keeps its own types; the table only lists them
type AnySpec = CommandSpec<any, unknown>;
const spec = <S extends z.ZodType, R>(s: CommandSpec<S, R>): AnySpec => s as AnySpec;

function marketSpecs(market: Market): [string, AnySpec][] {
  return [
    [
      'listing:create',
      spec({
        schema: createListingCommand,
        run: ({ requestId, ...input }, socket) => market.createListing(socket.data.userId, input, requestId),
      }),
    ],
    [
      'listing:cancel',
      spec({
        schema: cancelListingCommand,
        run: ({ requestId, listingId }, socket) =>
          market.cancelListing(socket.data.userId, listingId, requestId),
      }),
    ],
    [
      'swap:propose',
      spec({
        schema: proposeCommand,
        run: ({ requestId, listingId, ...t }, socket) =>
          market.propose(socket.data.userId, listingId, terms(t), requestId),
      }),
    ],
    [
      'swap:counter',
      spec({
        schema: counterCommand,
        run: ({ requestId, swapId, round, ...t }, socket) =>
          market.counter(socket.data.userId, swapId, round, terms(t), requestId),
      }),
    ],
    [
      'swap:accept',
      spec({
        schema: answerCommand,
        run: ({ requestId, swapId, round }, socket) =>
          market.accept(socket.data.userId, swapId, round, requestId),
      }),
    ],
    [
      'swap:reject',
      spec({
        schema: answerCommand,
        run: ({ requestId, swapId, round }, socket) =>
          market.reject(socket.data.userId, swapId, round, requestId),
      }),
    ],
    [
      'swap:withdraw',
      spec({
        schema: withdrawCommand,
        run: ({ requestId, swapId }, socket) => market.withdraw(socket.data.userId, swapId, requestId),
      }),
    ],
    [
      'feed:subscribe',
      spec({
        budget: 'feed',
        schema: feedSubscribeInput,
        async run({ requestId: _, ...filter }, socket) {
          leaveFeeds(socket);
          await socket.join(roomsForFilter(filter));
          return { filter };
        },
      }),
    ],
    [
      'feed:unsubscribe',
      spec({
        budget: 'feed',
        schema: feedUnsubscribeInput,
        async run(_input, socket) {
          leaveFeeds(socket);
          return {};
        },
      }),
    ],
  ];
}

const specsByMarket = new WeakMap<Market, [string, AnySpec][]>();

/** listing:*, swap:* and feed:* on one socket. */
export function registerMarketHandlers(socket: HubSocket, market: Market, commands: CommandRouter): void {
  let specs = specsByMarket.get(market);
  if (!specs) {
    specs = marketSpecs(market);
    specsByMarket.set(market, specs);
  }
  for (const [name, s] of specs) commands.on(socket, name, s);
}

function leaveFeeds(socket: HubSocket) {
  for (const room of socket.rooms) if (isFeedRoom(room)) void socket.leave(room);
}
