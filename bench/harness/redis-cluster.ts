// A Redis Cluster on loopback for the benchmarks and the tests (test/support/redis-cluster.ts
// re-exports it): masters and their replicas as redis-server processes on spare ports, each with
// its own cluster bus port and its state in a temporary directory, joined by
// `redis-cli --cluster create ... --cluster-replicas N --cluster-yes`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort } from '../lib.js';

const run = promisify(execFile);

/**
 * The Socket.IO adapter's publish and subscribe clients (not yet connected) for `REDIS_URL` (one
 * Redis) or `REDIS_CLUSTER_NODES` (`host:port,...` of a Redis Cluster, as src/redis.ts connects:
 * ioredis Cluster clients, the subscriber with `shardedSubscribers: true`, one per master); none
 * without either.
 */
export function adapterClients(env: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
}): (Redis | Cluster)[] {
  if (env.REDIS_URL) return [0, 1].map(() => new Redis(env.REDIS_URL!, { lazyConnect: true }));
  const nodes = (env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .filter(Boolean)
    .map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) }));
  if (!nodes.length) return [];
  return [false, true].map(
    (shardedSubscribers) =>
      new Cluster(nodes, { lazyConnect: true, scaleReads: 'master', shardedSubscribers }),
  );
}

/** Why no Redis Cluster can be started here (redis-server 7+ and redis-cli needed), or undefined. */
export async function redisClusterMissing(): Promise<string | undefined> {
  try {
    const { stdout } = await run('redis-server', ['--version']);
    const major = Number(/v=(\d+)\./.exec(stdout)?.[1] ?? 0);
    await run('redis-cli', ['--version']);
    if (major < 7) return `redis-server ${major} is older than 7 (no sharded pub/sub)`;
    return undefined;
  } catch {
    return 'redis-server and redis-cli are not installed';
  }
}

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /** a node unreachable this long is failed and its replica promoted; @default 1000 */
  nodeTimeoutMs?: number;
}

/** One node as CLUSTER NODES tells it. */
interface NodeLine {
  address: string;
  role: 'master' | 'replica';
  failed: boolean;
  slots: boolean;
}

/** Resolves once `check` says true (asked every 50 ms, a throw counting as false); rejects after `ms`. */
async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (const started = performance.now(); performance.now() - started < ms; ) {
    const ok = await check().then(Boolean, () => false);
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`the Redis Cluster harness gave up waiting for ${what} after ${ms} ms`);
}

/** Sends one command to the node on `port` over a connection of its own, without retries. */
async function callOnce(port: number, [name, ...args]: string[]): Promise<unknown> {
  const conn = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    connectTimeout: 1000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  conn.on('error', () => {}); // the failure reaches the caller through connect() or the command
  try {
    await conn.connect();
    return await conn.call(name!, ...args);
  } finally {
    conn.disconnect();
  }
}

/** One cluster node: a redis-server process that can be killed and started again on its port. */
class ClusterNode {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    this.child = spawn('redis-server', [...args, ...this.args], { stdio: 'ignore' });
    await waitFor(
      async () => (await callOnce(this.port, ['PING'])) === 'PONG',
      10_000,
      `redis-server ${this.port}`,
    );
  }

  /** SIGKILL, keeping its files */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A Redis Cluster on loopback: `nodes` to give the hub (REDIS_CLUSTER_NODES), `killMaster` to fail a
 * shard over, `stop` to end it. Every node keeps its state in a temporary directory of the cluster's.
 */
export class RedisCluster {
  private constructor(
    private readonly servers: ClusterNode[],
    private readonly dir: string,
  ) {}

  static async start(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = opts.masters ?? 3;
    const replicas = opts.replicasPerMaster ?? 1;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-redis-cluster-'));
    const servers: ClusterNode[] = [];
    try {
      const taken = new Set<number>();
      const spare = async () => {
        let port = await freePort();
        while (taken.has(port)) port = await freePort(); // a probed port is free again until bound
        taken.add(port);
        return port;
      };
      for (let i = 0; i < masters * (1 + replicas); i++) {
        const port = await spare();
        // the cluster bus port is the port + 10000 by default, past 65535 for high spare ports
        const busPort = await spare();
        const server = new ClusterNode(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          path.join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(opts.nodeTimeoutMs ?? 1000),
          // a replica may always take over, however long it was away from its master
          '--cluster-replica-validity-factor',
          '0',
          '--dir',
          dir,
        ]);
        servers.push(server);
        await server.start();
      }
      const cluster = new RedisCluster(servers, dir);
      await run(
        'redis-cli',
        ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', String(replicas), '--cluster-yes'],
        { timeout: 60_000 },
      );
      await cluster.settled(masters, masters * replicas, 60_000);
      return cluster;
    } catch (err) {
      await Promise.all(servers.map((s) => s.kill()));
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** host:port of every node, as REDIS_CLUSTER_NODES takes them */
  get nodes(): string[] {
    return this.servers.map((s) => s.address);
  }

  /** the redis-server processes' ids (CPU accounting) */
  get pids(): number[] {
    return this.servers.flatMap((s) => (s.pid ? [s.pid] : []));
  }

  /** host:port of the masters that serve slots now, in port order */
  async masters(): Promise<string[]> {
    const lines = await this.view(this.living()[0]!);
    return lines
      .filter((n) => n.role === 'master' && n.slots && !n.failed)
      .map((n) => n.address)
      .sort();
  }

  /** which of `masters()` serves the slot of `name` (a key or a sharded channel) */
  async masterOf(name: string): Promise<number> {
    const at = this.living()[0]!;
    const slot = Number(await this.ask(at, ['CLUSTER', 'KEYSLOT', name]));
    const ranges = (await callOnce(at.port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const owner = ranges.find(([from, to]) => from <= slot && slot <= to)?.[2];
    return (await this.masters()).indexOf(owner ? `${owner[0]}:${owner[1]}` : '');
  }

  /** the sharded channels matching `pattern` that each master of `masters()` has subscribers on */
  async shardChannels(pattern: string): Promise<string[][]> {
    return Promise.all(
      (await this.masters()).map(async (address) => {
        const server = this.servers.find((s) => s.address === address)!;
        return ((await callOnce(server.port, ['PUBSUB', 'SHARDCHANNELS', pattern])) as string[]).sort();
      }),
    );
  }

  /**
   * Kills the `i`th master (of `masters()`) with SIGKILL, and waits until a replica has taken its
   * slots and every living node says the cluster is whole again. Resolves with the killed address.
   */
  async killMaster(i: number, timeoutMs = 60_000): Promise<string> {
    const address = (await this.masters())[i];
    if (!address) throw new Error(`no master ${i}`);
    const server = this.servers.find((s) => s.address === address)!;
    const masters = (await this.masters()).length;
    await server.kill();
    await this.settled(masters, this.living().length - masters, timeoutMs, address);
    return address;
  }

  /** Kills every node with SIGKILL, keeping their files: `restart` brings the same cluster back. */
  async kill(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  /** Starts the killed nodes again on their ports, and waits until the cluster is whole. */
  async restart(timeoutMs = 60_000): Promise<void> {
    const down = this.servers.filter((s) => !s.running);
    await Promise.all(down.map((s) => s.start()));
    await waitFor(async () => (await this.masters()).length > 0, timeoutMs, 'the Redis Cluster to elect');
    const masters = (await this.masters()).length;
    await this.settled(masters, this.servers.length - masters, timeoutMs);
  }

  /** Kills every node (SIGKILL) and removes their files. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private living(): ClusterNode[] {
    return this.servers.filter((s) => s.running);
  }

  /**
   * Waits until every living node reports `cluster_state:ok` with all 16384 slots served, sees
   * `masters` masters holding slots (none of them `gone`) and `replicas` replicas, and every
   * replica's link to its master is up (so that it can take over).
   */
  private async settled(masters: number, replicas: number, timeoutMs: number, gone?: string) {
    await waitFor(
      async () => {
        for (const s of this.living()) {
          const info = await this.ask(s, ['CLUSTER', 'INFO']);
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          const lines = (await this.view(s)).filter((n) => !n.failed);
          const serving = lines.filter((n) => n.role === 'master' && n.slots);
          if (serving.length !== masters || serving.some((n) => n.address === gone)) return false;
          if (lines.filter((n) => n.role === 'replica').length !== replicas) return false;
          const replication = await this.ask(s, ['INFO', 'replication']);
          if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        }
        return true;
      },
      timeoutMs,
      'the Redis Cluster to settle',
    );
  }

  private async view(server: ClusterNode): Promise<NodeLine[]> {
    const text = await this.ask(server, ['CLUSTER', 'NODES']);
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [, address, flags, , , , , , ...slots] = line.split(' ');
        const f = flags!.split(',');
        return {
          address: address!.split('@')[0]!,
          role: f.includes('master') ? ('master' as const) : ('replica' as const),
          failed: f.includes('fail') || f.includes('fail?') || f.includes('noaddr'),
          slots: slots.length > 0,
        };
      });
  }

  private async ask(server: ClusterNode, command: string[]): Promise<string> {
    return String(await callOnce(server.port, command));
  }
}
