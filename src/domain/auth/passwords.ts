import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/** argon2id cost parameters; the defaults are OWASP's minimum (m=19 MiB, t=2, p=1). */
export interface PasswordParams {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
  /**
   * argon2 operations (hash or verify) running at once; the rest wait their turn in order.
   * argon2 runs on libuv's threadpool (4 threads), which also serves DNS, fs and zlib: a login
   * storm on every thread starves them and the CPU the event loop needs. @default 1
   */
  concurrency?: number;
}

/** A counting semaphore: at most `limit` tasks run at once, the others start in arrival order. */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  /** tasks waiting for a turn */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the turn passes on: `running` stays the same
      else this.running--;
    }
  }
}

/**
 * Hashes and verifies passwords with argon2id, off the event loop (argon2 runs on libuv's pool),
 * at most `concurrency` at a time.
 */
export class PasswordHasher {
  /** a hash of a random password, verified against when the email is unknown so timing reveals nothing */
  private decoy: Promise<string>;
  private readonly slots: Semaphore;

  constructor(private readonly params: PasswordParams) {
    this.slots = new Semaphore(params.concurrency ?? 1);
    this.decoy = this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return this.slots.run(() =>
      argon2.hash(password, {
        type: argon2.argon2id,
        memoryCost: this.params.memoryKib,
        timeCost: this.params.timeCost,
        parallelism: this.params.parallelism,
      }),
    );
  }

  /** Verifies against `hash`, or spends one verification on the decoy when there is none. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      const decoy = await this.decoy;
      await this.slots.run(() => argon2.verify(decoy, password)).catch(() => false);
      return false;
    }
    try {
      return await this.slots.run(() => argon2.verify(hash, password));
    } catch {
      return false;
    }
  }
}
