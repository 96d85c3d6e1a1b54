import type { Logger } from 'pino';
import type { MarketProfile } from '../domain/energy/zones.js';
import { HubError } from '../domain/errors.js';
import type { Market } from '../domain/market.js';
import type { HubMetrics } from '../metrics.js';
import type { EventReader } from '../store/outbox/event-log.js';
import type { SocketAuth } from './auth.js';
import type { CommandRouter } from './commands.js';
import type { Delivery } from './delivery.js';
import { registerMarketHandlers } from './market-handlers.js';
import type { NewestEvents } from './newest-events.js';
import { parseLastEventId, replay } from './replay.js';
import type { HubServer, HubSocket } from './server.js';

export interface ConnectionDeps {
  auth: SocketAuth;
  delivery: Delivery;
  newest: NewestEvents;
  events: EventReader;
  market: Market;
  /** the market's zones: feed filters name them in any letter case */
  profile: MarketProfile;
  commands: CommandRouter;
  metrics: HubMetrics;
  replayMax: number;
  log: Logger;
}

/** What happens on each connection, in order: stream opened, rooms joined, handlers, replay, sync. */
export function installConnections(io: HubServer, deps: ConnectionDeps): void {
  io.use((socket, next) => {
    const parsed = parseLastEventId(
      (socket.handshake.auth as Record<string, unknown> | undefined)?.lastEventId,
    );
    if (parsed !== 'invalid') return next();
    const e = new HubError('VALIDATION_FAILED', 'lastEventId must be a decimal event id', {
      issues: [{ path: 'lastEventId', message: 'must be a decimal string of a positive 64-bit integer' }],
    });
    next(Object.assign(new Error(e.code), { data: e.toJSON() }));
  });
  // last: nothing may refuse a socket after it took its slot
  io.use(deps.auth.admit);

  // one listener and one replay context for every socket: a connection should cost little memory
  const gauge = deps.metrics.sockets;
  // Every socket's one disconnect listener (shared: Socket.IO calls it with the socket as `this`).
  // A client that leaves the namespace but keeps its connection would hold it with no handshake
  // deadline and outside the per-address count of unauthenticated connections: it is closed.
  function disconnected(this: HubSocket, reason: string) {
    gauge.dec();
    deps.delivery.close(this);
    deps.auth.disconnected(this);
    if (reason === 'client namespace disconnect') this.conn.close();
  }
  const replayDeps = {
    delivery: deps.delivery,
    newest: deps.newest,
    events: deps.events,
    max: deps.replayMax,
    log: deps.log,
  };
  registerMarketHandlers(deps.market, deps.commands, deps.profile);
  io.on('connection', (socket) => {
    // gone during the handshake's last step: no disconnect will come (auth gives its slot back)
    if (!socket.connected) return deps.auth.connected(socket);
    gauge.inc();
    socket.on('disconnect', disconnected);
    deps.delivery.open(socket);
    deps.auth.connected(socket);
    deps.commands.attach(socket);
    const lastEventId = parseLastEventId((socket.handshake.auth as Record<string, unknown>).lastEventId);
    void replay(socket, lastEventId === 'invalid' ? undefined : lastEventId, replayDeps);
  });
}
