// A Redis Cluster of the test's own: masters and their replicas as redis-server processes on spare
// loopback ports (test/support/cluster.ts's TestRedis), created with `redis-cli --cluster create`.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, TestRedis, until } from './cluster.js';
import { redisCall, requireServices } from './services.js';

const run = promisify(execFile);

/**
 * True when redis-server (7 or later: sharded pub/sub) and redis-cli are installed; otherwise prints
 * one line and returns false, or throws under REQUIRE_SERVICES.
 */
export async function redisClusterAvailable(what: string): Promise<boolean> {
  let problem: string | undefined;
  try {
    const { stdout } = await run('redis-server', ['--version']);
    const major = Number(/v=(\d+)\./.exec(stdout)?.[1] ?? 0);
    if (major < 7) problem = `redis-server ${major} is older than 7 (no sharded pub/sub)`;
    await run('redis-cli', ['--version']);
  } catch {
    problem = 'redis-server and redis-cli are not installed';
  }
  if (!problem) return true;
  if (requireServices) throw new Error(`${what}: ${problem} and REQUIRE_SERVICES=1`);
  console.warn(`skipped: ${what}: ${problem}`);
  return false;
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

/**
 * A Redis Cluster on loopback: `nodes` to give the hub (REDIS_CLUSTER_NODES), `killMaster` to fail a
 * shard over, `stop` to end it. Every node keeps its state in a temporary directory of the cluster's.
 */
export class TestRedisCluster {
  private constructor(
    private readonly servers: TestRedis[],
    private readonly dir: string,
  ) {}

  static async start(opts: RedisClusterOptions = {}): Promise<TestRedisCluster> {
    const masters = opts.masters ?? 3;
    const replicas = opts.replicasPerMaster ?? 1;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-redis-cluster-'));
    const servers: TestRedis[] = [];
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
        const server = new TestRedis(port, [
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
      const cluster = new TestRedisCluster(servers, dir);
      await run(
        'redis-cli',
        ['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', String(replicas), '--cluster-yes'],
        { timeout: 60_000 },
      );
      await cluster.settled(masters, masters * replicas, 60_000);
      return cluster;
    } catch (err) {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** host:port of every node, as REDIS_CLUSTER_NODES takes them */
  get nodes(): string[] {
    return this.servers.map((s) => `127.0.0.1:${s.port}`);
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
    const ranges = (await this.call(at, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
    const owner = ranges.find(([from, to]) => from <= slot && slot <= to)?.[2];
    return (await this.masters()).indexOf(owner ? `${owner[0]}:${owner[1]}` : '');
  }

  /** the sharded channels matching `pattern` that each master of `masters()` has subscribers on */
  async shardChannels(pattern: string): Promise<string[][]> {
    return Promise.all(
      (await this.masters()).map(async (address) => {
        const server = this.servers.find((s) => `127.0.0.1:${s.port}` === address)!;
        return ((await this.call(server, ['PUBSUB', 'SHARDCHANNELS', pattern])) as string[]).sort();
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
    const server = this.servers.find((s) => `127.0.0.1:${s.port}` === address)!;
    const masters = (await this.masters()).length;
    await server.stop();
    await this.settled(masters, this.living().length - masters, timeoutMs, address);
    return address;
  }

  /** Kills every node with SIGKILL, keeping their files: `restart` brings the same cluster back. */
  async kill(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }

  /** Starts the killed nodes again on their ports, and waits until the cluster is whole. */
  async restart(timeoutMs = 60_000): Promise<void> {
    const down = this.servers.filter((s) => !s.running);
    await Promise.all(down.map((s) => s.start()));
    await until(async () => (await this.masters()).length > 0, timeoutMs, 'the Redis Cluster to elect');
    const masters = (await this.masters()).length;
    await this.settled(masters, this.servers.length - masters, timeoutMs);
  }

  /** Kills every node (SIGKILL) and removes their files. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private living(): TestRedis[] {
    return this.servers.filter((s) => s.running);
  }

  /**
   * Waits until every living node reports `cluster_state:ok` with all 16384 slots served, sees
   * `masters` masters holding slots (none of them `gone`) and `replicas` replicas, and every
   * replica's link to its master is up (so that it can take over).
   */
  private async settled(masters: number, replicas: number, timeoutMs: number, gone?: string) {
    await until(
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

  private async view(server: TestRedis): Promise<NodeLine[]> {
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

  private async ask(server: TestRedis, command: string[]): Promise<string> {
    return String(await this.call(server, command));
  }

  private async call(server: TestRedis, command: string[]): Promise<unknown> {
    return redisCall(`redis://127.0.0.1:${server.port}`, command);
  }
}
