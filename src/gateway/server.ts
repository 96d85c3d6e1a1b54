import type { Server as HttpServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { RedisClients } from '../redis.js';
import { hubParser } from './json-parser.js';
import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from './protocol.js';

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface GatewayDeps {
  log: Logger;
  /** present when REDIS_URL is set: broadcasts then cross nodes */
  redis?: RedisClients;
  /** namespace of the adapter's channels */
  redisPrefix?: string;
  /** origins allowed to open a socket besides the hub's own */
  corsOrigins: string[];
  /** largest accepted message in bytes; @default 65536 */
  maxHttpBufferSize?: number;
}

/** Creates the Socket.IO server on the hub's HTTP server, with the Redis sharded adapter when configured. */
export function createGateway(httpServer: HttpServer, deps: GatewayDeps): HubServer {
  const io: HubServer = new Server(httpServer, {
    transports: ['websocket', 'polling'],
    maxHttpBufferSize: deps.maxHttpBufferSize ?? 64 * 1024,
    cors: deps.corsOrigins.length ? { origin: deps.corsOrigins, credentials: true } : undefined,
    // A browser always sends Origin: only the hub's own and the configured ones may open a socket
    // (no cross-site WebSocket hijacking). Clients that are not browsers send none.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (!origin) return callback(null, true);
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {}
      callback(null, host === req.headers.host || deps.corsOrigins.includes(origin));
    },
    serveClient: false,
    // the stock wire format; JSON numbers are read from their text, never rounded (json-parser.ts)
    parser: hubParser,
    ...(deps.redis
      ? {
          adapter: createShardedAdapter(deps.redis.pub, deps.redis.sub, {
            channelPrefix: `${deps.redisPrefix ?? 'renex'}#io`,
          }),
        }
      : {}),
  });
  return io;
}
