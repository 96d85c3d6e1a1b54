import { describe, expect, test } from 'vitest';
import { isUuidText, ReadBatcher } from '../../src/store/reads/read-batcher.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe('ReadBatcher', () => {
  test('reads asked for together go in one load; repeated keys share it; missing keys get the default', async () => {
    const loads: string[][] = [];
    const b = new ReadBatcher<string, number>(async (keys) => {
      loads.push(keys);
      return new Map(keys.filter((k) => k !== 'c').map((k) => [k, k.charCodeAt(0)]));
    }, -1);
    expect(await Promise.all([b.get('a'), b.get('b'), b.get('a'), b.get('c')])).toEqual([97, 98, 97, -1]);
    expect(loads).toEqual([['a', 'b', 'c']]);
  });

  test('a read never rides on a load sent before it was asked for', async () => {
    const gates: ReturnType<typeof deferred<Map<string, number>>>[] = [];
    const loads: string[][] = [];
    const b = new ReadBatcher<string, number>((keys) => {
      loads.push(keys);
      const d = deferred<Map<string, number>>();
      gates.push(d);
      return d.promise;
    }, 0);
    const first = b.get('a');
    await new Promise((r) => setImmediate(r));
    expect(loads).toEqual([['a']]);
    // asked while the first load runs: same key, yet it waits for a load of its own
    const second = b.get('a');
    const third = b.get('b');
    await new Promise((r) => setImmediate(r));
    expect(loads).toHaveLength(1);
    gates[0]!.resolve(new Map([['a', 1]]));
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(loads).toEqual([['a'], ['a', 'b']]);
    gates[1]!.resolve(new Map([['a', 2]]));
    expect(await second).toBe(2);
    expect(await third).toBe(0);
  });

  test('a failed load fails its reads only; the next batch runs', async () => {
    let n = 0;
    const b = new ReadBatcher<string, number>(async (keys) => {
      if (n++ === 0) throw new Error('down');
      return new Map(keys.map((k) => [k, 1]));
    }, 0);
    await expect(b.get('a')).rejects.toThrow('down');
    expect(await b.get('a')).toBe(1);
  });

  test('batches hold at most maxBatch keys', async () => {
    const sizes: number[] = [];
    const b = new ReadBatcher<number, number>(
      async (keys) => {
        sizes.push(keys.length);
        return new Map();
      },
      0,
      { maxBatch: 2, maxRunning: 1 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((k) => b.get(k)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  test('with gatherMs, reads asked within that time after the first go in its load', async () => {
    const loads: string[][] = [];
    const b = new ReadBatcher<string, number>(
      async (keys) => {
        loads.push(keys);
        return new Map(keys.map((k) => [k, 1]));
      },
      0,
      { maxBatch: 500, maxRunning: 1, gatherMs: 1000 },
    );
    const first = b.get('a');
    await new Promise((r) => setImmediate(r));
    const second = b.get('b'); // a turn later, within the gathering
    await new Promise((r) => setImmediate(r));
    expect(loads).toEqual([]);
    await Promise.all([first, second]);
    expect(loads).toEqual([['a', 'b']]);
  });

  test('isUuidText', () => {
    expect(isUuidText('6f1d0000-0000-4000-8000-00000000000a')).toBe(true);
    expect(isUuidText('6F1D0000-0000-4000-8000-00000000000A')).toBe(true);
    expect(isUuidText("x' OR 1=1")).toBe(false);
    expect(isUuidText('')).toBe(false);
  });
});
