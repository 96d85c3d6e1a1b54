// Start a real hub on port 0 over a fresh database, and stop it afterwards.
import { afterAll, beforeAll } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { createHub, type Hub, type HubOptions } from '../../src/hub.js';
import { freshDatabase, redisUrl, type TestDatabase } from './services.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** Settings every test hub gets; cheap argon2 so auth-heavy tests stay quick. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  SEED_DEMO: 'false',
  JWT_SECRET: TEST_JWT_SECRET,
  ARGON2_MEMORY_KIB: '4096',
  ARGON2_TIME_COST: '1',
  // tests drive traders far faster than people; the limits have tests of their own
  COMMAND_RATE_PER_SECOND: '100000',
  COMMAND_RATE_BURST: '100000',
  FEED_RATE_PER_SECOND: '100000',
  FEED_RATE_BURST: '100000',
  // every test client comes from 127.0.0.1, many of them at once
  SOCKET_UNAUTHENTICATED_PER_IP: '100000',
  // tests register many traders from one address
  AUTH_REGISTER_PER_IP_PER_HOUR: '1000000',
};

export interface TestHub {
  hub: Hub;
  config: Config;
  url: string;
  port: number;
  database: TestDatabase;
  /** stops the hub, then drops its database (unless it was shared) */
  stop(): Promise<void>;
}

export interface StartOptions extends HubOptions {
  env?: Record<string, string>;
  /** another hub's database, to run several nodes on one database */
  db?: TestDatabase;
  /** use Redis from REDIS_URL (callers check `redisAvailable` first) */
  redis?: boolean;
}

export async function startHub(opts: StartOptions = {}): Promise<TestHub> {
  const shared = opts.db !== undefined;
  const database = opts.db ?? (await freshDatabase());
  const config = loadConfig({
    ...TEST_ENV,
    ...database.env,
    ...(opts.redis && redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: `t-${database.id}` } : {}),
    ...opts.env,
  });
  const hub = createHub(config, opts);
  try {
    const { port, url } = await hub.start();
    return {
      hub,
      config,
      url,
      port,
      database,
      async stop() {
        await hub.stop();
        if (!shared) await database.drop();
      },
    };
  } catch (err) {
    await hub.stop().catch(() => {});
    if (!shared) await database.drop();
    throw err;
  }
}

/**
 * Two hubs over one fresh database and Redis for the tests of a `describe` block, as in
 * docker-compose.yml: started before its first test, stopped (and the database dropped) after its
 * last. `a` and `b` are read inside the tests.
 */
export function twoNodes(env: { a?: Record<string, string>; b?: Record<string, string> } = {}) {
  const nodes = {} as { a: TestHub; b: TestHub; db: TestDatabase };
  beforeAll(async () => {
    nodes.db = await freshDatabase();
    nodes.a = await startHub({ db: nodes.db, redis: true, env: env.a });
    nodes.b = await startHub({ db: nodes.db, redis: true, env: env.b });
  });
  afterAll(async () => {
    await Promise.all([nodes.a?.stop(), nodes.b?.stop()]);
    await nodes.db?.drop();
  });
  return nodes;
}
