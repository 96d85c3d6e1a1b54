// cluster: the negotiate and fanout workloads with their clients spread over 2 hub nodes sharing
// DATABASE_URL and REDIS_URL (Socket.IO's sharded Redis adapter), against the bare relay over 2
// nodes with the same adapter (bench/bare-relay.ts with REDIS_URL) as the baseline, and the same
// four measurements on 1 node (hub without Redis, relay without Redis) in the same run, so that
// both the 2-node ratio hub : bare and the 1-node ratio are taken minutes apart on the same box.
// Negotiate: traders round-robin over the nodes, so the seller and the buyer of each pair are on
// different nodes (every event crosses Redis); phase A closed loop, phase B at one fixed rate for
// all four (BENCH_NEGOTIATE_RATE, default half the 1-node hub's closed-loop throughput, a load it
// carries). Fanout: the publisher on node 1, subscriber sockets alternating over the nodes; the
// fixed-rate and capacity phases of the fanout workload (see fanout.ts for the latency clock).
// Env: BENCH_SECONDS (5), BENCH_CLIENTS (100), BENCH_LANES (4), BENCH_NEGOTIATE_RATE,
// BENCH_SUBSCRIBERS ("1000"), BENCH_FANOUT_RATE (10), BENCH_SATURATION_SECONDS (5), BENCH_WINDOW (8),
// BENCH_SWARM_PROCS (2), DATABASE_URL and REDIS_URL (both needed, else the workload is skipped).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Listing } from '../../src/client/index.js';
import {
  assertLocal,
  type BenchDatabase,
  dropRedisPrefix,
  envNumber,
  freshDatabase,
  hubEnv,
  type Swarm,
  startBareRelay,
  startReadyHub,
  startSwarms,
  stopAll,
} from '../harness.js';
import { type HubProcess, machine, printTable, ratio, saveResult } from '../lib.js';
import { type FanoutSettings, fanoutSettings } from './fanout/settings.js';
import { fanoutSizes, type SizeFigures } from './fanout/sizes.js';
import { hubTarget, relayTarget } from './fanout/targets.js';
import { negotiateOnHub } from './negotiate/hub-phases.js';
import { negotiateOnRelay } from './negotiate/relay-phases.js';
import type { NegotiateSettings } from './negotiate/settings.js';

const SECONDS = envNumber('BENCH_SECONDS', 5);
const CLIENTS = Math.max(2, Math.floor(envNumber('BENCH_CLIENTS', 100) / 2) * 2);
const LANES = Math.floor(envNumber('BENCH_LANES', 4));
const NEGOTIATE_RATE = process.env.BENCH_NEGOTIATE_RATE ? envNumber('BENCH_NEGOTIATE_RATE', 1) : undefined;

type HubNegotiate = Awaited<ReturnType<typeof negotiateOnHub>>;
type RelayNegotiate = Awaited<ReturnType<typeof negotiateOnRelay>>;

interface Config {
  negotiate: HubNegotiate | RelayNegotiate;
  fanout: SizeFigures[];
}

/** Hub nodes on a fresh database; `redis` set: nodes share it under a fresh prefix. */
async function runHubs(
  adminUrl: string,
  redisUrl: string | undefined,
  nodes: number,
  swarms: Swarm[],
  neg: NegotiateSettings,
  fan: FanoutSettings,
  carried?: (number | undefined)[],
): Promise<Config & { template: Listing | undefined }> {
  const db: BenchDatabase = await freshDatabase(adminUrl, `renex_bench_cluster${nodes}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-cluster-'));
  const prefix = `bench-cluster-${randomBytes(4).toString('hex')}`;
  const hubs: HubProcess[] = [];
  try {
    const env = hubEnv({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      MAX_SOCKETS_PER_USER: '10000',
      ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } : {}),
    });
    for (let i = 0; i < nodes; i++) hubs.push(await startReadyHub(env));
    const urls = hubs.map((h) => h.url);
    const name = `hub x${nodes}`;
    const negotiate = await negotiateOnHub(urls, neg, name);
    const t = await hubTarget(
      urls,
      hubs.map((h) => h.child.pid!),
      Math.max(...fan.sizes),
      fan.socketsPerTrader,
    );
    let fanout: SizeFigures[];
    try {
      fanout = await fanoutSizes(t.target, swarms, fan, carried);
    } finally {
      t.close();
    }
    if (hubs.some((h) => h.child.exitCode !== null)) console.log(`WARNING: a node of ${name} had exited`);
    return { negotiate, fanout, template: t.template() };
  } finally {
    await stopAll(hubs);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    if (redisUrl) await dropRedisPrefix(redisUrl, prefix).catch(() => 0);
  }
}

async function runRelays(
  redisUrl: string | undefined,
  nodes: number,
  swarms: Swarm[],
  neg: NegotiateSettings,
  rate: number,
  fan: FanoutSettings,
  template: Listing | undefined,
  carried: (number | undefined)[],
): Promise<Config> {
  const prefix = `bench-cluster-bare-${randomBytes(4).toString('hex')}`;
  const relays: HubProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++)
      relays.push(await startBareRelay(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } : {}));
    const urls = relays.map((r) => r.url);
    const negotiate = await negotiateOnRelay(urls, [rate], neg, `relay x${nodes}`);
    const t = await relayTarget(
      urls,
      relays.map((r) => r.child.pid!),
      template,
    );
    try {
      return { negotiate, fanout: await fanoutSizes(t.target, swarms, fan, carried) };
    } finally {
      t.close();
    }
  } finally {
    await stopAll(relays);
    if (redisUrl) await dropRedisPrefix(redisUrl, prefix).catch(() => 0);
  }
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  if (!adminUrl || !redisUrl) {
    console.log('cluster: skipped (needs DATABASE_URL and REDIS_URL for two nodes)');
    return;
  }
  assertLocal(redisUrl, 'REDIS_URL');
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
    // the first run (hub, 1 node) fixes the rate for all four
    rates: (closed) => {
      negRate ??= Math.max(1, Math.round(closed / 2));
      return [negRate];
    },
  };
  console.log(
    `cluster: hub and bare relay on 1 and 2 nodes (Redis sharded adapter), PostgreSQL; negotiate: ${CLIENTS} traders, ` +
      `${SECONDS} s closed loop then ${SECONDS} s at ${NEGOTIATE_RATE ?? "half the 1-node hub's closed-loop"} ` +
      `commands/s (${LANES} lanes per pair); fanout: ${fan.sizes.join(' / ')} subscribers from ${fan.swarmProcs} ` +
      `swarm process(es), ${fan.rate} events/s for ${fan.seconds} s, then ${fan.window} in flight for ` +
      `${fan.saturationSeconds} s`,
  );
  let swarms: Swarm[] = [];
  let hub1: Config & { template: Listing | undefined };
  let hub2: Config & { template: Listing | undefined };
  let bare1: Config;
  let bare2: Config;
  try {
    swarms = await startSwarms(fan.swarmProcs);
    hub1 = await runHubs(adminUrl, undefined, 1, swarms, neg, fan);
    // the 1-node hub's carried fanout rates (if any) for the other three, as its negotiate rate
    const carried = hub1.fanout.map((f) => f.carriedRate?.offeredEventsPerSecond);
    hub2 = await runHubs(adminUrl, redisUrl, 2, swarms, neg, fan, carried);
    bare1 = await runRelays(undefined, 1, swarms, neg, negRate!, fan, hub1.template, carried);
    bare2 = await runRelays(redisUrl, 2, swarms, neg, negRate!, fan, hub1.template, carried);
  } finally {
    await stopAll(swarms);
  }

  const n = (c: Config) => c.negotiate;
  const closed = (c: Config) => n(c).closedLoop.commandsPerSecond;
  const fixedP99 = (c: Config) => n(c).fixedRate[0]?.ack.p99ms ?? Number.NaN;
  const cap = (c: Config, i: number) => c.fanout[i]?.capacity.deliveriesPerSecond ?? Number.NaN;
  const fanP99 = (c: Config, i: number) => c.fanout[i]?.fixedRate.latency.p99ms ?? Number.NaN;
  const r1 = ratio(closed(hub1), closed(bare1));
  const r2 = ratio(closed(hub2), closed(bare2));
  const result = {
    workload: 'cluster',
    machine: machine(),
    parameters: {
      seconds: SECONDS,
      clients: CLIENTS,
      lanesPerPair: LANES,
      negotiateFixedRate: negRate,
      negotiateFixedRateSource: NEGOTIATE_RATE ? 'BENCH_NEGOTIATE_RATE' : "half the 1-node hub's closed loop",
      fanout: fan,
      database: 'postgres',
      adapter: '@socket.io/redis-adapter sharded (ioredis), hub and bare relay alike',
      singleNode: 'measured in this run: hub without REDIS_URL, bare relay without REDIS_URL',
    },
    baseline: { bareRelay1: bare1, bareRelay2: bare2 },
    hub1,
    hub2,
    ratio: {
      negotiate: {
        hubToBare1Node: r1,
        hubToBare2Nodes: r2,
        twoNodeRatioToOneNodeRatio: r1 && r2 ? ratio(r2, r1) : null,
        hub2To1Node: ratio(closed(hub2), closed(hub1)),
        bare2To1Node: ratio(closed(bare2), closed(bare1)),
        hubP99AtFixedRate2To1Node: ratio(fixedP99(hub2), fixedP99(hub1)),
      },
      fanout: fan.sizes.map((_, i) => {
        const f1 = ratio(cap(hub1, i), cap(bare1, i));
        const f2 = ratio(cap(hub2, i), cap(bare2, i));
        return {
          subscribers: hub1.fanout[i]?.subscribers,
          hubToBareDeliveriesPerSecond1Node: f1,
          hubToBareDeliveriesPerSecond2Nodes: f2,
          twoNodeRatioToOneNodeRatio: f1 && f2 ? ratio(f2, f1) : null,
          hub2To1Node: ratio(cap(hub2, i), cap(hub1, i)),
          bare2To1Node: ratio(cap(bare2, i), cap(bare1, i)),
          hubP99AtFixedRate2To1Node: ratio(fanP99(hub2, i), fanP99(hub1, i)),
        };
      }),
    },
  };

  const configs: [string, Config][] = [
    ['hub, 1 node', hub1],
    ['hub, 2 nodes', hub2],
    ['bare, 1 node', bare1],
    ['bare, 2 nodes', bare2],
  ];
  const p = (s: { p50ms: number; p99ms: number } | undefined) => (s ? `${s.p50ms} / ${s.p99ms}` : '-');
  printTable(
    configs.map(([name, c]) => {
      const f = n(c).fixedRate[0];
      return {
        negotiate: name,
        'cmds/s closed': closed(c),
        'ack p50/p99 closed': p(n(c).closedLoop.service),
        [`ack p50/p99 @${negRate}/s`]: p(f?.ack),
        [`delivery p50/p99 @${negRate}/s`]: p(f?.delivery),
        'failed / lost': `${n(c).closedLoop.failed + (f?.failed ?? 0)} / ${n(c).closedLoop.deliveriesLost + (f?.deliveriesLost ?? 0)}`,
      };
    }),
  );
  printTable(
    fan.sizes.flatMap((_, i) =>
      configs.map(([name, c]) => {
        const f = c.fanout[i];
        return {
          fanout: name,
          subscribers: f?.subscribers ?? '-',
          [`p50/p99 ms @${fan.rate}/s`]: p(f?.fixedRate.latency),
          'p50/p99 ms carried': f?.carriedRate
            ? `${p(f.carriedRate.latency)} @${f.carriedRate.offeredEventsPerSecond}/s`
            : '-',
          'deliv/s max': f?.capacity.deliveriesPerSecond ?? '-',
          'p50/p99 ms max': p(f?.capacity.latency),
          lost: f ? f.fixedRate.lost + f.capacity.lost + (f.carriedRate?.lost ?? 0) : '-',
          'cores srv/swarm/redis/other (max)': f
            ? `${f.capacity.cpu.server} / ${f.capacity.cpu.swarms} / ${f.capacity.cpu.redis} / ${f.capacity.cpu.other}`
            : '-',
        };
      }),
    ),
  );
  const rn = result.ratio.negotiate;
  printTable([
    { ratio: 'negotiate hub : bare, 1 node (closed loop cmds/s)', value: rn.hubToBare1Node ?? '-' },
    { ratio: 'negotiate hub : bare, 2 nodes', value: rn.hubToBare2Nodes ?? '-' },
    { ratio: 'negotiate 2-node ratio / 1-node ratio', value: rn.twoNodeRatioToOneNodeRatio ?? '-' },
    { ratio: 'negotiate hub 2 nodes : 1 node', value: rn.hub2To1Node ?? '-' },
    { ratio: 'negotiate bare 2 nodes : 1 node', value: rn.bare2To1Node ?? '-' },
    ...result.ratio.fanout.flatMap((f) => [
      {
        ratio: `fanout ${f.subscribers} hub : bare, 1 node (deliveries/s max)`,
        value: f.hubToBareDeliveriesPerSecond1Node ?? '-',
      },
      {
        ratio: `fanout ${f.subscribers} hub : bare, 2 nodes`,
        value: f.hubToBareDeliveriesPerSecond2Nodes ?? '-',
      },
      {
        ratio: `fanout ${f.subscribers} 2-node ratio / 1-node ratio`,
        value: f.twoNodeRatioToOneNodeRatio ?? '-',
      },
      { ratio: `fanout ${f.subscribers} hub 2 nodes : 1 node`, value: f.hub2To1Node ?? '-' },
      { ratio: `fanout ${f.subscribers} bare 2 nodes : 1 node`, value: f.bare2To1Node ?? '-' },
    ]),
  ]);
  console.log(`saved ${await saveResult('cluster', result)}`);
}
