import type { Logger } from 'pino';
import { expireClosedGates } from '../../domain/listing-commands.js';
import { expireOffers } from '../../domain/swap-commands.js';
import type { CommandRunner } from './command-runner.js';

const BATCH = 100;
const ANSWER_TTL_MS = 24 * 3_600_000;
const FORGET_EVERY_MS = 60_000;

/**
 * Periodic work every node does: closing gates (and, with swaps, expiring offers). Rows are
 * claimed with FOR UPDATE SKIP LOCKED and re-checked under the lock, so with any number of nodes
 * each change happens exactly once. Idempotency answers older than 24 hours are removed.
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
      if (opts.forget || Date.now() - this.lastForget > FORGET_EVERY_MS) {
        this.lastForget = Date.now();
        await this.runner.forgetAnswers(ANSWER_TTL_MS);
      }
    } catch (err) {
      this.log.warn({ err }, 'sweep failed; will retry');
    }
  }
}
