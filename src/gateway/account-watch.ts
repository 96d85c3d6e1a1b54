import type { Logger } from 'pino';
import { userRoom } from './auth.js';
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
 * the room reaches them through the adapter). A check still running when the next is due skips it.
 */
export function watchAccounts(
  io: HubServer,
  inactiveUsers: (userIds: string[]) => Promise<string[]>,
  intervalMs: number,
  log: Logger,
): AccountWatch {
  let running: Promise<void> | undefined;
  let stopped = false;

  const check = async () => {
    const users = new Set<string>();
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.userId) users.add(socket.data.userId);
    }
    if (users.size === 0) return;
    const gone = await inactiveUsers([...users]);
    for (const id of gone) io.in(userRoom(id)).disconnectSockets(true);
    if (gone.length) log.info({ users: gone.length }, 'closed the sockets of disabled or deleted users');
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
