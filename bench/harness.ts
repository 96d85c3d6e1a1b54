// Pieces shared by the socket workloads (negotiate, hot-accept, fanout, connect, login, cluster),
// one concern per file under bench/harness/: throwaway databases, pgbench, hub and bare relay
// processes, traders, a fixed-rate driver, a progress line, socket swarm child processes with
// clock sync, CPU, memory and kernel counters, and the hub's metrics.
export * from './harness/basics.js';
export * from './harness/database.js';
export * from './harness/fixed-rate.js';
export * from './harness/hub.js';
export * from './harness/hub-metrics.js';
export * from './harness/pgbench.js';
export * from './harness/proc-meters.js';
export * from './harness/progress.js';
export * from './harness/redis.js';
export * from './harness/relay-process.js';
export * from './harness/swarms.js';
export * from './harness/traders.js';
