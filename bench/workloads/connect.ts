// connect: 10,000 authenticated sockets opened at a fixed rate on one node, from swarm child
// processes (bench/swarm.ts), and kept open. Figures: handshakes/s achieved, failures, handshake
// latency (from each socket's scheduled time, so a hub falling behind shows), and the server
// process's memory per connection above idle: RSS from /proc/<pid>/status (VmRSS) and V8 heap used
// (the hub's GET /metrics hub_nodejs_heap_size_used_bytes; the relay's GET /memory), read after a
// warm-up batch was opened and closed (idle) and again with every socket open, each time after a
// settle pause (no forced GC: heap figures include garbage not yet collected).
// A socket counts as ready once its `feed:subscribe` is acked (as a dashboard's socket: the hub
// has verified its token, checked revocation, joined its rooms; the bare relay joins its one feed
// room); with BENCH_CONNECT_SUBSCRIBE=0 a hub socket is ready on its `sync` (newest event looked up)
// and a bare one on `connect`.
// When the offered rate is above what the server accepts, its accept queue (listen backlog 511)
// overflows and the kernel drops connections: clients then wait for SYN retransmits (1 s, 3 s,
// 7 s, ...) or see ECONNRESET, so the achieved rate also holds idle gaps. The kernel's counters
// (TcpExt ListenOverflows, TCPSynRetrans) are read around each phase to show it.
// Phase 2, capacity: BENCH_CAPACITY_SOCKETS more sockets in a closed loop with at most
// BENCH_CONNECT_INFLIGHT handshakes under way (no overrun, no backoff): the handshakes/s the
// server sustains, and the latency of one handshake at that load. It runs in BENCH_CAPACITY_ROUNDS
// rounds alternating between the two servers (hub then bare, bare then hub, ...), both running
// throughout: each round's ratio compares two phases next to each other in time, and the figure
// is the median round's (on this shared box the speed drifts within a run: one phase after the
// other had measured the drift as much as the servers).
// Baseline in the same run: the bare relay (bench/bare-relay.ts), same swarms, same phases.
// Env: BENCH_SOCKETS (10000), BENCH_CONNECT_RATE (1500), BENCH_CAPACITY_SOCKETS (5000),
// BENCH_CAPACITY_ROUNDS (3), BENCH_CONNECT_INFLIGHT (64; 0 skips phase 2), BENCH_SWARM_PROCS (2), BENCH_SOCKETS_PER_TRADER
// (1000), BENCH_CONNECT_SUBSCRIBE (1), BENCH_CONNECT_WARMUP (3000), DATABASE_URL (unset: PGlite).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type BenchDatabase,
  freshDatabase,
  hubEnv,
  registerTraders,
  rssBytes,
  type Swarm,
  scrapeMetrics,
  startBareRelay,
  startReadyHub,
  startSwarms,
  stopAll,
} from '../harness.js';
import { type HubProcess, machine, printTable, ratio, saveResult } from '../lib.js';
import { capacityRounds, measureServer, type ServerUnderTest } from './connect/measure-server.js';
import {
  CAPACITY_ROUNDS,
  CAPACITY_SOCKETS,
  IN_FLIGHT,
  PER_TRADER,
  PROCS,
  RATE,
  SETTLE_MS,
  SOCKETS,
  SUBSCRIBE,
  TIMEOUT_MS,
  WARMUP_SOCKETS,
} from './connect/settings.js';

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  const traders = Math.max(1, Math.ceil(SOCKETS / PER_TRADER));
  console.log(
    `connect: ${SOCKETS} sockets at ${RATE}/s on 1 node from ${PROCS} swarm process(es), ${traders} traders ` +
      `(${PER_TRADER} sockets each), then ${IN_FLIGHT > 0 ? `capacity: ${CAPACITY_SOCKETS} sockets, ${IN_FLIGHT} in flight` : 'no capacity phase'}; ` +
      `database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let db: BenchDatabase | undefined;
  let hub: HubProcess | undefined;
  let relay: HubProcess | undefined;
  let swarms: Swarm[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-connect-'));
  let hubFigures: Awaited<ReturnType<typeof measureServer>>;
  let bareFigures: Awaited<ReturnType<typeof measureServer>>;
  let capacity: Awaited<ReturnType<typeof capacityRounds>> | undefined;
  try {
    swarms = await startSwarms(PROCS);
    if (adminUrl) db = await freshDatabase(adminUrl, 'renex_bench_connect');
    hub = await startReadyHub(
      hubEnv({ DATABASE_URL: db?.url, DATA_DIR: dataDir, MAX_SOCKETS_PER_USER: '10000' }),
    );
    relay = await startBareRelay();
    const clients = await registerTraders([hub.url], traders, 'conn', { meters: false });
    const tokens = clients.map((c) => c.session.accessToken);
    const hubUrl = hub.url;
    const hubPid = hub.child.pid!;
    const relayUrl = relay.url;
    const relayPid = relay.child.pid!;
    const hubServer: ServerUnderTest = {
      name: 'hub',
      url: hubUrl,
      pid: hubPid,
      swarms,
      auth: (i) => ({ token: tokens[i % tokens.length] }),
      readyOn: SUBSCRIBE ? 'subscribe' : 'sync',
      async memory() {
        const m = await scrapeMetrics(hubUrl);
        return {
          rssBytes: await rssBytes(hubPid),
          heapUsedBytes: m.get('hub_nodejs_heap_size_used_bytes') ?? 0,
        };
      },
      async socketsSeen() {
        return (await scrapeMetrics(hubUrl)).get('hub_sockets_connected') ?? -1;
      },
    };
    const bareServer: ServerUnderTest = {
      name: 'bare relay',
      url: relayUrl,
      pid: relayPid,
      swarms,
      // the same token bytes in the handshake; the relay only reads userId
      auth: (i) => ({ token: tokens[i % tokens.length], userId: `u${i % tokens.length}` }),
      readyOn: SUBSCRIBE ? 'subscribe' : 'connect',
      async memory() {
        const m = (await (await fetch(`${relayUrl}/memory`)).json()) as { heapUsed: number };
        return { rssBytes: await rssBytes(relayPid), heapUsedBytes: m.heapUsed };
      },
    };
    // both servers run throughout (the idle one costs next to nothing), so that the capacity
    // rounds can alternate between them
    hubFigures = await measureServer(hubServer);
    bareFigures = await measureServer(bareServer);
    if (IN_FLIGHT > 0) capacity = await capacityRounds(hubServer, bareServer, CAPACITY_ROUNDS);
  } finally {
    await stopAll([hub, relay, ...swarms]);
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const h = hubFigures.fixedRate;
  const b = bareFigures.fixedRate;
  const hm = hubFigures.memory;
  const bm = bareFigures.memory;
  const result = {
    workload: 'connect',
    machine: machine(),
    parameters: {
      sockets: SOCKETS,
      rate: RATE,
      capacitySockets: CAPACITY_SOCKETS,
      capacityInFlight: IN_FLIGHT,
      capacityRounds: CAPACITY_ROUNDS,
      capacityOrder: 'rounds alternate: hub then bare, bare then hub, ...; ratio = median of the rounds',
      swarmProcs: PROCS,
      traders,
      socketsPerTrader: PER_TRADER,
      warmupSockets: WARMUP_SOCKETS,
      settleMs: SETTLE_MS,
      timeoutMs: TIMEOUT_MS,
      database: adminUrl ? 'postgres' : 'pglite',
      transport: 'websocket',
      hubReadyOn: SUBSCRIBE ? 'sync, then feed:subscribe acked' : 'sync',
      bareReadyOn: SUBSCRIBE ? 'connect, then feed:subscribe acked' : 'connect',
    },
    baseline: { bareRelay: bareFigures },
    hub: hubFigures,
    capacity: capacity ?? { skipped: 'BENCH_CONNECT_INFLIGHT=0' },
    ratio: {
      handshakesPerSecond: ratio(h.handshakesPerSecond, b.handshakesPerSecond),
      rssPerConnection: ratio(hm.rssPerConnectionBytes, bm.rssPerConnectionBytes),
      heapPerConnection: ratio(hm.heapPerConnectionBytes, bm.heapPerConnectionBytes),
      /** the median of the rounds' ratios */
      handshakesPerSecondCapacity: capacity ? Number(capacity.median.ratio.toFixed(3)) : null,
    },
    targets: {
      'no failure': h.failed === 0,
      // an open loop cannot go faster than offered: kept up = within 2% of the offered rate
      [`>= ${RATE} handshakes/s (kept up: >= 98% of offered)`]: h.handshakesPerSecond >= 0.98 * RATE,
      '<= 20 KB RSS per connection': (hm.rssPerConnectionBytes ?? Number.POSITIVE_INFINITY) <= 20 * 1024,
    },
  };
  const kb = (n: number | null) => (n === null ? '-' : (n / 1024).toFixed(1));
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  type Cap = NonNullable<typeof capacity>['median']['a'];
  const cap = (f: Cap) => `${f.handshakesPerSecond}/s, ${f.failed} failed`;
  const capLat = (f: Cap) => `${f.ready.p50ms} / ${f.ready.p99ms}`;
  const capCpu = (f: Cap) => `${f.cpu.server} / ${f.cpu.swarms} (pg ${f.cpu.postgres}, other ${f.cpu.other})`;
  const capacityRows = (capacity?.rounds ?? []).flatMap((r, i) => [
    {
      figure: `capacity round ${i + 1}${i % 2 ? ' (bare first)' : ''}: handshakes/s, ${IN_FLIGHT} in flight`,
      hub: cap(r.a),
      bare: cap(r.b),
      ratio: Number(r.ratio.toFixed(3)),
    },
    { figure: `capacity round ${i + 1}: ready p50 / p99 ms`, hub: capLat(r.a), bare: capLat(r.b), ratio: '' },
    {
      figure: `capacity round ${i + 1}: server / swarm cores`,
      hub: capCpu(r.a),
      bare: capCpu(r.b),
      ratio: '',
    },
  ]);
  printTable([
    {
      figure: `handshakes/s at ${RATE}/s offered`,
      hub: h.handshakesPerSecond,
      bare: b.handshakesPerSecond,
      ratio: result.ratio.handshakesPerSecond ?? '-',
    },
    {
      figure: 'connected / failed',
      hub: `${h.connected} / ${h.failed}`,
      bare: `${b.connected} / ${b.failed}`,
      ratio: '',
    },
    {
      figure: 'handshake (connect) p50 / p99 ms',
      hub: `${h.handshake.p50ms} / ${h.handshake.p99ms}`,
      bare: `${b.handshake.p50ms} / ${b.handshake.p99ms}`,
      ratio: '',
    },
    {
      figure: SUBSCRIBE ? 'ready (feed:subscribe acked) p50 / p99 ms' : 'ready (hub: sync) p50 / p99 ms',
      hub: `${h.ready.p50ms} / ${h.ready.p99ms}`,
      bare: `${b.ready.p50ms} / ${b.ready.p99ms}`,
      ratio: '',
    },
    {
      figure: 'RSS idle -> loaded (MiB)',
      hub: `${mb(hm.idle.rssBytes)} -> ${mb(hm.loaded.rssBytes)}`,
      bare: `${mb(bm.idle.rssBytes)} -> ${mb(bm.loaded.rssBytes)}`,
      ratio: '',
    },
    {
      figure: 'RSS per connection (KB)',
      hub: kb(hm.rssPerConnectionBytes),
      bare: kb(bm.rssPerConnectionBytes),
      ratio: result.ratio.rssPerConnection ?? '-',
    },
    {
      figure: 'heap used per connection (KB)',
      hub: kb(hm.heapPerConnectionBytes),
      bare: kb(bm.heapPerConnectionBytes),
      ratio: result.ratio.heapPerConnection ?? '-',
    },
    {
      figure: 'server / swarm cores while opening',
      hub: `${h.cpu.server} / ${h.cpu.swarms} (pg ${h.cpu.postgres}, other ${h.cpu.other})`,
      bare: `${b.cpu.server} / ${b.cpu.swarms} (pg ${b.cpu.postgres}, other ${b.cpu.other})`,
      ratio: '',
    },
    {
      figure: `accept-queue overflows / SYN retransmits at ${RATE}/s`,
      hub: `${h.tcp.ListenOverflows} / ${h.tcp.TCPSynRetrans}`,
      bare: `${b.tcp.ListenOverflows} / ${b.tcp.TCPSynRetrans}`,
      ratio: '',
    },
    ...capacityRows,
    {
      figure: "capacity: median of the rounds' ratios",
      hub: '',
      bare: '',
      ratio: result.ratio.handshakesPerSecondCapacity ?? '-',
    },
  ]);
  if (Object.keys(h.errors).length) console.log('hub handshake failures:', h.errors);
  printTable(Object.entries(result.targets).map(([target, met]) => ({ target, met: met ? 'yes' : 'NO' })));
  console.log(`saved ${await saveResult('connect', result)}`);
}
