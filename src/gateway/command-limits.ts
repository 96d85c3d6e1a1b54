import { BurstyRateLimiter } from 'rate-limiter-flexible';
import { type SharedLimitStore, spend, windowLimiter } from '../rate-limit.js';

export interface CommandLimitSettings {
  /** sustained commands per user per second */
  perSecond: number;
  /** commands a user may send above that in a burst */
  burst: number;
}

/**
 * Per-user command budget: a sustained rate plus a burst allowance that refills over 10 s
 * (rate-limiter-flexible's BurstyRateLimiter), shared by all nodes through Redis when configured.
 */
export class CommandLimits {
  private readonly limiter: BurstyRateLimiter;

  constructor(settings: CommandLimitSettings, shared?: SharedLimitStore) {
    this.limiter = new BurstyRateLimiter(
      windowLimiter('cmd:rate', settings.perSecond, 1, shared),
      windowLimiter('cmd:burst', settings.burst, 10, shared),
    );
  }

  /** Spends one command of this user's budget; throws RATE_LIMITED when it is used up. */
  spend(userId: string): Promise<void> {
    return spend(this.limiter.consume(userId), 'Too many commands; slow down');
  }
}
