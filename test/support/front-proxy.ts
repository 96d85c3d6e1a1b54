// A loopback HTTP front for a hub, as a load balancer stands before one: requests and WebSocket
// upgrades are passed through to the hub, except the requests the test refuses (the balancer's own
// 503, or a 429 of a rate limiter in front of the hub), the answers it loses (passed to the hub,
// answered 502) and the upgrades it drops (the connection closed).
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface FrontProxy {
  url: string;
  /** the requests passed or refused, by method and path */
  seen: string[];
  /** answers a request with this status instead of passing it; undefined passes it */
  refuse: (req: http.IncomingMessage) => number | undefined;
  /** passes the request to the hub, then answers 502 instead of the hub's answer */
  lose: (req: http.IncomingMessage) => boolean;
  /** closes a WebSocket upgrade instead of passing it */
  drop: (req: http.IncomingMessage) => boolean;
  close(): Promise<void>;
}

export async function frontProxy(target: string): Promise<FrontProxy> {
  const to = new URL(target);
  const port = Number(to.port);
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    front.seen.push(`${req.method} ${req.url}`);
    const status = front.refuse(req);
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'refused by the front (test)' } }));
      return;
    }
    const lost = front.lose(req);
    const up = http.request(
      { host: to.hostname, port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        if (lost) {
          r.resume();
          r.on('end', () =>
            res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>'),
          );
          return;
        }
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  // a WebSocket upgrade: the request head again, then the bytes both ways
  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    front.seen.push(`UPGRADE ${req.url}`);
    if (front.drop(req)) {
      client.destroy();
      return;
    }
    const up = net.connect(port, to.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      client.pipe(up).pipe(client);
    });
    for (const s of [up, client]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        up.destroy();
        client.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const front: FrontProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [],
    refuse: () => undefined,
    lose: () => false,
    drop: () => false,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  return front;
}
