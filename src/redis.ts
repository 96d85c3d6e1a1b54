import { Cluster, Redis } from 'ioredis';
import type { RedisClusterSettings } from './config-values.js';
import { reason, StartupError } from './store/db/database.js';

const SLOTS = 16_384;
/** how long a limit's count waits on a Redis Cluster before the node counts alone */
const LIMIT_COMMAND_TIMEOUT_MS = 500;

/** A connection to one Redis, or a client of a Redis Cluster (same commands, routed by slot). */
export type RedisClient = Redis | Cluster;

/** The Redis connections of one node: commands, and the adapter's publish and subscribe pair. */
export interface RedisClients {
  main: RedisClient;
  pub: RedisClient;
  /** on a Redis Cluster, one subscriber connection per master, for sharded pub/sub */
  sub: RedisClient;
  /** true on a Redis Cluster (REDIS_CLUSTER_NODES) */
  cluster: boolean;
  where: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function describe(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
}

/** Connects to REDIS_URL; a failure at start-up is one readable line. Later outages reconnect by themselves. */
export async function connectRedis(url: string): Promise<RedisClients> {
  let started = false;
  const make = (pipelined: boolean) =>
    new Redis(url, {
      lazyConnect: true,
      // commands issued in one tick (a relay batch's publishes, many commands' rate limits) share
      // one write; not for the subscriber
      enableAutoPipelining: pipelined,
      connectTimeout: 3_000,
      maxRetriesPerRequest: 2,
      // at start-up one failure is final; once running, retry forever, at most every 2 s
      retryStrategy: (times) => (started ? Math.min(times * 100, 2_000) : null),
    });
  const [main, pub, sub] = [make(true), make(true), make(false)];
  await connectAll([main, pub, sub], `Redis at ${describe(url)}`);
  started = true;
  return clients(main, pub, sub, false, describe(url), async () => {
    if (main.status !== 'ready') return false;
    return (await main.ping()) === 'PONG';
  });
}

/**
 * Connects to a Redis Cluster (REDIS_CLUSTER_NODES) with the same philosophy: a failure at start-up
 * is one readable line; later, a master that fails is replaced by its replica and the clients follow
 * (commands are redirected, the subscriber moves its channels to the new master by itself).
 */
export async function connectRedisCluster(settings: RedisClusterSettings): Promise<RedisClients> {
  let started = false;
  const where = `cluster ${settings.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  const make = (use: {
    pipelined?: boolean;
    subscriber?: boolean;
    queue?: boolean;
    commandTimeout?: number;
  }) =>
    new Cluster(settings.nodes, {
      lazyConnect: true,
      enableAutoPipelining: use.pipelined ?? false,
      enableOfflineQueue: use.queue ?? true,
      // writes and reads go to the masters: a replica may lag behind a limit's count
      scaleReads: 'master',
      // SSUBSCRIBE per shard: a subscriber connection to each master, moved on fail-over
      shardedSubscribers: use.subscriber ?? false,
      clusterRetryStrategy: (times) => (started ? Math.min(times * 100, 2_000) : null),
      redisOptions: {
        connectTimeout: 3_000,
        maxRetriesPerRequest: 2,
        username: settings.username,
        password: settings.password,
        tls: settings.tls ? {} : undefined,
        commandTimeout: use.commandTimeout,
      },
    });
  // The limits' counts (main) wait at most LIMIT_COMMAND_TIMEOUT_MS, then the node counts alone:
  // while one master is away the cluster client stays ready, so the limiters' own check (is Redis
  // ready?) does not see it, and a count would wait for the fail-over. ioredis does not apply that
  // timeout to auto-pipelined commands on a cluster (they waited 2 s in a fail-over), so main does
  // without. The relay's and the adapter's publishes (pub), which nothing waits for, keep it, and
  // fail at once while the whole cluster is away (single mode gives up after 2 retries) instead of
  // piling up for its return: a lost step is read from the log.
  const [main, pub, sub] = [
    make({ commandTimeout: LIMIT_COMMAND_TIMEOUT_MS }),
    make({ pipelined: true, queue: false }),
    make({ subscriber: true }),
  ];
  await connectAll([main, pub, sub], `Redis Cluster at ${where.slice('cluster '.length)}`, () =>
    explainSeeds(settings),
  );
  started = true;
  return clients(main, pub, sub, true, where, () => clusterServes(main, settings));
}

/** `explain`: a better reason than the client's, if it has one (the cluster client's are vague) */
async function connectAll(
  all: RedisClient[],
  what: string,
  explain: () => Promise<string | undefined> = async () => undefined,
): Promise<void> {
  let lastError: unknown;
  for (const c of all) {
    // outages are reported by /readyz, not as log noise
    c.on('error', (err) => {
      lastError = err;
    });
  }
  try {
    await Promise.all(all.map((c) => c.connect()));
  } catch (err) {
    for (const c of all) c.disconnect();
    const why = (await explain().catch(() => undefined)) ?? reason(lastError ?? err);
    throw new StartupError(`cannot reach ${what}: ${why}`);
  }
}

/**
 * Why the seed nodes did not give the cluster client a slot map ("Failed to refresh slots cache"):
 * the first seed's own answer to CLUSTER INFO, or its connection error.
 */
async function explainSeeds(settings: RedisClusterSettings): Promise<string | undefined> {
  const seed = settings.nodes[0]!;
  try {
    const info = await askOnce(seed, settings, ['CLUSTER', 'INFO']);
    if (!/^cluster_state:ok\s*$/m.test(info)) return `${seed.host}:${seed.port} says the cluster is not ok`;
    return undefined;
  } catch (err) {
    return `${seed.host}:${seed.port}: ${reason(err)}`;
  }
}

function clients(
  main: RedisClient,
  pub: RedisClient,
  sub: RedisClient,
  cluster: boolean,
  where: string,
  probe: () => Promise<boolean>,
): RedisClients {
  let closed = false;
  return {
    main,
    pub,
    sub,
    cluster,
    where,
    async ping() {
      try {
        return await probe();
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([main, pub, sub].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/**
 * The cluster serves every slot: it says so (`cluster_state:ok`), its slot map covers all 16384,
 * and every master in that map answers PING now. The last check sees a master that died before the
 * cluster has noticed (cluster-node-timeout) and until its replica has taken over.
 */
async function clusterServes(main: Cluster, settings: RedisClusterSettings): Promise<boolean> {
  if (main.status !== 'ready') return false;
  const info = String(await main.cluster('INFO'));
  if (!/^cluster_state:ok\s*$/m.test(info)) return false;
  const ranges = (await main.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  let covered = 0;
  const masters = new Set<string>();
  for (const [from, to, [host, port]] of ranges) {
    covered += to - from + 1;
    masters.add(`${host}:${port}`);
  }
  if (covered !== SLOTS) return false;
  const byAddress = new Map(main.nodes('all').map((n) => [`${n.options.host}:${n.options.port}`, n]));
  const answers = await Promise.all(
    [...masters].map(async (address) => {
      const node = byAddress.get(address);
      // the client drops a node whose connection ended, until its next look at the slots
      const at = address.lastIndexOf(':');
      const seed = { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
      return (await (node ? node.ping() : askOnce(seed, settings, ['PING']))) === 'PONG';
    }),
  );
  return answers.every(Boolean);
}

/** One command on a connection of its own, closed after: for a node the cluster client does not hold. */
async function askOnce(
  node: { host: string; port: number },
  settings: RedisClusterSettings,
  command: [string, ...string[]],
): Promise<string> {
  const r = new Redis({
    host: node.host,
    port: node.port,
    username: settings.username,
    password: settings.password,
    tls: settings.tls ? {} : undefined,
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let failure: unknown;
  r.on('error', (err) => {
    failure = err;
  });
  try {
    await r.connect();
    return String(await r.call(...command));
  } catch (err) {
    throw failure ?? err;
  } finally {
    r.disconnect();
  }
}
