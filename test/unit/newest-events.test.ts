// NewestEvents (src/gateway/newest-events.ts): a user's newest event from memory once known, kept
// current from the stream, with events that come while the log is read counted in.
import { describe, expect, test } from 'vitest';
import type { StoredEvent } from '../../src/domain/events.js';
import { NewestEvents } from '../../src/gateway/newest-events.js';

const event = (id: bigint, ...users: string[]): StoredEvent => ({
  id,
  type: 'swap.proposed',
  at: new Date(0),
  users,
  data: {},
});

/** a read of the log that answers when told, counting its calls */
function log() {
  const calls: string[] = [];
  const waiting: ((v: bigint) => void)[] = [];
  return {
    calls,
    answer: (v: bigint) => waiting.shift()!(v),
    read: (userId: string) => {
      calls.push(userId);
      return new Promise<bigint>((resolve) => waiting.push(resolve));
    },
  };
}

describe('NewestEvents', () => {
  test('reads the log once per user, then answers from memory, following the stream', async () => {
    const lookups: string[] = [];
    const n = new NewestEvents(() => true, { max: 10, counted: (from) => lookups.push(from) });
    const l = log();
    const first = n.latest('u', l.read);
    l.answer(7n);
    expect(await first).toBe(7n);
    n.observe([event(9n, 'u', 'v'), event(11n, 'v')]);
    expect(await n.latest('u', l.read)).toBe(9n);
    n.observe([event(12n, 'u')]);
    expect(await n.latest('u', l.read)).toBe(12n);
    expect(l.calls).toEqual(['u']);
    expect(lookups).toEqual(['log', 'memory', 'memory']);
  });

  test('an event the stream hands out while the log is read counts, whichever is newer', async () => {
    const n = new NewestEvents(() => true);
    const l = log();
    const pending = n.latest('u', l.read);
    n.observe([event(20n, 'u')]); // after the read was sent, before its answer
    l.answer(15n); // the read's snapshot did not have it
    expect(await pending).toBe(20n);
    const again = n.latest('w', l.read);
    n.observe([event(21n, 'w')]);
    l.answer(30n); // the read saw a newer one than the stream has handed out yet
    expect(await again).toBe(30n);
    n.observe([event(25n, 'w')]); // never moves back
    expect(await n.latest('w', l.read)).toBe(30n);
  });

  test('two lookups of a user not yet known both read; the one entry takes both answers', async () => {
    const n = new NewestEvents(() => true);
    const l = log();
    const [a, b] = [n.latest('u', l.read), n.latest('u', l.read)];
    l.answer(5n);
    l.answer(6n);
    expect([await a, await b]).toEqual([5n, 6n]);
    expect(await n.latest('u', l.read)).toBe(6n);
    expect(l.calls).toHaveLength(2);
  });

  test('keeps nothing before the stream runs, nor after a failed read', async () => {
    let streaming = false;
    const n = new NewestEvents(() => streaming);
    expect(await n.latest('u', async () => 3n)).toBe(3n);
    expect(n.size).toBe(0);
    streaming = true;
    await expect(
      n.latest('u', async () => {
        throw new Error('database away');
      }),
    ).rejects.toThrow('database away');
    expect(n.size).toBe(0);
    expect(await n.latest('u', async () => 4n)).toBe(4n);
    expect(n.size).toBe(1);
  });

  test('forgets the least recently asked about user beyond its bound', async () => {
    const n = new NewestEvents(() => true, { max: 2 });
    const reads: string[] = [];
    const read = async (u: string) => {
      reads.push(u);
      return 1n;
    };
    await n.latest('a', read);
    await n.latest('b', read);
    await n.latest('a', read); // a is now the most recent
    await n.latest('c', read); // b goes
    expect(n.size).toBe(2);
    await n.latest('a', read);
    await n.latest('b', read);
    expect(reads).toEqual(['a', 'b', 'c', 'b']);
  });
});
