// Hub nodes as the benchmarks start them: environment, readiness check, stopping.
import { randomBytes } from 'node:crypto';
import { type HubProcess, startHubProcess } from '../lib.js';
import { envNumber } from './basics.js';

/** the bearer token the bench's hubs require on GET /metrics (scrapeMetrics sends it); new per run */
export const BENCH_METRICS_TOKEN = randomBytes(24).toString('base64url');

/** The hub nodes' database pool (DATABASE_POOL_MAX, 10 unless BENCH_HUB_DATABASE_POOL_MAX): their concurrency. */
export const HUB_POOL_MAX = Math.floor(envNumber('BENCH_HUB_DATABASE_POOL_MAX', 10));

/** Environment for a benchmark hub: limits off (login and command rates), demo seed off. */
export function hubEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    SEED_DEMO: 'false',
    AUTH_RATE_IP_PER_MINUTE: '1000000',
    AUTH_RATE_EMAIL_PER_15MIN: '1000000',
    AUTH_REGISTER_PER_IP_PER_HOUR: '1000000',
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    COMMAND_RATE_PER_SECOND: '1000000',
    COMMAND_RATE_BURST: '1000000',
    // load generators open thousands of sockets from one address, many per trader, each subscribing
    FEED_RATE_PER_SECOND: '1000000',
    FEED_RATE_BURST: '1000000',
    SOCKET_UNAUTHENTICATED_PER_IP: '1000000',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  // e.g. BENCH_HUB_NODE_OPTIONS="--import=/path/to/profiler.mjs" to see where the hub's time goes
  if (process.env.BENCH_HUB_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_HUB_NODE_OPTIONS;
  // any other hub setting, to try another value: BENCH_HUB_DATABASE_POOL_MAX=20 sets DATABASE_POOL_MAX
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BENCH_HUB_') && k !== 'BENCH_HUB_NODE_OPTIONS' && v !== undefined) env[k.slice(10)] = v;
  }
  return env;
}

/** startHubProcess, then one check that it really answers /readyz (the lib gives up silently). */
export async function startReadyHub(env: Record<string, string>): Promise<HubProcess> {
  const hub = await startHubProcess(env);
  const res = await fetch(`${hub.url}/readyz`).catch(() => undefined);
  if (!res?.ok) {
    await hub.stop();
    throw new Error(`hub at ${hub.url} did not become ready (readyz ${res?.status ?? 'unreachable'})`);
  }
  return hub;
}

/** Stops processes, reporting but not throwing, so every one of them is stopped. */
export async function stopAll(procs: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const p of procs) {
    try {
      await p?.stop();
    } catch (err) {
      console.error(`stopping a child process: ${(err as Error).message}`);
    }
  }
}
