import { isHubError } from '../domain/errors.js';
import { type SharedLimitStore, spend, windowLimiter } from '../rate-limit.js';

export interface AuthLimitSettings {
  /** login and register requests per IP per minute */
  perIpPerMinute: number;
  /** failed logins (and register attempts) per email per 15 minutes */
  perEmailPer15Min: number;
  /** registrations per IP per hour */
  registerPerIpPerHour: number;
}

const MESSAGE = 'Too many attempts; try again later';

/**
 * Brute-force limits on login and register: per IP for every attempt, per email for failed logins,
 * per IP and per email for registrations (a taken email answers 409, so registering probes emails).
 * Every attempt is counted atomically before it is judged, so requests sent at once cannot all pass a
 * count that none of them has raised yet. Cluster-wide through Redis when configured; if Redis is away,
 * each node limits on its own.
 */
export class AuthLimits {
  private readonly ip;
  private readonly email;
  private readonly registerIp;
  private readonly registerEmail;

  constructor(settings: AuthLimitSettings, shared?: SharedLimitStore) {
    this.ip = windowLimiter('auth:ip', settings.perIpPerMinute, 60, shared);
    this.email = windowLimiter('auth:email', settings.perEmailPer15Min, 15 * 60, shared);
    this.registerIp = windowLimiter('auth:register-ip', settings.registerPerIpPerHour, 3600, shared);
    this.registerEmail = windowLimiter('auth:register-email', settings.perEmailPer15Min, 15 * 60, shared);
  }

  /** Counts one login or register request from this address; throws RATE_LIMITED past the limit. */
  async attempt(ip: string): Promise<void> {
    await spend(this.ip.consume(ip), MESSAGE);
  }

  /** Counts one registration from this address and for this email; throws RATE_LIMITED past either budget. */
  async registration(ip: string, email: string): Promise<void> {
    await spend(this.registerIp.consume(ip), MESSAGE);
    await spend(this.registerEmail.consume(email), MESSAGE);
  }

  /**
   * Runs `verify` (the password check) on one of this email's attempts, reserved before it starts:
   * past the limit it throws RATE_LIMITED without verifying, even the right password. Wrong credentials
   * keep the attempt spent; a success clears the email's count; any other failure (the database away)
   * gives the attempt back.
   */
  async login<T>(email: string, verify: () => Promise<T>): Promise<T> {
    await spend(this.email.consume(email), MESSAGE);
    let result: T;
    try {
      result = await verify();
    } catch (err) {
      if (!(isHubError(err) && err.code === 'UNAUTHENTICATED'))
        await this.email.reward(email, 1).catch(() => {});
      throw err;
    }
    await this.email.delete(email).catch(() => {});
    return result;
  }
}
