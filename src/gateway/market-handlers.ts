import type { MarketProfile } from '../domain/energy/zones.js';
import type { Market } from '../domain/market.js';
import {
  amendListingCommand,
  answerCommand,
  cancelListingCommand,
  counterCommand,
  createListingCommand,
  proposeCommand,
  withdrawCommand,
} from '../domain/schemas.js';
import { feedSubscribeInput, feedUnsubscribeInput } from './command-schemas.js';
import type { CommandRouter, CommandSpec } from './commands.js';
import { isFeedRoom, roomsForFilter } from './feed-rooms.js';
import type { CommandName } from './protocol.js';
import type { HubSocket } from './server.js';

// Schemas and handlers are built once, not per socket: a zod schema costs kilobytes, and the
// handlers read everything they need from the socket they are given.

const terms = (t: { volumeKwh: bigint; pricePerKwh: bigint; note?: string }) => ({
  volumeWh: t.volumeKwh,
  priceE4: t.pricePerKwh,
  note: t.note,
});

/** The socket's user as the market knows a trader. */
const trader = (socket: HubSocket) => ({ id: socket.data.userId, name: socket.data.displayName });

/** A command and its spec, checked together against the protocol's map, ready to register. */
type Registration = (commands: CommandRouter) => void;
const command =
  <K extends CommandName>(name: K, spec: CommandSpec<K>): Registration =>
  (commands) =>
    commands.handle(name, spec);

function marketSpecs(market: Market, profile: MarketProfile): Registration[] {
  return [
    command('listing:create', {
      schema: createListingCommand,
      run: ({ requestId, ...input }, socket) => market.createListing(trader(socket), input, requestId),
    }),
    command('listing:cancel', {
      schema: cancelListingCommand,
      run: ({ requestId, listingId }, socket) =>
        market.cancelListing(socket.data.userId, listingId, requestId),
    }),
    command('listing:amend', {
      schema: amendListingCommand,
      run: ({ requestId, listingId, pricePerKwh, volumeKwh }, socket) =>
        market.amendListing(
          socket.data.userId,
          listingId,
          { priceE4: pricePerKwh, volumeWh: volumeKwh },
          requestId,
        ),
    }),
    command('swap:propose', {
      schema: proposeCommand,
      run: ({ requestId, listingId, meterId, ...t }, socket) =>
        market.propose(trader(socket), listingId, meterId, terms(t), requestId),
    }),
    command('swap:counter', {
      schema: counterCommand,
      run: ({ requestId, swapId, round, ...t }, socket) =>
        market.counter(socket.data.userId, swapId, round, terms(t), requestId),
    }),
    command('swap:accept', {
      schema: answerCommand,
      run: ({ requestId, swapId, round }, socket) =>
        market.accept(socket.data.userId, swapId, round, requestId),
    }),
    command('swap:reject', {
      schema: answerCommand,
      run: ({ requestId, swapId, round }, socket) =>
        market.reject(socket.data.userId, swapId, round, requestId),
    }),
    command('swap:withdraw', {
      schema: withdrawCommand,
      run: ({ requestId, swapId }, socket) => market.withdraw(socket.data.userId, swapId, requestId),
    }),
    command('feed:subscribe', {
      budget: 'feed',
      schema: feedSubscribeInput,
      async run({ requestId: _, ...asked }, socket) {
        // the zones as events name them (the market's spelling), whatever the letter case asked
        const filter = asked.zones ? { ...asked, zones: asked.zones.map((z) => profile.zoneId(z)) } : asked;
        leaveFeeds(socket);
        await socket.join(roomsForFilter(filter));
        return { filter };
      },
    }),
    command('feed:unsubscribe', {
      budget: 'feed',
      schema: feedUnsubscribeInput,
      async run(_input, socket) {
        leaveFeeds(socket);
        return {};
      },
    }),
  ];
}

/** Registers the listing:*, swap:* and feed:* handlers over `market`, once per hub, for every socket. */
export function registerMarketHandlers(
  market: Market,
  commands: CommandRouter,
  profile: MarketProfile,
): void {
  for (const register of marketSpecs(market, profile)) register(commands);
}

function leaveFeeds(socket: HubSocket) {
  for (const room of socket.rooms) if (isFeedRoom(room)) void socket.leave(room);
}
