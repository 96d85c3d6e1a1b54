import type { Logger } from 'pino';
import { z } from 'zod';
import type { Accounts } from '../domain/auth/accounts.js';
import { HubError } from '../domain/errors.js';
import { requestIdInput } from '../domain/schemas.js';
import { toHubError } from '../errors.js';
import type { CommandRouter } from './commands.js';
import type { HubServer, HubSocket } from './server.js';

export const userRoom = (userId: string) => `u:${userId}`;
export const loginRoom = (familyId: string) => `l:${familyId}`;

export interface SocketAuthSettings {
  /** a socket is closed this long after its token expired, unless refreshed */
  graceMs: number;
  /** sockets one user may hold on this node */
  maxSocketsPerUser: number;
  /** true once the node is draining: new sockets are refused so clients go to another node */
  closing(): boolean;
}

/**
 * JWT on every socket for its whole life: verified at the handshake, warned with `auth:expiring`
 * ahead of expiry, closed after expiry plus grace unless `auth:refresh` brings a new token.
 */
export function installSocketAuth(
  io: HubServer,
  accounts: Accounts,
  settings: SocketAuthSettings,
  log: Logger,
  commands: CommandRouter,
): { connected(socket: HubSocket): void } {
  const timers = new Map<string, NodeJS.Timeout[]>();

  const clear = (socket: HubSocket) => {
    for (const t of timers.get(socket.id) ?? []) clearTimeout(t);
    timers.delete(socket.id);
  };

  const schedule = (socket: HubSocket) => {
    clear(socket);
    const { expiresAt } = socket.data;
    const left = expiresAt - Date.now();
    // warn a fifth of the remaining life ahead, at most a minute
    const warnIn = Math.max(0, left - Math.min(60_000, left / 5));
    timers.set(socket.id, [
      setTimeout(
        () => socket.emit('auth:expiring', { expiresAt: new Date(expiresAt).toISOString() }),
        warnIn,
      ),
      setTimeout(() => socket.disconnect(true), Math.max(0, left + settings.graceMs)),
    ]);
  };

  const refuse = (next: (err?: Error) => void, e: HubError) =>
    next(Object.assign(new Error(e.code), { data: e.toJSON() }));

  io.use((socket, next) => {
    if (settings.closing()) {
      return refuse(
        next,
        new HubError('UNAVAILABLE', 'This node is shutting down; connect again', { retryAfterMs: 100 }),
      );
    }
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    accounts.authenticate(auth?.token).then(
      (claims) => {
        const open = io.of('/').adapter.rooms.get(userRoom(claims.userId))?.size ?? 0;
        if (open >= settings.maxSocketsPerUser) {
          return refuse(
            next,
            new HubError('RATE_LIMITED', `At most ${settings.maxSocketsPerUser} connections per user`, {
              retryAfterMs: 1000,
            }),
          );
        }
        socket.data.userId = claims.userId;
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

  // a login that ends (logout, refresh-token reuse) closes its sockets on every node
  accounts.onLoginRevoked = (familyId) => io.in(loginRoom(familyId)).disconnectSockets(true);

  /** joins the user's rooms, starts the expiry clock and answers auth:refresh */
  const connected = (socket: HubSocket) => {
    void socket.join([userRoom(socket.data.userId), loginRoom(socket.data.familyId)]);
    schedule(socket);
    socket.on('disconnect', () => clear(socket));

    commands.on(socket, 'auth:refresh', {
      limited: false,
      schema: z.strictObject({ token: z.string().min(1).max(4096), requestId: requestIdInput.optional() }),
      async run({ token }) {
        const claims = await accounts.authenticate(token);
        if (claims.userId !== socket.data.userId) {
          throw new HubError('FORBIDDEN', 'The token belongs to another user');
        }
        if (claims.familyId !== socket.data.familyId) {
          void socket.leave(loginRoom(socket.data.familyId));
          void socket.join(loginRoom(claims.familyId));
        }
        socket.data.familyId = claims.familyId;
        socket.data.expiresAt = claims.expiresAt;
        schedule(socket);
        return { accessExpiresAt: new Date(claims.expiresAt).toISOString() };
      },
    });
  };
  return { connected };
}
