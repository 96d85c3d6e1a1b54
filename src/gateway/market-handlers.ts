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
import type { CommandRouter } from './commands.js';
import { isFeedRoom, roomsForFilter } from './feed-rooms.js';
import type { HubSocket } from './server.js';

/** listing:*, swap:* and feed:* on one socket. */
export function registerMarketHandlers(socket: HubSocket, market: Market, commands: CommandRouter): void {
  const userId = () => socket.data.userId;

  commands.on(socket, 'listing:create', {
    schema: createListingCommand,
    run: ({ requestId, ...input }) => market.createListing(userId(), input, requestId),
  });

  commands.on(socket, 'listing:cancel', {
    schema: cancelListingCommand,
    run: ({ requestId, listingId }) => market.cancelListing(userId(), listingId, requestId),
  });

  const terms = (t: { volumeKwh: bigint; pricePerKwh: bigint; note?: string }) => ({
    volumeWh: t.volumeKwh,
    priceE4: t.pricePerKwh,
    note: t.note,
  });
  commands.on(socket, 'swap:propose', {
    schema: proposeCommand,
    run: ({ requestId, listingId, ...t }) => market.propose(userId(), listingId, terms(t), requestId),
  });
  commands.on(socket, 'swap:counter', {
    schema: counterCommand,
    run: ({ requestId, swapId, round, ...t }) => market.counter(userId(), swapId, round, terms(t), requestId),
  });
  commands.on(socket, 'swap:accept', {
    schema: answerCommand,
    run: ({ requestId, swapId, round }) => market.accept(userId(), swapId, round, requestId),
  });
  commands.on(socket, 'swap:reject', {
    schema: answerCommand,
    run: ({ requestId, swapId, round }) => market.reject(userId(), swapId, round, requestId),
  });
  commands.on(socket, 'swap:withdraw', {
    schema: withdrawCommand,
    run: ({ requestId, swapId }) => market.withdraw(userId(), swapId, requestId),
  });

  commands.on(socket, 'feed:subscribe', {
    limited: false,
    schema: feedFilterInput.extend({ requestId: requestIdInput.optional() }),
    async run({ requestId: _, ...filter }) {
      leaveFeeds(socket);
      await socket.join(roomsForFilter(filter));
      return { filter };
    },
  });

  commands.on(socket, 'feed:unsubscribe', {
    limited: false,
    schema: z.strictObject({ requestId: requestIdInput.optional() }),
    async run() {
      leaveFeeds(socket);
      return {};
    },
  });
}

function leaveFeeds(socket: HubSocket) {
  for (const room of socket.rooms) if (isFeedRoom(room)) void socket.leave(room);
}
