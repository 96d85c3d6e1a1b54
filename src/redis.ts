import { Redis } from 'ioredis';
import { reason, StartupError } from './store/db/database.js';

/** The Redis connections of one node: commands, and the adapter's publish and subscribe pair. */
export interface RedisClients {
  main: Redis;
  pub: Redis;
  sub: Redis;
  where: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function describe(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
}

/** Connects to REDIS_URL; a failure at start-up is one readable line. Later outages reconnect by themselves. */
export async function connectRedis(url: string): Promise<RedisClients> {
  const where = describe(url);
  let started = false;
  let lastError: unknown;
  const make = (pipelined: boolean) =>
    new Redis(url, {
      lazyConnect: true,
      // commands issued in one tick (a relay batch's publishes, many commands' rate limits) share
      // one write; not for the subscriber
      enableAutoPipelining: pipelined,
      connectTimeout: 3_000,
      maxRetriesPerRequest: 2,
      // at start-up one failure is final; once running, retry forever, at most every 2 s
      retryStrategy: (times) => (started ? Math.min(times * 100, 2_000) : null),
    });
  const clients = [make(true), make(true), make(false)] as const;
  for (const c of clients) {
    // outages are reported by /readyz, not as log noise
    c.on('error', (err) => {
      lastError = err;
    });
  }
  try {
    await Promise.all(clients.map((c) => c.connect()));
  } catch (err) {
    for (const c of clients) c.disconnect();
    throw new StartupError(`cannot reach Redis at ${where}: ${reason(lastError ?? err)}`);
  }
  started = true;
  const [main, pub, sub] = clients;
  let closed = false;
  return {
    main,
    pub,
    sub,
    where,
    async ping() {
      if (main.status !== 'ready') return false;
      try {
        return (await main.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
