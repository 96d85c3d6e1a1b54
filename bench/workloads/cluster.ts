// cluster: the negotiate and fanout workloads over 1, 2 and 3 hub nodes (BENCH_CLUSTER_NODES) sharing
// one PostgreSQL and one Redis, each beside the bare relay (bench/bare-relay.ts) on as many nodes with
// the same Redis and the same sharded adapter, so every node count has its hub : bare ratio taken
// minutes apart on the same box. Redis: a Redis Cluster of 3 masters + 3 replicas on loopback that
// the workload starts (bench/harness/redis-cluster.ts; hubs get REDIS_CLUSTER_NODES, bare relays an
// ioredis Cluster with sharded subscribers), or with BENCH_REDIS_CLUSTER=0 the one Redis of REDIS_URL.
// Every configuration, 1 node included, runs with Redis, so node count is all that changes.
// Order: hub x1 (it fixes the negotiate rate, the fanout carried rate and the listing template),
// bare x1, hub x2, bare x2, hub x3, bare x3.
// Negotiate: traders round-robin over the nodes, so with 2 or more nodes the seller and the buyer of
// each pair are on different nodes; phase A closed loop, phase B at one fixed rate for all
// (BENCH_NEGOTIATE_RATE, default half the 1-node hub's closed loop). Fanout: the publisher on node 1,
// subscriber sockets spread over the nodes; fixed-rate and capacity phases (see fanout.ts).
// Env: BENCH_CLUSTER_NODES ("1,2,3"), BENCH_SECONDS (5), BENCH_CLIENTS (100), BENCH_LANES (4),
// BENCH_NEGOTIATE_RATE, BENCH_SUBSCRIBERS ("1000"), BENCH_FANOUT_RATE (10), BENCH_SATURATION_SECONDS
// (5), BENCH_WINDOW (8), BENCH_SWARM_PROCS (2), BENCH_REDIS_CLUSTER, DATABASE_URL (needed).
import os from 'node:os';
import type { Listing } from '../../src/client/index.js';
import { envNumber, type Swarm, startSwarms, stopAll } from '../harness.js';
import { machine, saveResult } from '../lib.js';
import { type Config, type HubConfig, runHubs, runRelays } from './cluster/configs.js';
import { benchRedis } from './cluster/redis.js';
import { printCluster, scaling } from './cluster/report.js';
import { type FanoutSettings, fanoutSettings } from './fanout/settings.js';
import type { NegotiateSettings } from './negotiate/settings.js';

const SECONDS = envNumber('BENCH_SECONDS', 5);
const CLIENTS = Math.max(2, Math.floor(envNumber('BENCH_CLIENTS', 100) / 2) * 2);
const LANES = Math.floor(envNumber('BENCH_LANES', 4));
const NEGOTIATE_RATE = process.env.BENCH_NEGOTIATE_RATE ? envNumber('BENCH_NEGOTIATE_RATE', 1) : undefined;
const NODES = (process.env.BENCH_CLUSTER_NODES || '1,2,3')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  if (!adminUrl) {
    console.log('cluster: skipped (needs DATABASE_URL)');
    return;
  }
  if (!NODES.length) throw new Error('BENCH_CLUSTER_NODES must be a comma list of node counts');
  const redis = await benchRedis();
  if (typeof redis === 'string') {
    console.log(`cluster: skipped (${redis})`);
    return;
  }
  const fan: FanoutSettings = {
    ...fanoutSettings({ sizes: '1000', seconds: SECONDS }),
    rate: envNumber('BENCH_FANOUT_RATE', 10),
  };
  let negRate = NEGOTIATE_RATE;
  const neg: NegotiateSettings = {
    clients: CLIENTS,
    seconds: SECONDS,
    warmup: 1,
    lanes: LANES,
    closedLanes: LANES,
    // the first run (hub, fewest nodes) fixes the rate for all
    rates: (closed) => {
      negRate ??= Math.max(1, Math.round(closed / 2));
      return [negRate];
    },
  };
  console.log(
    `cluster: hub and bare relay on ${NODES.join(', ')} node(s), ${redis.where}, PostgreSQL; negotiate: ` +
      `${CLIENTS} traders, ${SECONDS} s closed loop then ${SECONDS} s at ${NEGOTIATE_RATE ?? "half the first hub's closed-loop"} ` +
      `commands/s (${LANES} lanes per pair); fanout: ${fan.sizes.join(' / ')} subscribers from ${fan.swarmProcs} ` +
      `swarm process(es), ${fan.rate} events/s for ${fan.seconds} s, then ${fan.window} in flight for ` +
      `${fan.saturationSeconds} s`,
  );
  const t0 = performance.now();
  const load0 = os.loadavg().map((l) => Number(l.toFixed(2)));
  const hubs: HubConfig[] = [];
  const bares: Config[] = [];
  let swarms: Swarm[] = [];
  try {
    swarms = await startSwarms(fan.swarmProcs);
    let carried: (number | undefined)[] | undefined;
    let template: Listing | undefined;
    for (const n of NODES) {
      const hub = await runHubs(adminUrl, redis, n, swarms, neg, fan, carried);
      hubs.push(hub);
      // the first hub's carried fanout rates (if any) and listing for all the others
      carried ??= hub.fanout.map((f) => f.carriedRate?.offeredEventsPerSecond);
      template ??= hub.template;
      bares.push(await runRelays(redis, n, swarms, neg, negRate!, fan, template, carried));
    }
  } finally {
    await stopAll(swarms);
    await redis.stop();
  }
  const result = {
    workload: 'cluster',
    machine: machine(),
    parameters: {
      nodes: NODES,
      seconds: SECONDS,
      clients: CLIENTS,
      lanesPerPair: LANES,
      negotiateFixedRate: negRate,
      negotiateFixedRateSource: NEGOTIATE_RATE ? 'BENCH_NEGOTIATE_RATE' : "half the first hub's closed loop",
      fanout: fan,
      database: 'postgres',
      redis: redis.where,
      redisMode: redis.mode,
      adapter: '@socket.io/redis-adapter sharded (ioredis), hub and bare relay alike',
      runSeconds: Math.round((performance.now() - t0) / 1000),
      /** 1-, 5- and 15-minute load at the start and the end (the box is shared) */
      loadAverage: { start: load0, end: os.loadavg().map((l) => Number(l.toFixed(2))) },
    },
    configs: NODES.map((n, i) => ({ nodes: n, hub: hubs[i]!, bare: bares[i]! })),
    scaling: scaling(hubs, bares, fan.sizes),
  };
  printCluster(hubs, bares, fan.sizes, negRate!, fan.rate, result.scaling);
  console.log(`saved ${await saveResult('cluster', result)}`);
}
