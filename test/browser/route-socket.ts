// A page's live connection through the test, as a network between the browser and the hub would
// carry it: down for a while, or losing some of the page's messages.
import type { Page, WebSocketRoute } from 'playwright-core';

/**
 * Routes a page's Socket.IO WebSocket through the test. While `down()`, each new connection is
 * closed at its first message (the network down: the engine.io handshake passes, the socket.io
 * connect is answered by a close); otherwise it is passed (`passed` gets it), and a message of the
 * page's for which `lose` is true is dropped on its way (the hub never sees it).
 */
export function routeSocket(
  page: Page,
  opts: {
    down?: () => boolean;
    lose?: (message: string | Buffer) => boolean;
    passed?: (ws: WebSocketRoute) => void;
  },
): Promise<void> {
  return page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    if (opts.down?.()) {
      server.onMessage((m) => ws.send(m));
      ws.onMessage(() => void ws.close({ code: 4000, reason: 'test: network down' }));
      return;
    }
    opts.passed?.(ws);
    const lose = opts.lose;
    if (!lose) return;
    server.onMessage((m) => ws.send(m));
    ws.onMessage((m) => {
      if (!lose(m)) server.send(m);
    });
  });
}
