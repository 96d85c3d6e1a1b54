import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import {
  clientAddress,
  limitKey,
  type TrustFunction,
  type TrustProxy,
  trustFunction,
} from '../http/client-address.js';
import type { RedisClients } from '../redis.js';
import { adapterSubscriber } from './adapter-subscriber.js';
import { hubParser } from './json-parser.js';
import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from './protocol.js';
import { UnauthenticatedLimit } from './unauthenticated-limit.js';

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface GatewayDeps {
  log: Logger;
  /** present when REDIS_URL or REDIS_CLUSTER_NODES is set: broadcasts then cross nodes */
  redis?: RedisClients;
  /** namespace of the adapter's channels */
  redisPrefix?: string;
  /** origins allowed to open a socket besides the hub's own */
  corsOrigins: string[];
  /** largest accepted message in bytes; @default 65536 */
  maxHttpBufferSize?: number;
  /** time a new connection has to complete the namespace CONNECT (its token checked); @default 10000 */
  handshakeTimeoutMs?: number;
  /** engine connections one address may hold before they authenticate; @default 50 */
  unauthenticatedPerAddress?: number;
  /**
   * proxies whose X-Forwarded-For names the client (per-address limits) and whose
   * X-Forwarded-Proto names the scheme (the hub's own origin); @default false
   */
  trustProxy?: TrustProxy;
}

/**
 * Creates the Socket.IO server of the hub, with the Redis sharded adapter when
 * configured. Before any token is read, a connection must come from an allowed origin, from an
 * address with fewer than `unauthenticatedPerAddress` connections still unauthenticated, and must
 * complete its handshake within `handshakeTimeoutMs`.
 */
/** The Socket.IO server, and how to attach it to the HTTP server once that exists. */
export interface Gateway {
  io: HubServer;
  /** serves Socket.IO on `server` (with the per-address count of unauthenticated connections) */
  attach(server: HttpServer): void;
}

/** The Socket.IO server is built before the HTTP app that needs the market it feeds; `attach` joins them. */
export function createGateway(deps: GatewayDeps): Gateway {
  const trust = trustFunction(deps.trustProxy ?? false);
  const unauthenticated = new UnauthenticatedLimit(deps.unauthenticatedPerAddress ?? 50, (req) =>
    limitKey(clientAddress(req, trust)),
  );
  const io: HubServer = new Server({
    transports: ['websocket', 'polling'],
    maxHttpBufferSize: deps.maxHttpBufferSize ?? 64 * 1024,
    cors: deps.corsOrigins.length ? { origin: deps.corsOrigins, credentials: true } : undefined,
    // Socket.IO closes a connection that has not joined the namespace by then (its default, 45 s,
    // let idle unauthenticated connections pile up)
    connectTimeout: deps.handshakeTimeoutMs ?? 10_000,
    allowRequest: (req, callback) => {
      // A browser always sends Origin: only the hub's own and the configured ones may open a socket
      // (no cross-site WebSocket hijacking). Clients that are not browsers send none.
      if (!originAllowed(req, deps.corsOrigins, trust)) return callback(null, false);
      if (!unauthenticated.admit(req)) return callback('RATE_LIMITED', false);
      callback(null, true);
    },
    serveClient: false,
    // the stock wire format; JSON numbers are read from their text, never rounded (json-parser.ts)
    parser: hubParser,
    ...(deps.redis ? { adapter: redisAdapter(deps.redis, deps.redisPrefix ?? 'renex', deps.log) } : {}),
  });
  return {
    io,
    attach(server) {
      io.attach(server);
      unauthenticated.install(io);
    },
  };
}

/**
 * The sharded Redis adapter (SPUBLISH/SSUBSCRIBE, Redis 7): its channels are `<prefix>#io#/#` (every
 * node: server-side emits such as the relay's kick, socket disconnects) and `<prefix>#io#/#<uid>#` (a
 * node's answers), each its own slot, so on a Redis Cluster they spread over the shards. The
 * subscription mode is `static`: the hub sends events to rooms only on its own node (from the relay
 * stream, src/gateway/live.ts), so a channel per room (`dynamic`, the adapter's default) would cost
 * two subscriptions per socket at its handshake (its user's and its login's rooms) and two more at its
 * end, on every node, all to be moved at a fail-over, and carry nothing. The subscriber retries a
 * refused subscription (src/gateway/adapter-subscriber.ts) rather than stop the node.
 */
function redisAdapter(redis: RedisClients, prefix: string, log: Logger) {
  return createShardedAdapter(redis.pub, adapterSubscriber(redis.sub, log), {
    channelPrefix: `${prefix}#io`,
    subscriptionMode: 'static',
  });
}

/**
 * The hub's own origin is the scheme and host the request reached it at; a page of the same host
 * over the other scheme is another site. The scheme is the connection's own, or behind a trusted
 * proxy the first one X-Forwarded-Proto names (where the browser's request arrived).
 */
function originAllowed(req: IncomingMessage, corsOrigins: string[], trust: TrustFunction): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (corsOrigins.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  let scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const forwarded = req.headers['x-forwarded-proto'];
  const peer = req.socket.remoteAddress;
  if (typeof forwarded === 'string' && peer !== undefined && trust(peer, 0)) {
    const first = forwarded.split(',')[0]!.trim().toLowerCase();
    if (first === 'http' || first === 'https') scheme = first;
  }
  try {
    const theirs = new URL(origin).origin;
    return theirs !== 'null' && theirs === new URL(`${scheme}://${host}`).origin;
  } catch {
    return false; // not a URL, or a Host that is not a host
  }
}
