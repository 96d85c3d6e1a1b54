// The cluster topology of docker-compose.yml inside a test: a Redis server of the test's own (on a
// spare port, so the shared one is untouched), hub nodes as child processes, and a TCP balancer.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { spawnHub } from './process.js';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `check` every 50 ms until it answers true (a check that throws counts as false); throws
 * naming `what` after `timeoutMs` (a function: read then, with the state that was reached).
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
}

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** A redis-server of the test's own; `stop` and `start` again on the same port. */
export class TestRedis {
  private child: ChildProcess | undefined;
  /** `args`: more redis-server arguments (a Redis Cluster node's, test/support/redis-cluster.ts) */
  constructor(
    readonly port: number,
    private readonly args: string[] = [],
  ) {}

  static async start(): Promise<TestRedis> {
    const r = new TestRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** started and not stopped or exited */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args],
      {
        stdio: 'ignore',
      },
    );
    await until(() => answers(this.port), 10_000, `redis-server on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

export interface NodeProcess {
  url: string;
  port: number;
  pid: number;
  output(): string;
  /** sends the signal and resolves with the exit code once the process has ended */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A hub node as a child process (src/main.ts); resolves once /readyz answers 200. */
export async function startNode(env: Record<string, string>, port?: number): Promise<NodeProcess> {
  port ??= await freePort();
  const p = spawnHub({ ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  // three nodes starting at once through tsx, beside a full test run, take tens of seconds on this box
  await until(
    async () => (await fetch(`${url}/readyz`)).ok,
    60_000,
    () => `hub node on ${port}: ${p.output()}`,
  );
  return {
    url,
    port,
    pid: p.child.pid!,
    output: p.output,
    async kill(signal = 'SIGTERM') {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      return p.exited;
    },
  };
}

/** A TCP balancer in front of nodes: each new connection goes to the next node that answers. */
export async function startBalancer(ports: number[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryNode = (attempt: number) => {
      if (attempt >= ports.length) return client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.once('error', () => tryNode(attempt + 1));
    };
    tryNode(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
