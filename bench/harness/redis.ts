// Redis housekeeping after a run.
import { Redis } from 'ioredis';
import { assertLocal } from './basics.js';

/** Deletes the Redis keys a benchmark's hubs left under `prefix` (rate-limit counters). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<number> {
  assertLocal(url, 'REDIS_URL');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  let n = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}
