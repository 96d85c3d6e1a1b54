// One configuration of the cluster workload: `n` hub nodes (a fresh database, one Redis namespace)
// or `n` bare relays, each measured with negotiate's and fanout's phases.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Listing } from '../../../src/client/index.js';
import {
  type BenchDatabase,
  freshDatabase,
  hubEnv,
  type Swarm,
  scrapeMetrics,
  startBareRelay,
  startReadyHub,
  stopAll,
} from '../../harness.js';
import type { HubProcess } from '../../lib.js';
import type { FanoutSettings } from '../fanout/settings.js';
import { fanoutSizes, type SizeFigures } from '../fanout/sizes.js';
import { hubTarget, relayTarget } from '../fanout/targets.js';
import { negotiateOnHub } from '../negotiate/hub-phases.js';
import { negotiateOnRelay } from '../negotiate/relay-phases.js';
import type { NegotiateSettings } from '../negotiate/settings.js';
import type { BenchRedis } from './redis.js';

type HubNegotiate = Awaited<ReturnType<typeof negotiateOnHub>>;
type RelayNegotiate = Awaited<ReturnType<typeof negotiateOnRelay>>;

export interface Config {
  nodes: number;
  negotiate: HubNegotiate | RelayNegotiate;
  fanout: SizeFigures[];
}

export interface HubConfig extends Config {
  /** events the nodes appended (hub_events_appended_total, all nodes) per second of the closed loop */
  closedLoopEventsPerSecond: number;
  template: Listing | undefined;
  nodeExited: boolean;
}

const sumOf = (maps: Map<string, number>[], name: string) =>
  maps.reduce((a, m) => a + [...m].reduce((b, [k, v]) => (k.startsWith(name) ? b + v : b), 0), 0);

/** `nodes` hub nodes on a fresh database, sharing `redis` under a fresh prefix. */
export async function runHubs(
  adminUrl: string,
  redis: BenchRedis,
  nodes: number,
  swarms: Swarm[],
  neg: NegotiateSettings,
  fan: FanoutSettings,
  carried?: (number | undefined)[],
): Promise<HubConfig> {
  const db: BenchDatabase = await freshDatabase(adminUrl, `renex_bench_cluster${nodes}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-cluster-'));
  const ns = redis.namespace('cluster');
  const hubs: HubProcess[] = [];
  try {
    const env = hubEnv({ DATABASE_URL: db.url, DATA_DIR: dataDir, MAX_SOCKETS_PER_USER: '10000', ...ns.env });
    for (let i = 0; i < nodes; i++) hubs.push(await startReadyHub(env));
    const urls = hubs.map((h) => h.url);
    const pids = hubs.map((h) => h.child.pid!);
    const name = `hub x${nodes}`;
    let before: Map<string, number>[] = [];
    let eventsPerSecond = 0;
    let t0 = 0;
    const negotiate = await negotiateOnHub(urls, neg, name, pids, {
      async onPhase(phase, edge) {
        if (phase !== 'A') return;
        const now = await Promise.all(urls.map(scrapeMetrics));
        if (edge === 'start') {
          before = now;
          t0 = performance.now();
        } else {
          const appended =
            sumOf(now, 'hub_events_appended_total') - sumOf(before, 'hub_events_appended_total');
          eventsPerSecond = Math.round(appended / ((performance.now() - t0) / 1000));
        }
      },
    });
    const t = await hubTarget(urls, pids, Math.max(...fan.sizes), fan.socketsPerTrader);
    let fanout: SizeFigures[];
    try {
      fanout = await fanoutSizes(t.target, swarms, fan, carried);
    } finally {
      t.close();
    }
    const nodeExited = hubs.some((h) => h.child.exitCode !== null);
    if (nodeExited) console.log(`WARNING: a node of ${name} had exited`);
    return {
      nodes,
      negotiate,
      fanout,
      closedLoopEventsPerSecond: eventsPerSecond,
      template: t.template(),
      nodeExited,
    };
  } finally {
    await stopAll(hubs);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await ns.drop();
  }
}

/** `nodes` bare relays sharing `redis` under a fresh prefix, at the hub's rates. */
export async function runRelays(
  redis: BenchRedis,
  nodes: number,
  swarms: Swarm[],
  neg: NegotiateSettings,
  rate: number,
  fan: FanoutSettings,
  template: Listing | undefined,
  carried: (number | undefined)[],
): Promise<Config> {
  const ns = redis.namespace('cluster-bare');
  const relays: HubProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) relays.push(await startBareRelay(ns.env));
    const urls = relays.map((r) => r.url);
    const negotiate = await negotiateOnRelay(urls, [rate], neg, `bare x${nodes}`);
    const pids = relays.map((r) => r.child.pid!);
    const t = await relayTarget(urls, pids, template);
    try {
      return { nodes, negotiate, fanout: await fanoutSizes(t.target, swarms, fan, carried) };
    } finally {
      t.close();
    }
  } finally {
    await stopAll(relays);
    await ns.drop();
  }
}
