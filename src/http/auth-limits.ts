import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { HubError } from '../domain/errors.js';

export interface AuthLimitSettings {
  /** login and register requests per IP per minute */
  perIpPerMinute: number;
  /** failed logins (and register attempts) per email per 15 minutes */
  perEmailPer15Min: number;
}

/**
 * Brute-force limits on login and register: per IP for every attempt, per email for failures.
 * Cluster-wide through Redis when configured; if Redis is away, each node limits on its own.
 */
export class AuthLimits {
  private readonly ip;
  private readonly email;

  constructor(settings: AuthLimitSettings, redis?: { client: Redis; prefix: string }) {
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
    this.ip = make('auth:ip', settings.perIpPerMinute, 60);
    this.email = make('auth:email', settings.perEmailPer15Min, 15 * 60);
  }

  /** Counts one attempt from this address; throws RATE_LIMITED past the limit. */
  async attempt(ip: string): Promise<void> {
    await guard(this.ip.consume(ip));
  }

  /** Throws RATE_LIMITED while this email has used up its failures. */
  async checkEmail(email: string): Promise<void> {
    const res = await this.email.get(email);
    if (res && res.consumedPoints >= this.email.points) throw limited(res.msBeforeNext);
  }

  async failed(email: string): Promise<void> {
    await this.email.penalty(email, 1).catch(() => {});
  }

  async succeeded(email: string): Promise<void> {
    await this.email.delete(email).catch(() => {});
  }
}

async function guard(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RateLimiterRes) throw limited(err.msBeforeNext);
    throw err;
  }
}

const limited = (ms: number) =>
  new HubError('RATE_LIMITED', 'Too many attempts; try again later', {
    retryAfterMs: Math.max(1, Math.ceil(ms)),
  });
