import type { Logger } from 'pino';
import { loginRoom, userRoom } from './auth.js';
import type { HubServer } from './server.js';

/** The periodic check of the users connected to this node; `stop` waits for a running check. */
export interface AccountWatch {
  stop(): Promise<void>;
}

/**
 * Closes the live sockets of users disabled or deleted since they connected. An access token is
 * checked at the handshake only, so without this a socket of a disabled user would stay open
 * until its token expires. Every `intervalMs`, the users with a socket on this node are asked
 * about in one query (`inactiveUsers`), and those that are gone lose their sockets (on every node:
 * the room reaches them through the adapter); so do the sockets of logins revoked since
 * (`revokedLogins`), which the operator's disable revokes without any node hearing of it. A check still running when the next is due skips it.
 */
export function watchAccounts(
  io: HubServer,
  accounts: {
    inactiveUsers(userIds: string[]): Promise<string[]>;
    revokedLogins(familyIds: string[]): Promise<string[]>;
  },
  intervalMs: number,
  log: Logger,
): AccountWatch {
  let running: Promise<void> | undefined;
  let stopped = false;

  const check = async () => {
    const users = new Set<string>();
    const logins = new Set<string>();
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.userId) users.add(socket.data.userId);
      if (socket.data.familyId) logins.add(socket.data.familyId);
    }
    if (users.size === 0) return;
    // a login revoked outside the hub (the operator's disable) is heard of by no node: asked here,
    // so its socket closes even if the user was enabled again before this check
    const [gone, revoked] = await Promise.all([
      accounts.inactiveUsers([...users]),
      accounts.revokedLogins([...logins]),
    ]);
    for (const id of gone) io.in(userRoom(id)).disconnectSockets(true);
    for (const id of revoked) io.in(loginRoom(id)).disconnectSockets(true);
    if (gone.length) log.info({ users: gone.length }, 'closed the sockets of disabled or deleted users');
    if (revoked.length) log.info({ logins: revoked.length }, 'closed the sockets of revoked logins');
  };

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = check()
      .catch((err) => log.warn({ err }, 'account check failed; trying again at the next interval'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
