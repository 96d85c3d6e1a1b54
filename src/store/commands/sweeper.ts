import type { Logger } from 'pino';
import type { MarketProfile } from '../../domain/energy/zones.js';
import { expireClosedGates } from '../../domain/listing-commands.js';
import { expireOffers } from '../../domain/swap-commands.js';
import { dueUnits, type SettleOutcome, settleUnit } from '../settlement/settle-slot.js';
import type { CommandRunner } from './command-runner.js';

const BATCH = 100;
const ANSWER_TTL_MS = 24 * 3_600_000;
const FORGET_EVERY_MS = 60_000;

/**
 * Periodic work every node does: closing gates, expiring offers, settling the slots that are due
 * (docs/settlement.md). Rows are claimed with FOR UPDATE SKIP LOCKED (a slot by a transaction-scoped
 * advisory lock) and re-checked under the lock, so with any number of nodes each change happens
 * exactly once. Idempotency answers older than 24 hours are removed.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastForget = 0;
  private stopped = false;

  constructor(
    private readonly runner: CommandRunner,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly profile?: MarketProfile,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => {
        this.running = undefined;
      });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; tests call it to sweep now (`forget`: remove old answers whatever the last time). */
  async sweep(opts: { forget?: boolean } = {}): Promise<void> {
    try {
      while (!this.stopped && (await this.runner.system((uow) => expireClosedGates(uow, BATCH))) === BATCH);
      while (!this.stopped && (await this.runner.system((uow) => expireOffers(uow, BATCH))) === BATCH);
      if (this.profile) await this.settle(this.profile);
      if (opts.forget || Date.now() - this.lastForget > FORGET_EVERY_MS) {
        this.lastForget = Date.now();
        await this.runner.forgetAnswers(ANSWER_TTL_MS);
      }
    } catch (err) {
      this.log.warn({ err }, 'sweep failed; will retry');
    }
  }

  /** Settles the due slots, each in a transaction of its own; a slot waiting for readings is passed by. */
  private async settle(profile: MarketProfile): Promise<Record<SettleOutcome, number>> {
    const done: Record<SettleOutcome, number> = { settled: 0, waiting: 0, passed: 0 };
    const due = await this.runner.transaction((tx) => dueUnits(tx.statements, profile, new Date(), BATCH));
    for (const unit of due) {
      if (this.stopped) break;
      try {
        const outcome = await this.runner.transaction((tx) => settleUnit(tx, profile, unit, new Date()));
        done[outcome]++;
      } catch (err) {
        // one slot failing (a deadlock victim, a lost connection) does not hold back the others
        this.log.warn(
          { err, zone: unit.zone, slotStart: unit.slotStart },
          'settling a slot failed; will retry',
        );
      }
    }
    return done;
  }
}
