// connect's settings from the environment (see bench/workloads/connect.ts).
import { envNumber } from '../../harness.js';

export const SOCKETS = Math.floor(envNumber('BENCH_SOCKETS', 10_000));
export const RATE = envNumber('BENCH_CONNECT_RATE', 1500);
export const CAPACITY_SOCKETS = Math.floor(envNumber('BENCH_CAPACITY_SOCKETS', 5000));
export const IN_FLIGHT = Math.floor(Number(process.env.BENCH_CONNECT_INFLIGHT ?? 64));
/** capacity phases per server, alternating between the hub and the bare relay */
export const CAPACITY_ROUNDS = Math.max(1, Math.floor(envNumber('BENCH_CAPACITY_ROUNDS', 3)));
export const PROCS = Math.floor(envNumber('BENCH_SWARM_PROCS', 2));
export const PER_TRADER = Math.floor(envNumber('BENCH_SOCKETS_PER_TRADER', 1000));
/**
 * sockets opened (at 500/s) and closed before each server's phases, warming the server and the
 * swarms alike: with 500, the hub (measured first, on swarms not yet warm) had all of its slow
 * handshakes in the first 3 s of its phase
 */
export const WARMUP_SOCKETS = Math.floor(envNumber('BENCH_CONNECT_WARMUP', 3000));
export const SETTLE_MS = 3_000;
export const TCP_COUNTERS = ['ListenOverflows', 'TCPSynRetrans'];
export const TIMEOUT_MS = 30_000;
/** each socket subscribes to the market feed once ready (as a dashboard does); 0: it does not */
export const SUBSCRIBE = envNumber('BENCH_CONNECT_SUBSCRIBE', 1) !== 0;
