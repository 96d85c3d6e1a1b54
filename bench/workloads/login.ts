// login: a storm of concurrent logins (BENCH_LOGINS loops, each POST /api/v1/auth/login again as
// soon as the last one answered, for BENCH_SECONDS) while negotiate traffic runs at a modest fixed
// rate. The same run has a quiet phase first (negotiate alone) and then the storm phase, so the
// negotiate ack latency during the storm is compared with the quiet one measured minutes before.
// The logins come from a swarm child process (bench/swarm.ts), the negotiating traders from this
// process (the negotiate workload's lanes, create -> propose -> counter -> accept).
// Event-loop lag: GET /metrics is read at the start of each phase and at its end; prom-client's
// hub_nodejs_eventloop_lag_* gauges describe the monitorEventLoopDelay histogram since the
// previous read (it is reset on every read), so the end read gives the p99 over the whole phase.
// A probe also sends feed:subscribe (no database, no limits) at a fixed rate on its own socket:
// its ack latency from the scheduled time is the event loop's delay as a client sees it.
// Baselines in the same run: the quiet phase, and argon2id verify throughput at the hub's cost
// (m=19 MiB, t=2, p=1; 4 in flight like libuv's default pool) measured here before the hub starts.
// Env: BENCH_LOGINS (50), BENCH_SECONDS (10), BENCH_RATE (negotiate commands/s, 100),
// BENCH_CLIENTS (negotiating traders, 40), BENCH_LANES (4), BENCH_PROBE_RATE (20),
// BENCH_HUB_UV_THREADPOOL_SIZE (unset: libuv's default of 4; a diagnostic: argon2 runs on that pool,
// so it bounds how many hashes compete with the event loop and PostgreSQL for the cores),
// DATABASE_URL (unset: PGlite).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import * as hdr from 'hdr-histogram-js';
import type { HubClient } from '../../src/client/index.js';
import {
  type BenchDatabase,
  type BenchTrader,
  type CpuSplit,
  connectAll,
  cpuMeter,
  envNumber,
  fixedRate,
  freshDatabase,
  hubEnv,
  metricHistogramDelta,
  PASSWORD,
  progress,
  registerTraders,
  type Swarm,
  scrapeMetrics,
  startReadyHub,
  startSwarm,
  stopAll,
  syncClocks,
} from '../harness.js';
import { type HubProcess, histogram, machine, printTable, ratio, saveResult, summary } from '../lib.js';
import { deliveryKey, type Lane, type Pair, step } from './negotiate/hub-phases.js';
import { openLoop } from './negotiate/loops.js';
import { DeliveryWatch, phaseFigures, Recorder, type Step } from './negotiate/recorder.js';

const LOGINS = Math.floor(envNumber('BENCH_LOGINS', 50));
const SECONDS = envNumber('BENCH_SECONDS', 10);
const RATE = envNumber('BENCH_RATE', 100);
const CLIENTS = Math.max(2, Math.floor(envNumber('BENCH_CLIENTS', 40) / 2) * 2);
const LANES = Math.floor(envNumber('BENCH_LANES', 4));
const PROBE_RATE = envNumber('BENCH_PROBE_RATE', 20);
const WARMUP_SECONDS = 2;
const DELIVERY_GRACE_MS = 3_000;
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }; // the hub's defaults
const UV_POOL = process.env.BENCH_HUB_UV_THREADPOOL_SIZE || undefined;

const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));

/** argon2id verifies per second with 4 in flight, for `seconds` (the hub's login cost). */
async function argon2Baseline(seconds: number) {
  const line = progress('argon2id verify baseline');
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, ...ARGON2 });
  const one = histogram();
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await argon2.verify(hash, PASSWORD);
    one.recordValue(us(performance.now() - t));
  }
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < end) {
        await argon2.verify(hash, PASSWORD);
        n++;
      }
    }),
  );
  const perSecond = Math.round(n / ((performance.now() - t0) / 1000));
  line.done(`${perSecond} verifies/s (4 in flight), one verify p50 ${summary(one).p50ms} ms`);
  return { params: ARGON2, verifyMs: summary(one), verifiesPerSecond4InFlight: perSecond };
}

interface Lag {
  p50ms: number;
  p90ms: number;
  p99ms: number;
  maxMs: number;
  meanMs: number;
}

function lagOf(m: Map<string, number>): Lag {
  const ms = (name: string) =>
    Math.round((m.get(`hub_nodejs_eventloop_lag_${name}_seconds`) ?? Number.NaN) * 1e6) / 1000;
  return { p50ms: ms('p50'), p90ms: ms('p90'), p99ms: ms('p99'), maxMs: ms('max'), meanMs: ms('mean') };
}

/** feed:subscribe at a fixed rate on one socket; ack latency from each scheduled send. */
async function probe(client: HubClient, seconds: number) {
  const h = histogram();
  let failed = 0;
  await fixedRate({
    rate: PROBE_RATE,
    seconds,
    workers: [0, 1, 2, 3, 4, 5, 6, 7],
    drainMs: 5_000,
    run: async (_w, due) => {
      try {
        await client.subscribeFeed({ zones: ['PROBE'] });
        h.recordValue(us(performance.now() - due));
      } catch {
        failed++;
      }
    },
  });
  return { ack: summary(h), failed };
}

interface StormResult {
  ok: number;
  errors: Record<string, number>;
  latency: string;
  elapsedSeconds: number;
}

async function phase(
  name: 'quiet' | 'storm',
  hub: HubProcess,
  pairs: Pair[],
  watch: DeliveryWatch,
  probeClient: HubClient,
  swarm: Swarm,
  emails: string[],
) {
  const lanes: Lane[] = pairs.flatMap((pair) =>
    Array.from({ length: LANES }, () => ({ pair, step: 'create' as Step })),
  );
  const rec = new Recorder();
  const before = await scrapeMetrics(hub.url); // also resets the hub's event-loop delay histogram
  const cpu = await cpuMeter([hub.child.pid!], [swarm]);
  const [out, probed, storm] = await Promise.all([
    openLoop(
      `${name}: negotiate ${RATE} commands/s${name === 'storm' ? `, ${LOGINS} login loops` : ''}`,
      RATE,
      lanes,
      rec,
      (l, due) => step(l, rec, watch, due),
      SECONDS,
    ),
    probe(probeClient, SECONDS),
    name === 'storm'
      ? swarm.call<StormResult>('logins', { url: hub.url, emails, password: PASSWORD, seconds: SECONDS })
      : Promise.resolve(undefined),
  ]);
  const after = await scrapeMetrics(hub.url);
  const lag = lagOf(after);
  // inside the hub: from a command's arrival to its answer, and BEGIN..COMMIT of its transaction
  const market = (labels: string) => !labels.includes('command="feed:');
  const hubSide = {
    commandMs: metricHistogramDelta(before, after, 'hub_command_duration_seconds', market),
    transactionMs: metricHistogramDelta(before, after, 'hub_transaction_duration_seconds'),
    probeCommandMs: metricHistogramDelta(before, after, 'hub_command_duration_seconds', (l) =>
      l.includes('command="feed:subscribe"'),
    ),
  };
  const split: CpuSplit = await cpu();
  const lost = await watch.settle(rec, DELIVERY_GRACE_MS);
  const { errors, perSecond: _, ...negotiate } = phaseFigures(rec, out.elapsed, lost);
  let logins: Record<string, unknown> | undefined;
  if (storm) {
    const latency = hdr.decodeFromCompressedBase64(storm.latency);
    logins = {
      concurrent: LOGINS,
      ok: storm.ok,
      errors: storm.errors,
      seconds: storm.elapsedSeconds,
      loginsPerSecond: Math.round(storm.ok / storm.elapsedSeconds),
      latency: summary(latency),
    };
  }
  return {
    negotiate: {
      offeredPerSecond: RATE,
      lanes: lanes.length,
      ...out,
      achievedPerSecond: Math.round(rec.ok / out.elapsed),
      errors,
      ...negotiate,
    },
    eventLoopLag: lag,
    hubSide,
    probe: probed,
    logins,
    cpu: split,
  };
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  console.log(
    `login: ${LOGINS} concurrent login loops for ${SECONDS} s while negotiate runs at ${RATE} commands/s ` +
      `(${CLIENTS} traders, ${LANES} lanes per pair); quiet phase first, same length; feed:subscribe probe at ` +
      `${PROBE_RATE}/s; hub UV_THREADPOOL_SIZE ${UV_POOL ?? 'default (4)'}; ` +
      `database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  const baseline = await argon2Baseline(3);
  let db: BenchDatabase | undefined;
  let hub: HubProcess | undefined;
  let swarm: Swarm | undefined;
  let clients: BenchTrader[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-login-'));
  let quiet: Awaited<ReturnType<typeof phase>>;
  let storm: Awaited<ReturnType<typeof phase>>;
  try {
    swarm = await startSwarm();
    if (adminUrl) db = await freshDatabase(adminUrl, 'renex_bench_login');
    hub = await startReadyHub(
      hubEnv({ DATABASE_URL: db?.url, DATA_DIR: dataDir, UV_THREADPOOL_SIZE: UV_POOL }),
    );
    await syncClocks([swarm]);
    clients = await registerTraders([hub.url], CLIENTS + 1, 'login');
    await connectAll(clients);
    const [probeClient, ...traders] = clients;
    const watch = new DeliveryWatch();
    for (const c of traders) {
      const me = c.user.id;
      c.onEvent((e) => {
        const key = deliveryKey(me, e.type, e.data as { id?: string; listingId?: string; round?: number });
        if (key) watch.arrived(key);
      });
    }
    const pairs: Pair[] = [];
    for (let i = 0; i < traders.length; i += 2) pairs.push({ seller: traders[i]!, buyer: traders[i + 1]! });

    const line = progress(`registering ${LOGINS} login accounts`);
    const reg = await swarm.call<{ emails: string[]; errors: Record<string, number> }>('register', {
      url: hub.url,
      n: LOGINS,
      tag: `storm-${randomBytes(4).toString('hex')}`,
      password: PASSWORD,
    });
    line.done(
      Object.keys(reg.errors).length ? JSON.stringify(reg.errors) : `${reg.emails.length} registered`,
    );

    // warm-up: negotiate and a few logins, not recorded
    const warm = new Recorder();
    const warmLanes: Lane[] = pairs.map((pair) => ({ pair, step: 'create' }));
    await Promise.all([
      openLoop('warm-up', RATE, warmLanes, warm, (l, due) => step(l, warm, watch, due), WARMUP_SECONDS),
      swarm.call('logins', {
        url: hub.url,
        emails: reg.emails.slice(0, 4),
        password: PASSWORD,
        seconds: WARMUP_SECONDS,
      }),
    ]);
    await watch.settle(warm, DELIVERY_GRACE_MS);

    quiet = await phase('quiet', hub, pairs, watch, probeClient!, swarm, reg.emails);
    storm = await phase('storm', hub, pairs, watch, probeClient!, swarm, reg.emails);
  } finally {
    for (const c of clients) c.close();
    await stopAll([hub, swarm]);
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const logins = storm.logins as { loginsPerSecond: number; latency: ReturnType<typeof summary> } & Record<
    string,
    unknown
  >;
  const result = {
    workload: 'login',
    machine: machine(),
    parameters: {
      concurrentLogins: LOGINS,
      seconds: SECONDS,
      negotiateRate: RATE,
      traders: CLIENTS,
      lanesPerPair: LANES,
      probeRate: PROBE_RATE,
      hubUvThreadpoolSize: UV_POOL ?? 'default (4)',
      database: adminUrl ? 'postgres' : 'pglite',
      argon2id: ARGON2,
      eventLoopLagSource: 'GET /metrics at phase start (reset) and end: prom-client monitorEventLoopDelay',
    },
    baseline: { argon2: baseline, quiet },
    storm,
    ratio: {
      loginsToArgon2Verifies: ratio(logins.loginsPerSecond, baseline.verifiesPerSecond4InFlight),
      negotiateP99StormToQuiet: ratio(storm.negotiate.ack.p99ms, quiet.negotiate.ack.p99ms),
      probeP99StormToQuiet: ratio(storm.probe.ack.p99ms, quiet.probe.ack.p99ms),
      lagP99StormToQuiet: ratio(storm.eventLoopLag.p99ms, quiet.eventLoopLag.p99ms),
    },
    targets: {
      'event-loop lag p99 <= 50 ms during the storm': storm.eventLoopLag.p99ms <= 50,
      'negotiate p99 <= 2 x quiet': storm.negotiate.ack.p99ms <= 2 * quiet.negotiate.ack.p99ms,
    },
  };
  const p = (s: { p50ms: number; p99ms: number }) => `${s.p50ms} / ${s.p99ms}`;
  printTable([
    { figure: 'logins/s (storm)', quiet: '-', storm: logins.loginsPerSecond, ratio: '' },
    {
      figure: 'argon2id verifies/s here, 4 in flight (baseline)',
      quiet: baseline.verifiesPerSecond4InFlight,
      storm: '',
      ratio: result.ratio.loginsToArgon2Verifies ?? '-',
    },
    { figure: 'login p50 / p99 ms', quiet: '-', storm: p(logins.latency), ratio: '' },
    {
      figure: 'hub event-loop lag p50 / p99 / max ms',
      quiet: `${quiet.eventLoopLag.p50ms} / ${quiet.eventLoopLag.p99ms} / ${quiet.eventLoopLag.maxMs}`,
      storm: `${storm.eventLoopLag.p50ms} / ${storm.eventLoopLag.p99ms} / ${storm.eventLoopLag.maxMs}`,
      ratio: result.ratio.lagP99StormToQuiet ?? '-',
    },
    {
      figure: `feed:subscribe probe ack p50 / p99 ms (${PROBE_RATE}/s)`,
      quiet: p(quiet.probe.ack),
      storm: p(storm.probe.ack),
      ratio: result.ratio.probeP99StormToQuiet ?? '-',
    },
    {
      figure: `negotiate ack p50 / p99 ms (${RATE}/s offered)`,
      quiet: p(quiet.negotiate.ack),
      storm: p(storm.negotiate.ack),
      ratio: result.ratio.negotiateP99StormToQuiet ?? '-',
    },
    {
      figure: 'in the hub: market command mean ms (p99 bucket)',
      quiet: `${quiet.hubSide.commandMs.meanMs} (<= ${quiet.hubSide.commandMs.p99UpToMs})`,
      storm: `${storm.hubSide.commandMs.meanMs} (<= ${storm.hubSide.commandMs.p99UpToMs})`,
      ratio: '',
    },
    {
      figure: 'in the hub: transaction mean ms (p99 bucket)',
      quiet: `${quiet.hubSide.transactionMs.meanMs} (<= ${quiet.hubSide.transactionMs.p99UpToMs})`,
      storm: `${storm.hubSide.transactionMs.meanMs} (<= ${storm.hubSide.transactionMs.p99UpToMs})`,
      ratio: '',
    },
    {
      figure: 'negotiate achieved/s, failed, unserved',
      quiet: `${quiet.negotiate.achievedPerSecond}, ${quiet.negotiate.failed}, ${quiet.negotiate.unserved}`,
      storm: `${storm.negotiate.achievedPerSecond}, ${storm.negotiate.failed}, ${storm.negotiate.unserved}`,
      ratio: '',
    },
    {
      figure: 'negotiate delivery p50 / p99 ms',
      quiet: p(quiet.negotiate.delivery),
      storm: p(storm.negotiate.delivery),
      ratio: '',
    },
    {
      figure: 'cores: hub / swarm / postgres / this process / other',
      quiet: `${quiet.cpu.server} / ${quiet.cpu.swarms} / ${quiet.cpu.postgres} / ${quiet.cpu.bench} / ${quiet.cpu.other}`,
      storm: `${storm.cpu.server} / ${storm.cpu.swarms} / ${storm.cpu.postgres} / ${storm.cpu.bench} / ${storm.cpu.other}`,
      ratio: '',
    },
  ]);
  if (Object.keys(storm.negotiate.errors).length)
    console.log('negotiate errors in the storm:', storm.negotiate.errors);
  if (Object.keys(logins.errors as object).length) console.log('login errors:', logins.errors);
  printTable(Object.entries(result.targets).map(([target, met]) => ({ target, met: met ? 'yes' : 'NO' })));
  console.log(`saved ${await saveResult('login', result)}`);
}
