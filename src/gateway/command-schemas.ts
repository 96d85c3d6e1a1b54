// The zod schemas of the commands that change only the connection (feed:*, auth:refresh); those of
// listing:* and swap:* are the domain's (src/domain/schemas.ts), shared with REST. Kept apart from
// the handlers, with no Node or Socket.IO import, so protocol.ts (and through it the bundled client
// and the dashboard) can take their types from here.
import { z } from 'zod';
import { feedFilterInput, requestIdInput } from '../domain/schemas.js';

// Built once, not per socket: a zod schema costs kilobytes, and there may be tens of thousands of sockets.
export const feedSubscribeInput = feedFilterInput.extend({ requestId: requestIdInput.optional() });
export const feedUnsubscribeInput = z.strictObject({ requestId: requestIdInput.optional() });
export const refreshInput = z.strictObject({
  token: z.string().min(1).max(4096),
  requestId: requestIdInput.optional(),
});
