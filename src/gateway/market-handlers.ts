import type { Logger } from 'pino';
import { z } from 'zod';
import type { Market } from '../domain/market.js';
import { cancelListingCommand, createListingCommand, feedFilterInput } from '../domain/schemas.js';
import { onCommand } from './commands.js';
import { isFeedRoom, roomsForFilter } from './feed-rooms.js';
import type { HubSocket } from './server.js';

/** listing:* and feed:* on one socket. */
export function registerMarketHandlers(socket: HubSocket, market: Market, log: Logger): void {
  const userId = () => socket.data.userId;

  onCommand(
    socket,
    'listing:create',
    {
      schema: createListingCommand,
      run: ({ requestId, ...input }) => market.createListing(userId(), input, requestId),
    },
    log,
  );

  onCommand(
    socket,
    'listing:cancel',
    {
      schema: cancelListingCommand,
      run: ({ requestId, listingId }) => market.cancelListing(userId(), listingId, requestId),
    },
    log,
  );

  onCommand(
    socket,
    'feed:subscribe',
    {
      schema: feedFilterInput,
      async run(filter) {
        leaveFeeds(socket);
        await socket.join(roomsForFilter(filter));
        return { filter };
      },
    },
    log,
  );

  onCommand(
    socket,
    'feed:unsubscribe',
    {
      schema: z.strictObject({}),
      async run() {
        leaveFeeds(socket);
        return {};
      },
    },
    log,
  );
}

function leaveFeeds(socket: HubSocket) {
  for (const room of socket.rooms) if (isFeedRoom(room)) void socket.leave(room);
}
