// A Redis Cluster of the test's own: the benchmarks' starter (bench/harness/redis-cluster.ts, one
// implementation for both): masters and their replicas as redis-server processes on spare loopback
// ports, created with `redis-cli --cluster create`.
import { redisClusterMissing } from '../../bench/harness/redis-cluster.js';
import { requireServices } from './services.js';

export {
  RedisCluster as TestRedisCluster,
  type RedisClusterOptions,
} from '../../bench/harness/redis-cluster.js';

/**
 * True when redis-server (7 or later: sharded pub/sub) and redis-cli are installed; otherwise prints
 * one line and returns false, or throws under REQUIRE_SERVICES.
 */
export async function redisClusterAvailable(what: string): Promise<boolean> {
  const problem = await redisClusterMissing();
  if (!problem) return true;
  if (requireServices) throw new Error(`${what}: ${problem} and REQUIRE_SERVICES=1`);
  console.warn(`skipped: ${what}: ${problem}`);
  return false;
}
