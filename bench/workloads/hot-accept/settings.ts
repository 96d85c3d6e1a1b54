// hot-accept's settings from the environment (see bench/workloads/hot-accept.ts).
import { envNumber, HUB_POOL_MAX } from '../../harness.js';

export const BUYERS = Math.floor(envNumber('BENCH_BUYERS', 200));
export const VOLUME_KWH = envNumber('BENCH_VOLUME_KWH', 500);
export const PROPOSE_KWH = envNumber('BENCH_PROPOSE_KWH', 3);
export const ROUNDS = Math.floor(envNumber('BENCH_ROUNDS', 3));
export const SECONDS = envNumber('BENCH_SECONDS', 10);
/** pgbench at the hub's concurrency: the pools of both nodes (with Redis) */
export const PG_CLIENTS = Math.floor(
  envNumber(
    'BENCH_PG_CLIENTS',
    process.env.DATABASE_URL && process.env.REDIS_URL ? 2 * HUB_POOL_MAX : HUB_POOL_MAX,
  ),
);
/** open swaps on the hot listing in the second pgbench run: about the average an accept of the burst sees */
export const PG_OPEN_SWAPS = 100;
export const FINAL_EVENT_TIMEOUT_MS = 10_000;

export const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));
