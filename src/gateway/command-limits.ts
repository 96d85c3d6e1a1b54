import { BurstyRateLimiter } from 'rate-limiter-flexible';
import { type SharedLimitStore, spend, windowLimiter } from '../rate-limit.js';

export interface CommandLimitSettings {
  /** sustained commands per user per second */
  perSecond: number;
  /** commands a user may send above that in a burst */
  burst: number;
}

/** Which budget: the key namespace of its counters and the message of its refusals. */
export interface BudgetName {
  /** key prefix of the counters; budgets with different names never share points */
  key: string;
  /** the refusal's message, for people */
  message: string;
}

/** Commands that change the market (listing:*, swap:*). */
export const MARKET_BUDGET: BudgetName = { key: 'cmd', message: 'Too many commands; slow down' };
/** Commands that change only the connection: feed:subscribe, feed:unsubscribe, auth:refresh. */
export const FEED_BUDGET: BudgetName = {
  key: 'feed',
  message: 'Too many feed or session commands; slow down',
};

/**
 * Per-user command budget: a sustained rate plus a burst allowance that refills over 10 s
 * (rate-limiter-flexible's BurstyRateLimiter), shared by all nodes through Redis when configured.
 */
export class CommandLimits {
  private readonly limiter: BurstyRateLimiter;
  private readonly message: string;

  constructor(settings: CommandLimitSettings, shared?: SharedLimitStore, budget: BudgetName = MARKET_BUDGET) {
    this.limiter = new BurstyRateLimiter(
      windowLimiter(`${budget.key}:rate`, settings.perSecond, 1, shared),
      windowLimiter(`${budget.key}:burst`, settings.burst, 10, shared),
    );
    this.message = budget.message;
  }

  /** Spends one command of this user's budget; throws RATE_LIMITED when it is used up. */
  spend(userId: string): Promise<void> {
    return spend(this.limiter.consume(userId), this.message);
  }
}
