import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/** argon2id cost parameters; the defaults are OWASP's minimum (m=19 MiB, t=2, p=1). */
export interface PasswordParams {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** Hashes and verifies passwords with argon2id, off the event loop (argon2 runs on libuv's pool). */
export class PasswordHasher {
  /** a hash of a random password, verified against when the email is unknown so timing reveals nothing */
  private decoy: Promise<string>;

  constructor(private readonly params: PasswordParams) {
    this.decoy = this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.params.memoryKib,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
  }

  /** Verifies against `hash`, or spends one verification on the decoy when there is none. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await argon2.verify(await this.decoy, password).catch(() => false);
      return false;
    }
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }
}
