// storm's settings from the environment (see bench/workloads/storm.ts).
import { envNumber } from '../../harness.js';

/** traders connected to node A through the load balancer, each with one socket and a feed subscription */
export const TRADERS = Math.floor(envNumber('BENCH_STORM_TRADERS', 5000));
/** of them, the ones owning a listing that the command stream proposes on (their events must be replayed) */
export const SELLERS = Math.min(TRADERS, Math.floor(envNumber('BENCH_STORM_SELLERS', 200)));
/** traders in this process sending commands before, during and after each failover */
export const SENDERS = Math.floor(envNumber('BENCH_STORM_SENDERS', 4));
/** commands per second offered by the senders (open loop): proposals and withdrawals */
export const COMMAND_RATE = envNumber('BENCH_STORM_COMMAND_RATE', 20);
/**
 * every Nth command a listing:create instead: a feed event to every trader (0: none). Off by
 * default: feed events are not replayed, and one to 5,000 sockets holds the node's event loop
 * ~150 ms on this box whether or not a storm is on, which would hide the storm's own lag.
 */
export const CREATE_EVERY = Math.floor(Number(process.env.BENCH_STORM_CREATE_EVERY ?? 0));
/** sockets per second when the traders first connect to A */
export const CONNECT_RATE = envNumber('BENCH_STORM_CONNECT_RATE', 500);
/** the target: every trader on the other node, synced, within this many seconds */
export const TARGET_SECONDS = envNumber('BENCH_STORM_TARGET_SECONDS', 15);
/** how long to wait for the last traders after a failure before giving up on them */
export const WAIT_SECONDS = envNumber('BENCH_STORM_WAIT_SECONDS', 40);
/** commands flow this long before the failure and after the last trader moved */
export const AROUND_SECONDS = envNumber('BENCH_STORM_AROUND_SECONDS', 3);
/** GET /metrics of the receiving node this often during a failover (event-loop lag p99 per interval) */
export const LAG_SAMPLE_MS = envNumber('BENCH_STORM_LAG_SAMPLE_MS', 250);
export const SWARM_PROCS = Math.floor(envNumber('BENCH_SWARM_PROCS', 2));
/** the event-loop lag target on the receiving node */
export const LAG_TARGET_MS = 100;
