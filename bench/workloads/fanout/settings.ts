// fanout's settings from the environment (see bench/workloads/fanout.ts), shared with cluster.
import { envNumber } from '../../harness.js';

export interface FanoutSettings {
  sizes: number[];
  /** events per second at the fixed rate */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  saturationSeconds: number;
  /** events in flight in the capacity phase */
  window: number;
  /** subscriber sockets opened per second (all swarms together) */
  openRate: number;
  socketsPerTrader: number;
  swarmProcs: number;
}

export function fanoutSettings(defaults: { sizes?: string; seconds?: number } = {}): FanoutSettings {
  const sizes = (process.env.BENCH_SUBSCRIBERS || defaults.sizes || '100,1000,5000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  if (!sizes.length) throw new Error('BENCH_SUBSCRIBERS must be a comma list of positive integers');
  return {
    sizes,
    rate: envNumber('BENCH_RATE', 10),
    seconds: envNumber('BENCH_SECONDS', defaults.seconds ?? 10),
    warmupSeconds: 1,
    saturationSeconds: envNumber('BENCH_SATURATION_SECONDS', 5),
    window: Math.floor(envNumber('BENCH_WINDOW', 8)),
    openRate: envNumber('BENCH_OPEN_RATE', 2000),
    socketsPerTrader: Math.floor(envNumber('BENCH_SOCKETS_PER_TRADER', 1000)),
    swarmProcs: Math.floor(envNumber('BENCH_SWARM_PROCS', 2)),
  };
}

/** publishes in flight at the fixed rate (the publisher's commands may overlap) */
export const PUBLISH_LANES = 8;
/** how long a phase waits for its last deliveries */
export const SETTLE_MS = 5_000;
/** an event of the capacity phase that has not reached everyone after this long leaves the window */
export const STALL_MS = 5_000;
export const OPEN_TIMEOUT_MS = 30_000;
/** subscriber handshakes under way at once (all swarms) */
export const OPEN_IN_FLIGHT = 64;
