// The bare relay: the physical-limit baseline of the socket workloads. A socket.io server (the
// hub's version, the same transports and buffer limit) that does nothing but relay `swap:propose`
// to the target user's room and ack it: no auth, no validation, no database.
// Usage (as a child process of a benchmark): node --import tsx bench/bare-relay.ts <port>
//   on connection: joins room `u:<auth.userId>`
//   on `swap:propose` {to, sentAt, ...}: emits `event` {id, type: 'swap.proposed', at, data: payload}
//   to room `u:<to>` and acks {ok: true, data: {...}} shaped like the hub's swap answer.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

const http = createServer((req, res) => {
  if (req.url === '/readyz' || req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});

const io = new Server(http, {
  transports: ['websocket', 'polling'],
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
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
});

http.listen(port, '127.0.0.1');

const stop = () => {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
