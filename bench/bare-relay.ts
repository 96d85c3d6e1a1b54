// The bare relay: the physical-limit baseline of the socket workloads. A socket.io server (the
// hub's version, the same transports and buffer limit) that does nothing but relay `swap:propose`
// to the target user's room and ack it: no auth, no validation, no database.
// Usage (as a child process of a benchmark): node --import tsx bench/bare-relay.ts <port>
//   on connection: joins room `u:<auth.userId>`
//   on `swap:propose` {to, sentAt, ...}: emits `event` {id, type: 'swap.proposed', at, data: payload}
//   to room `u:<to>` and acks {ok: true, data: {...}} shaped like the hub's swap answer.
//   on `feed:subscribe` {}: joins room `feed`, acks {ok: true, data: {filter: {}}} (the hub's answer).
//   on `feed:publish` listing: emits `event` {id, type: 'listing.created', at, data: listing} to room
//   `feed` (every subscribed socket, as the hub's feed rooms) and acks {ok: true, data: listing}.
// With REDIS_URL (and REDIS_PREFIX), several relays form a cluster with the hub's adapter:
// @socket.io/redis-adapter's sharded adapter on ioredis, as src/gateway/server.ts sets it up; with
// REDIS_CLUSTER_NODES (host:port,...) instead, on a Redis Cluster as src/redis.ts connects to one:
// ioredis Cluster clients, the subscriber with `shardedSubscribers: true` (one per master).
import { createServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { adapterClients } from './harness/redis-cluster.js';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const redisPrefix = process.env.REDIS_PREFIX || 'bare';

const redis = adapterClients(process.env);
await Promise.all(redis.map((r) => r.connect()));

const http = createServer((req, res) => {
  if (req.url === '/readyz' || req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  // for the connect benchmark: heap and RSS of this process
  if (req.url === '/memory') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.memoryUsage()));
    return;
  }
  res.writeHead(404).end();
});

const io = new Server(http, {
  transports: ['websocket', 'polling'],
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
  ...(redis.length
    ? { adapter: createShardedAdapter(redis[0]!, redis[1]!, { channelPrefix: `${redisPrefix}#io` }) }
    : {}),
});

let nextId = 0n;

io.on('connection', (socket) => {
  const userId = String((socket.handshake.auth as { userId?: unknown })?.userId ?? '');
  if (userId) void socket.join(`u:${userId}`);
  socket.on('swap:propose', (payload: Record<string, unknown>, ack?: (answer: unknown) => void) => {
    const at = new Date().toISOString();
    io.to(`u:${String(payload?.to)}`).emit('event', {
      id: (++nextId).toString(),
      type: 'swap.proposed',
      at,
      data: payload,
    });
    if (typeof ack !== 'function') return;
    // the hub answers a propose with the swap; the same fields here keep the ack the same size
    ack({
      ok: true,
      data: {
        id: payload?.requestId,
        listingId: payload?.listingId,
        initiatorId: userId,
        recipientId: payload?.to,
        buyerId: userId,
        sellerId: payload?.to,
        status: 'open',
        round: 1,
        nextActorId: payload?.to,
        volumeKwh: payload?.volumeKwh,
        pricePerKwh: payload?.pricePerKwh,
        expiresAt: at,
        createdAt: at,
        updatedAt: at,
      },
    });
  });
  socket.on('feed:subscribe', (_filter: unknown, ack?: (answer: unknown) => void) => {
    void socket.join('feed');
    if (typeof ack === 'function') ack({ ok: true, data: { filter: {} } });
  });
  socket.on('feed:publish', (listing: Record<string, unknown>, ack?: (answer: unknown) => void) => {
    io.to('feed').emit('event', {
      id: (++nextId).toString(),
      type: 'listing.created',
      at: new Date().toISOString(),
      data: listing,
    });
    if (typeof ack === 'function') ack({ ok: true, data: listing });
  });
});

// the same accept queue as the hub (LISTEN_BACKLOG's default)
http.listen(port, '127.0.0.1', 4096);

const stop = () => {
  io.close(() => {
    for (const r of redis) r.disconnect();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
