import { rateLimited, type SharedLimitStore, spend, windowLimiter } from '../rate-limit.js';

export interface AuthLimitSettings {
  /** login and register requests per IP per minute */
  perIpPerMinute: number;
  /** failed logins (and register attempts) per email per 15 minutes */
  perEmailPer15Min: number;
}

const MESSAGE = 'Too many attempts; try again later';

/**
 * Brute-force limits on login and register: per IP for every attempt, per email for failures.
 * Cluster-wide through Redis when configured; if Redis is away, each node limits on its own.
 */
export class AuthLimits {
  private readonly ip;
  private readonly email;

  constructor(settings: AuthLimitSettings, shared?: SharedLimitStore) {
    this.ip = windowLimiter('auth:ip', settings.perIpPerMinute, 60, shared);
    this.email = windowLimiter('auth:email', settings.perEmailPer15Min, 15 * 60, shared);
  }

  /** Counts one attempt from this address; throws RATE_LIMITED past the limit. */
  async attempt(ip: string): Promise<void> {
    await spend(this.ip.consume(ip), MESSAGE);
  }

  /** Throws RATE_LIMITED while this email has used up its failures. */
  async checkEmail(email: string): Promise<void> {
    const res = await this.email.get(email);
    if (res && res.consumedPoints >= this.email.points) throw rateLimited(MESSAGE, res.msBeforeNext);
  }

  async failed(email: string): Promise<void> {
    await this.email.penalty(email, 1).catch(() => {});
  }

  async succeeded(email: string): Promise<void> {
    await this.email.delete(email).catch(() => {});
  }
}
