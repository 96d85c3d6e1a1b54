import type { Redis } from 'ioredis';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { HubError } from '../domain/errors.js';

export interface CommandLimitSettings {
  /** sustained commands per user per second */
  perSecond: number;
  /** commands a user may send above that in a burst */
  burst: number;
}

/**
 * Per-user command budget: a sustained rate plus a burst allowance (rate-limiter-flexible's
 * BurstyRateLimiter), shared by all nodes through Redis when configured; if Redis is away each
 * node limits on its own.
 */
export class CommandLimits {
  private readonly limiter: BurstyRateLimiter;

  constructor(settings: CommandLimitSettings, redis?: { client: Redis; prefix: string }) {
    const make = (keyPrefix: string, points: number, duration: number) => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      return redis
        ? new RateLimiterRedis({
            storeClient: redis.client,
            keyPrefix: `${redis.prefix}:${keyPrefix}`,
            points,
            duration,
            insuranceLimiter: memory,
            // with Redis away, fall back to the in-process limiter at once instead of queueing
            rejectIfRedisNotReady: true,
          })
        : memory;
    };
    this.limiter = new BurstyRateLimiter(
      make('cmd:rate', settings.perSecond, 1),
      // the burst allowance refills over 10 s
      make('cmd:burst', settings.burst, 10),
    );
  }

  /** Spends one command of this user's budget; throws RATE_LIMITED when it is used up. */
  async spend(userId: string): Promise<void> {
    try {
      await this.limiter.consume(userId);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw new HubError('RATE_LIMITED', 'Too many commands; slow down', {
          retryAfterMs: Math.max(1, Math.ceil(err.msBeforeNext)),
        });
      }
      throw err;
    }
  }
}
