import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { HubError } from './domain/errors.js';
import type { RedisClient } from './redis.js';

/** Where limit counters live when the cluster shares them. */
export interface SharedLimitStore {
  /** one Redis, or a Redis Cluster: each count is one key (`<prefix>:<name>:<id>`), touched by one script */
  client: RedisClient;
  /** the cluster's Redis namespace (REDIS_PREFIX) */
  prefix: string;
}

/**
 * A fixed-window limiter of `points` per `durationSeconds`, shared by all nodes through Redis when
 * given; with Redis away each node falls back at once to an in-process limiter of its own.
 */
export function windowLimiter(
  name: string,
  points: number,
  durationSeconds: number,
  shared?: SharedLimitStore,
) {
  const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
  if (!shared) return memory;
  return new RateLimiterRedis({
    storeClient: shared.client,
    keyPrefix: `${shared.prefix}:${name}`,
    points,
    duration: durationSeconds,
    insuranceLimiter: memory,
    rejectIfRedisNotReady: true,
  });
}

/** RATE_LIMITED with `details.retryAfterMs`. */
export const rateLimited = (message: string, ms: number): HubError =>
  new HubError('RATE_LIMITED', message, { retryAfterMs: Math.max(1, Math.ceil(ms)) });

/** Awaits a limiter's consume; a refusal becomes RATE_LIMITED, a store failure passes through. */
export async function spend(consume: Promise<unknown>, message: string): Promise<void> {
  try {
    await consume;
  } catch (err) {
    if (err instanceof RateLimiterRes) throw rateLimited(message, err.msBeforeNext);
    throw err;
  }
}
