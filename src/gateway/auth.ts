import type { Logger } from 'pino';
import type { Accounts } from '../domain/auth/accounts.js';
import { unauthenticated } from '../domain/auth/tokens.js';
import { HubError } from '../domain/errors.js';
import { toHubError } from '../store/db/unavailable.js';
import { refreshInput } from './command-schemas.js';
import type { CommandRouter, CommandSpec } from './commands.js';
import type { HubServer, HubSocket } from './server.js';

export const userRoom = (userId: string) => `u:${userId}`;
export const loginRoom = (familyId: string) => `l:${familyId}`;

/** A login that ended (logout, refresh-token reuse) loses its sockets, on every node. */
export function closeLoginSockets(io: HubServer, familyId: string): void {
  io.in(loginRoom(familyId)).disconnectSockets(true);
}

export interface SocketAuthSettings {
  /** a socket is closed this long after its token expired, unless refreshed */
  graceMs: number;
  /** sockets one user may hold on this node, counting those admitted and still connecting */
  maxSocketsPerUser: number;
  /** true once the node is draining: new sockets are refused so clients go to another node */
  closing(): boolean;
  /**
   * whether the socket's login was revoked (or its user cut off), as far as this node knows now: a
   * socket admitted before that reached the node, and connected after it, is closed on connecting
   */
  revoked(socket: HubSocket): boolean;
}

/** Most a timer may wait (setTimeout's limit is 2^31 - 1 ms); longer waits are re-armed. */
const MAX_DELAY = 2 ** 31 - 1;

const refuse = (next: (err?: Error) => void, e: HubError) =>
  next(Object.assign(new Error(e.code), { data: e.toJSON() }));

/** What the rest of the gateway calls: `admit` as the last handshake middleware, `connected` on connection. */
export interface SocketAuth {
  /**
   * The per-user socket cap, decided and counted in one synchronous step, so concurrent handshakes
   * cannot all see room for one more. It must be the last middleware: once it lets a socket through,
   * only the connection closing can stop the socket from connecting (and that gives the slot back).
   */
  admit(socket: HubSocket, next: (err?: Error) => void): void;
  /** joins the user's rooms and starts the expiry clock */
  connected(socket: HubSocket): void;
  /** a socket `connected` saw connected has disconnected: its clock stops, its slot is given back */
  disconnected(socket: HubSocket): void;
}

/**
 * JWT on every socket for its whole life: verified at the handshake, warned with `auth:expiring`
 * ahead of expiry, closed after expiry plus grace unless `auth:refresh` brings a new token.
 * Each socket holds one timer at a time (the warning, then the closing), and the listeners and
 * the auth:refresh handler are shared by every socket: a connection costs as little as it can.
 */
export function installSocketAuth(
  io: HubServer,
  accounts: Accounts,
  settings: SocketAuthSettings,
  log: Logger,
  commands: CommandRouter,
): SocketAuth {
  /** the one pending expiry timer of each socket, by socket id */
  const timers = new Map<string, NodeJS.Timeout>();
  /** sockets each user holds on this node: connected, or admitted and about to connect */
  const held = new Map<string, number>();
  /** admitted sockets not yet connected: what gives their slot back if the connection closes first */
  const connecting = new WeakMap<HubSocket, () => void>();

  const release = (userId: string) => {
    const n = held.get(userId) ?? 0;
    if (n <= 1) held.delete(userId);
    else held.set(userId, n - 1);
  };
  const clear = (socket: HubSocket) => {
    const t = timers.get(socket.id);
    if (t !== undefined) {
      clearTimeout(t);
      timers.delete(socket.id);
    }
  };

  const arm = (socket: HubSocket, fire: (socket: HubSocket) => void, at: number) => {
    timers.set(socket.id, setTimeout(fire, Math.min(MAX_DELAY, Math.max(0, at - Date.now())), socket));
  };
  // The deadlines are read from socket.data when a timer fires, so a refresh only re-arms.
  const warnAt = (expiresAt: number, from: number) => {
    const left = expiresAt - from;
    // warn a fifth of the remaining life ahead, at most a minute
    return from + Math.max(0, left - Math.min(60_000, left / 5));
  };
  const closeAt = (socket: HubSocket) => socket.data.expiresAt + settings.graceMs;
  const warn = (socket: HubSocket) => {
    timers.delete(socket.id);
    if (!socket.connected) return;
    const { warnDueAt, expiresAt } = socket.data as Clock;
    if (Date.now() < warnDueAt) return arm(socket, warn, warnDueAt); // a wait longer than MAX_DELAY
    socket.emit('auth:expiring', { expiresAt: new Date(expiresAt).toISOString() });
    arm(socket, close, closeAt(socket));
  };
  const close = (socket: HubSocket) => {
    timers.delete(socket.id);
    if (!socket.connected) return;
    const at = closeAt(socket);
    if (Date.now() < at) return arm(socket, close, at);
    socket.disconnect(true);
  };
  /** (re)starts the expiry clock from now and the token's expiry */
  const schedule = (socket: HubSocket) => {
    clear(socket);
    const due = warnAt(socket.data.expiresAt, Date.now());
    (socket.data as Clock).warnDueAt = due;
    arm(socket, warn, due);
  };

  io.use((socket, next) => {
    if (settings.closing()) {
      return refuse(
        next,
        new HubError('UNAVAILABLE', 'This node is shutting down; connect again', {
          retryAfterMs: 100,
          reason: 'draining',
        }),
      );
    }
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    accounts.authenticate(auth?.token, 'stream').then(
      (claims) => {
        socket.data.userId = claims.userId;
        socket.data.displayName = claims.displayName ?? '';
        socket.data.familyId = claims.familyId;
        socket.data.expiresAt = claims.expiresAt;
        next();
      },
      (err) => {
        if (!(err instanceof HubError)) log.error({ err }, 'handshake failed');
        refuse(next, toHubError(err));
      },
    );
  });

  // spends from the feed budget: like feeds it changes only the connection, and a flood of
  // market commands must not keep a socket from renewing its token
  const refresh: CommandSpec<'auth:refresh'> = {
    budget: 'feed',
    schema: refreshInput,
    async run({ token }, socket) {
      const claims = await accounts.authenticate(token, 'stream');
      if (claims.userId !== socket.data.userId) {
        throw new HubError('FORBIDDEN', 'The token belongs to another user');
      }
      if (claims.familyId !== socket.data.familyId) {
        void socket.leave(loginRoom(socket.data.familyId));
        void socket.join(loginRoom(claims.familyId));
      }
      socket.data.familyId = claims.familyId;
      // revoked after the check and before the join: its event closed the room without this socket
      if (settings.revoked(socket)) {
        socket.disconnect(true);
        throw unauthenticated('revoked');
      }
      socket.data.expiresAt = claims.expiresAt;
      if (socket.connected) schedule(socket);
      return { accessExpiresAt: new Date(claims.expiresAt).toISOString() };
    },
  };

  commands.handle('auth:refresh', refresh);

  const admit = (socket: HubSocket, next: (err?: Error) => void) => {
    // The connection may have closed while the token was checked: its 'close' has then been
    // emitted already and would never give a slot back, and Socket.IO drops such a socket anyway.
    if (socket.conn.readyState !== 'open') return next(new Error('connection closed'));
    const { userId } = socket.data;
    const open = held.get(userId) ?? 0;
    if (open >= settings.maxSocketsPerUser) {
      return refuse(
        next,
        new HubError('RATE_LIMITED', `At most ${settings.maxSocketsPerUser} connections per user`, {
          retryAfterMs: 1000,
        }),
      );
    }
    held.set(userId, open + 1);
    const lost = () => {
      connecting.delete(socket);
      release(userId);
    };
    socket.conn.once('close', lost);
    connecting.set(socket, lost);
    next();
  };

  const connected = (socket: HubSocket) => {
    const lost = connecting.get(socket);
    // its connection closed first: the slot is back already (Socket.IO 4.8 emits no connection
    // then, but a slot must never be given back twice)
    if (!lost) return;
    connecting.delete(socket);
    socket.conn.off('close', lost); // from now on its disconnect gives the slot back
    if (!socket.connected) return release(socket.data.userId); // gone already: no disconnect will come
    void socket.join([userRoom(socket.data.userId), loginRoom(socket.data.familyId)]);
    // a revocation heard from now on closes the login's room, this socket in it
    if (settings.revoked(socket)) return void socket.disconnect(true);
    schedule(socket);
  };
  const disconnected = (socket: HubSocket) => {
    clear(socket);
    release(socket.data.userId);
  };
  return { admit, connected, disconnected };
}

/** socket.data plus when the current token's warning is due (kept on the socket, not in a closure) */
type Clock = HubSocket['data'] & { warnDueAt: number };
