// negotiate's settings from the environment (see bench/workloads/negotiate.ts) and the shape
// cluster reuses to run the same phases over two nodes.
import { envNumber, HUB_POOL_MAX } from '../../harness.js';

export const CLIENTS = Math.max(2, Math.floor(envNumber('BENCH_CLIENTS', 100) / 2) * 2);
export const SECONDS = envNumber('BENCH_SECONDS', 10);
export const RATE = envNumber('BENCH_RATE', 1000);
export const WARMUP = envNumber('BENCH_WARMUP_SECONDS', 2);
export const LANES = Math.floor(envNumber('BENCH_LANES', 4));
export const CLOSED_LANES = Math.max(1, Math.floor(envNumber('BENCH_CLOSED_LANES', 4)));
/** pgbench at the same concurrency as the hub's pool */
export const PG_CLIENTS = Math.floor(envNumber('BENCH_PG_CLIENTS', HUB_POOL_MAX));
export const ACK_TIMEOUT_MS = 20_000;
/** how long to wait after a phase for its last deliveries before counting the rest as lost */
export const DELIVERY_GRACE_MS = 3_000;

export const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));

/** How a negotiate run is shaped; the defaults come from the environment (see above). */
export interface NegotiateSettings {
  /** traders, an even number */
  clients: number;
  /** seconds per phase */
  seconds: number;
  warmup: number;
  /** negotiations in flight per pair at a fixed rate */
  lanes: number;
  /** negotiations in flight per pair in the closed loop (and for the bare relay, messages) */
  closedLanes: number;
  /** the fixed rates of phase B, given the closed-loop throughput of phase A */
  rates(closedLoopPerSecond: number): number[];
}

export const NEGOTIATE_DEFAULTS: NegotiateSettings = {
  clients: CLIENTS,
  seconds: SECONDS,
  warmup: WARMUP,
  lanes: LANES,
  closedLanes: CLOSED_LANES,
  rates: fixedRates,
};

/** BENCH_RATE, and half the hub's closed-loop throughput when BENCH_RATE is well above it. */
function fixedRates(closedLoopPerSecond: number): number[] {
  const half = Math.round(closedLoopPerSecond / 2);
  return half >= 1 && half < RATE * 0.6 ? [RATE, half] : [RATE];
}
