import { describe, expect, test } from 'vitest';
import { PasswordHasher, Semaphore } from '../../src/domain/auth/passwords.js';

describe('Semaphore', () => {
  test('runs at most `limit` tasks at once, the others in arrival order, and survives failures', async () => {
    const s = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      running--;
      if (i === 1) throw new Error('boom');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => s.run(task(i))));
    expect(most).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4, 5]);
    expect(results[1]).toMatchObject({ status: 'rejected' });
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(s.queued).toBe(0);
    expect(await s.run(async () => 'free')).toBe('free');
  });

  test('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('PasswordHasher', () => {
  test('hashes and verifies through its queue; an unknown hash costs a decoy verification', async () => {
    const h = new PasswordHasher({ memoryKib: 1024, timeCost: 1, parallelism: 1, concurrency: 1 });
    const [a, b] = await Promise.all([h.hash('one'), h.hash('two')]);
    expect(await Promise.all([h.verify(a, 'one'), h.verify(b, 'one'), h.verify(undefined, 'one')])).toEqual([
      true,
      false,
      false,
    ]);
    expect(await h.verify('not a hash', 'one')).toBe(false);
  });
});
