// The storm workload's load balancer: a TCP proxy (node:net) in its own child process, in front of
// the hub nodes, so that clients reach "the other node" after a failure without being told.
// Policy: least connections among the backends not marked down; a backend that refuses a new
// connection (ECONNREFUSED: the process is gone or no longer listening) is marked down for
// DOWN_MS and the connection goes to the next one, so no client sees the refusal. When a backend
// connection ends, its client connection is ended too (the client then reconnects through here).
// No health checks: failure is found passively, on the first refused connect.
// Driven over IPC like bench/swarm.ts (startSwarm('bench/workloads/storm/lb.ts')): ops `address`,
// `backends` {urls}, `stats`, `usage`.
import net from 'node:net';

const DOWN_MS = 2_000;

interface Backend {
  url: string;
  host: string;
  port: number;
  /** proxied connections open (or opening) to it */
  conns: number;
  /** connections handed to it since the last `stats` */
  opened: number;
  /** connects it refused since the last `stats` */
  refused: number;
  downUntil: number;
}

let backends: Backend[] = [];
let accepted = 0;
/** connections accepted per 250 ms since the last `stats`: the shape of a reconnect burst */
let timeline: number[] = [];
let since = performance.now();
let noBackend = 0;
let upstreamErrors = 0;

function route(client: net.Socket, tried: Set<Backend>): void {
  const now = Date.now();
  const live = backends.filter((b) => !tried.has(b) && b.downUntil <= now);
  // least connections; all down: try the ones marked down too, before giving up
  const pool = live.length ? live : backends.filter((b) => !tried.has(b));
  const b = pool.reduce<Backend | undefined>(
    (best, x) => (!best || x.conns < best.conns ? x : best),
    undefined,
  );
  if (!b) {
    noBackend++;
    client.destroy();
    return;
  }
  b.conns++;
  let connected = false;
  let failed = false;
  const up = net.connect({ host: b.host, port: b.port, noDelay: true });
  up.once('connect', () => {
    connected = true;
    b.opened++;
    client.pipe(up);
    up.pipe(client);
    client.resume();
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    if (connected) {
      upstreamErrors++;
      return;
    }
    failed = true;
    b.conns--;
    if (err.code === 'ECONNREFUSED') {
      b.refused++;
      b.downUntil = Date.now() + DOWN_MS;
    }
    tried.add(b);
    if (!client.destroyed) route(client, tried);
  });
  up.once('close', () => {
    if (connected) client.destroy();
    if (connected || !failed) b.conns--; // (a refused connect was counted off in 'error')
  });
  client.once('close', () => up.destroy());
}

const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => {
  accepted++;
  const slot = Math.floor((performance.now() - since) / 250);
  while (timeline.length <= slot) timeline.push(0);
  timeline[slot]!++;
  client.on('error', () => {});
  route(client, new Set());
});

const send = (m: unknown) => process.send?.(m);

function handle(m: { op: string; urls?: string[] }): unknown {
  switch (m.op) {
    case 'address':
      return { port: (server.address() as net.AddressInfo).port };
    case 'backends': {
      const old = new Map(backends.map((b) => [b.url, b]));
      backends = (m.urls ?? []).map((url) => {
        const u = new URL(url);
        return (
          old.get(url) ?? {
            url,
            host: u.hostname,
            port: Number(u.port),
            conns: 0,
            opened: 0,
            refused: 0,
            downUntil: 0,
          }
        );
      });
      return {};
    }
    case 'stats': {
      const out = {
        accepted,
        acceptedPer250ms: timeline,
        noBackend,
        upstreamErrors,
        backends: backends.map(({ url, conns, opened, refused }) => ({ url, conns, opened, refused })),
      };
      accepted = 0;
      timeline = [];
      since = performance.now();
      noBackend = 0;
      upstreamErrors = 0;
      for (const b of backends) {
        b.opened = 0;
        b.refused = 0;
      }
      return out;
    }
    case 'usage':
      return { cpu: process.cpuUsage(), rssBytes: process.memoryUsage().rss };
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

process.on('message', (m: { id: number; op: string }) => {
  try {
    send({ id: m.id, result: handle(m) });
  } catch (err) {
    send({ id: m.id, error: (err as Error).stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
// the hub's own LISTEN_BACKLOG default (node's is 511): the balancer must not be the first to drop SYNs
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => send({ ready: true }));
