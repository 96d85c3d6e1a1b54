// Vitest 5 targets Node 22 and its reporter calls three ES2024 built-ins that Node 20 lacks.
// These standard-conforming shims let it run on the Node 20 this project supports; they load in
// vitest's main process only (through vitest.config.ts), never in the hub.

type Key = PropertyKey;
const has = (o: object, name: string) => typeof (o as Record<string, unknown>)[name] === 'function';

if (!has(Map, 'groupBy')) {
  Object.defineProperty(Map, 'groupBy', {
    configurable: true,
    writable: true,
    value<T, K>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> {
      const out = new Map<K, T[]>();
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        const list = out.get(k);
        if (list) list.push(item);
        else out.set(k, [item]);
      }
      return out;
    },
  });
}

if (!has(Object, 'groupBy')) {
  Object.defineProperty(Object, 'groupBy', {
    configurable: true,
    writable: true,
    value<T>(items: Iterable<T>, key: (item: T, index: number) => Key): Partial<Record<Key, T[]>> {
      const out: Partial<Record<Key, T[]>> = Object.create(null);
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        const list = out[k];
        if (list) list.push(item);
        else out[k] = [item];
      }
      return out;
    },
  });
}

if (!has(Promise, 'withResolvers')) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
