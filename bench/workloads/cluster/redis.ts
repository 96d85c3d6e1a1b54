// Which Redis the cluster and relay workloads run on: a Redis Cluster of their own (3 masters and
// 3 replicas on loopback, bench/harness/redis-cluster.ts), the default, or with
// BENCH_REDIS_CLUSTER=0 the one Redis of REDIS_URL.
import { randomBytes } from 'node:crypto';
import { RedisCluster, redisClusterMissing } from '../../harness/redis-cluster.js';
import { assertLocal, dropRedisPrefix } from '../../harness.js';

export interface BenchRedis {
  mode: 'redis-cluster' | 'single';
  /** what the results call it */
  where: string;
  /** the redis-server processes of the cluster (none for the shared Redis) */
  pids: number[];
  /** a fresh namespace and the environment that points a hub node or a bare relay at it */
  namespace(tag: string): { prefix: string; env: Record<string, string>; drop(): Promise<void> };
  stop(): Promise<void>;
}

/** The Redis of the run, or why there is none (the workload is then skipped). */
export async function benchRedis(): Promise<BenchRedis | string> {
  const namespaced =
    (base: Record<string, string>, drop: (prefix: string) => Promise<unknown>) => (tag: string) => {
      const prefix = `bench-${tag}-${randomBytes(4).toString('hex')}`;
      return { prefix, env: { ...base, REDIS_PREFIX: prefix }, drop: async () => void (await drop(prefix)) };
    };
  if (process.env.BENCH_REDIS_CLUSTER === '0') {
    const url = process.env.REDIS_URL || undefined;
    if (!url) return 'BENCH_REDIS_CLUSTER=0 needs REDIS_URL';
    assertLocal(url, 'REDIS_URL');
    return {
      mode: 'single',
      where: `one Redis at ${new URL(url).host}`,
      pids: [],
      namespace: namespaced({ REDIS_URL: url }, (p) => dropRedisPrefix(url, p).catch(() => 0)),
      stop: async () => {},
    };
  }
  const missing = await redisClusterMissing();
  if (missing) return `${missing} (BENCH_REDIS_CLUSTER=0 runs on REDIS_URL instead)`;
  const cluster = await RedisCluster.start({ nodeTimeoutMs: 5000 });
  return {
    mode: 'redis-cluster',
    where: `Redis Cluster of 3 masters + 3 replicas started by the bench (${cluster.nodes.join(',')})`,
    pids: cluster.pids,
    // the cluster is the run's own and goes away whole at the end
    namespace: namespaced({ REDIS_CLUSTER_NODES: cluster.nodes.join(',') }, async () => {}),
    stop: () => cluster.stop(),
  };
}
