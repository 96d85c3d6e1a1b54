// fanout: one market event (listing.created) to 100 / 1,000 / 5,000 feed subscribers on one node.
// Subscribers are raw socket.io-client sockets (websocket) held by swarm child processes
// (bench/swarm.ts), each with feed:subscribe {} acked, spread over a few traders. A publisher
// trader in this process creates listings: phase 1 at a fixed offered rate (latency), phase 2 with
// a window of events in flight, the next one sent when an earlier one reached every subscriber
// (capacity, deliveries/s); phase 3 only when the asked rate is well beyond that capacity (it then
// measures a queue, not the hub): half the capacity, "carried rate", latency under a load the
// server can carry. Baseline in the same run: the bare relay (bench/bare-relay.ts, the same
// socket.io version) broadcasting a listing of the same fields and size to the same number of
// subscribers (room `feed`), measured with the same swarms, phases and rates (the hub's).
//
// Delivery latency: the publisher writes its send time into the listing's description
// ("fanout <seq> <epoch ms>", epoch ms = performance.timeOrigin + performance.now(), with a
// fraction). At the fixed rate the send time is the slot's scheduled time (a late send counts
// against the hub, no coordinated omission); in the capacity phase it is the actual send. Each
// swarm reads its own clock the same way, corrected by the offset to this process's clock measured
// over IPC before each size (syncClocks: smallest of 30 round trips, offset and round trip are in
// the results). So every latency is "receive time - send time" in one clock, on one machine.
// Env: BENCH_SUBSCRIBERS ("100,1000,5000"), BENCH_RATE (events/s at the fixed rate, 10),
// BENCH_SECONDS (10), BENCH_SATURATION_SECONDS (5), BENCH_WINDOW (events in flight, 8),
// BENCH_SWARM_PROCS (2), BENCH_OPEN_RATE (at most this many subscriber sockets opened per second,
// 64 handshakes in flight at most, 2000),
// BENCH_SOCKETS_PER_TRADER (1000), DATABASE_URL (unset: the hub runs PGlite).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Listing } from '../../src/client/index.js';
import {
  type BenchDatabase,
  freshDatabase,
  hubEnv,
  type Swarm,
  startBareRelay,
  startReadyHub,
  startSwarms,
  stopAll,
} from '../harness.js';
import { type HubProcess, machine, printTable, ratio, saveResult } from '../lib.js';
import { fanoutSettings, OPEN_IN_FLIGHT, PUBLISH_LANES } from './fanout/settings.js';
import { fanoutSizes, type SizeFigures } from './fanout/sizes.js';
import { carriedRows, fanoutRows } from './fanout/tables.js';
import { hubTarget, relayTarget } from './fanout/targets.js';

export async function run(): Promise<void> {
  const s = fanoutSettings();
  const adminUrl = process.env.DATABASE_URL || undefined;
  const maxSize = Math.max(...s.sizes);
  console.log(
    `fanout: ${s.sizes.join(' / ')} feed subscribers on 1 node from ${s.swarmProcs} swarm process(es), ` +
      `${s.rate} events/s for ${s.seconds} s (after ${s.warmupSeconds} s warm-up), then ${s.window} events ` +
      `in flight for ${s.saturationSeconds} s; ${Math.ceil(maxSize / s.socketsPerTrader)} subscriber traders, ` +
      `sockets opened at most ${s.openRate}/s, ${OPEN_IN_FLIGHT} in flight; carried rate (half the capacity, ` +
      `when ${s.rate}/s is well beyond it) for ${Math.max(5, s.seconds / 2)} s; database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let db: BenchDatabase | undefined;
  let hub: HubProcess | undefined;
  let relay: HubProcess | undefined;
  let swarms: Swarm[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-fanout-'));
  let hubFigures: SizeFigures[];
  let bareFigures: SizeFigures[];
  let template: Listing | undefined;
  try {
    swarms = await startSwarms(s.swarmProcs);
    if (adminUrl) db = await freshDatabase(adminUrl, 'renex_bench_fanout');
    hub = await startReadyHub(
      hubEnv({ DATABASE_URL: db?.url, DATA_DIR: dataDir, MAX_SOCKETS_PER_USER: '10000' }),
    );
    const h = await hubTarget([hub.url], [hub.child.pid!], maxSize, s.socketsPerTrader);
    try {
      hubFigures = await fanoutSizes(h.target, swarms, s);
      template = h.template();
    } finally {
      h.close();
    }
    await stopAll([hub]);
    hub = undefined;

    relay = await startBareRelay();
    const r = await relayTarget([relay.url], [relay.child.pid!], template);
    try {
      bareFigures = await fanoutSizes(
        r.target,
        swarms,
        s,
        hubFigures.map((f) => f.carriedRate?.offeredEventsPerSecond),
      );
    } finally {
      r.close();
    }
  } finally {
    await stopAll([hub, relay, ...swarms]);
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const last = hubFigures.length - 1;
  const h5 = hubFigures[last]!;
  const b5 = bareFigures[last]!;
  const result = {
    workload: 'fanout',
    machine: machine(),
    parameters: {
      ...s,
      nodes: 1,
      publishLanes: PUBLISH_LANES,
      database: adminUrl ? 'postgres' : 'pglite',
      transport: 'websocket',
      latencyClock:
        'sender epoch ms (timeOrigin + now) in the description; swarm clocks offset-corrected over IPC',
    },
    baseline: { bareRelay: bareFigures },
    hub: hubFigures,
    ratio: hubFigures.map((hf, i) => ({
      subscribers: hf.subscribers,
      deliveriesPerSecondMax: ratio(
        hf.capacity.deliveriesPerSecond,
        bareFigures[i]?.capacity.deliveriesPerSecond,
      ),
      deliveriesPerSecondFixed: ratio(
        hf.fixedRate.deliveriesPerSecond,
        bareFigures[i]?.fixedRate.deliveriesPerSecond,
      ),
      p99AtFixedRate: ratio(hf.fixedRate.latency.p99ms, bareFigures[i]?.fixedRate.latency.p99ms),
      p99AtCarriedRate: hf.carriedRate
        ? ratio(hf.carriedRate.latency.p99ms, bareFigures[i]?.carriedRate?.latency.p99ms)
        : null,
    })),
    targets: {
      [`p99 <= 250 ms at ${h5.subscribers}, ${s.rate} events/s`]: h5.fixedRate.latency.p99ms <= 250,
      ...(h5.carriedRate
        ? {
            [`p99 <= 250 ms at ${h5.subscribers}, ${h5.carriedRate.offeredEventsPerSecond} events/s (carried)`]:
              h5.carriedRate.latency.p99ms <= 250,
          }
        : {}),
      'deliveries/s >= 0.5 x bare (max)':
        h5.capacity.deliveriesPerSecond >= 0.5 * b5.capacity.deliveriesPerSecond,
    },
  };
  printTable(fanoutRows(hubFigures, bareFigures));
  const carried = carriedRows(hubFigures, bareFigures);
  if (carried.length) printTable(carried);
  printTable(
    hubFigures.flatMap((hf, i) => {
      const bf = bareFigures[i]!;
      const row = (name: string, f: SizeFigures) => ({
        server: name,
        subscribers: f.subscribers,
        'events/s max': f.capacity.eventsPerSecond,
        'p50/p99 ms max': `${f.capacity.latency.p50ms} / ${f.capacity.latency.p99ms}`,
        'cores fixed srv/swarm/pg/other': `${f.fixedRate.cpu.server} / ${f.fixedRate.cpu.swarms} / ${f.fixedRate.cpu.postgres} / ${f.fixedRate.cpu.other}`,
        'cores max srv/swarm/pg/other': `${f.capacity.cpu.server} / ${f.capacity.cpu.swarms} / ${f.capacity.cpu.postgres} / ${f.capacity.cpu.other}`,
        'event bytes': f.fixedRate.eventBytes,
        'open p99 ms': f.open.ready.p99ms,
      });
      return [row('hub', hf), row('bare', bf)];
    }),
  );
  printTable(Object.entries(result.targets).map(([target, met]) => ({ target, met: met ? 'yes' : 'NO' })));
  console.log(`saved ${await saveResult('fanout', result)}`);
}
