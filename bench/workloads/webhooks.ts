// webhooks (issue 21's benchmark): "100 webhook endpoints receiving the events of a negotiate run:
// delivery p50/p99 from commit to receipt, and the negotiate figures with and without webhooks in
// the same run (the second within 10 % of the first)". negotiate's figures are its closed-loop
// commands/s and its ack latency at a fixed offered rate: negotiate's warm-up, phase A (closed loop)
// and phase B (BENCH_WEBHOOKS_RATE commands/s offered, 250 by default; negotiate/hub-phases.ts) run
// twice, each on a fresh database and a fresh hub node: (1) without webhooks, (2) with
// BENCH_WEBHOOKS of the traders each registering one webhook (all event types) to a local receiver.
// Phase B's rate is a fixed number, not a share of the first run's closed loop: both runs and
// successive runs get the same offered load, and the comparison at it (the same achieved rate, ack
// p99 with <= 1.1 x without) does not move with the closed loop's noise; 250/s is about half the
// closed loop without webhooks on the 2-core box (negotiate's own latency rate is that half) and
// below the closed loop with them. In the run with webhooks phase B starts once the receiver has
// every event of phase A, so that its deliveries queue behind none of A's.
// The receiver (webhooks/receiver.ts) is a child process of its own with one http server, answering
// 200 at once and checking the signature of one delivery in 50, so that receiving takes neither
// the bench client's event loop nor its CPU (its own CPU is reported per phase). After the load
// stops the run waits (BENCH_WEBHOOK_DRAIN_SECONDS) until every event the database addressed to
// those traders has arrived, then reports missing ones and duplicates. Delivery latency: from the
// envelope's `at` (the event's commit time, the hub's clock, in ms) to the receipt (the receiver's
// epoch clock), HDR histogram, for all events and per phase; the same machine's clock on both
// sides. Both runs set WEBHOOK_ALLOW_PRIVATE (loopback http URLs). Database transactions per phase
// (pg_stat_database) of both runs show what the dispatcher adds per delivery. Needs DATABASE_URL.
// Env: negotiate's (BENCH_CLIENTS, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CLOSED_LANES,
// BENCH_LANES), BENCH_WEBHOOKS_RATE (250), BENCH_WEBHOOKS (100), BENCH_WEBHOOK_DRAIN_SECONDS (60);
// BENCH_HUB_NOTIFY_CONCURRENCY etc. reach the hub (bench/harness/hub.ts). Diagnostics:
// BENCH_HUB_NODE_OPTIONS="--import=./bench/profiler.mjs" (CPU profile per hub node; the result's
// profileClock gives each phase on the profile's clock, for bench/profile-summary.ts's window) and
// "--import=./bench/workloads/webhooks/count-sql.mjs" (statements by kind, the dispatcher's by name).
import {
  type CpuSplit,
  cpuMeter,
  cpuSeconds,
  envNumber,
  freshDatabase,
  HUB_POOL_MAX,
  stopAll,
} from '../harness.js';
import { machine, printTable, ratio, saveResult } from '../lib.js';
import { type NegotiateHooks, runHub } from './negotiate/hub-phases.js';
import { NEGOTIATE_DEFAULTS, type NegotiateSettings } from './negotiate/settings.js';
import {
  type BenchHook,
  catchUp,
  commits,
  drainAndCompare,
  type ReceiverProcess,
  registerWebhooks,
  startReceiver,
  undelivered,
} from './webhooks/receivers.js';

/** phase B's offered rate, the same in both runs */
const RATE = Math.max(1, Math.floor(envNumber('BENCH_WEBHOOKS_RATE', 250)));
const SETTINGS: NegotiateSettings = { ...NEGOTIATE_DEFAULTS, rates: () => [RATE] };
const WEBHOOKS = Math.min(SETTINGS.clients, Math.floor(envNumber('BENCH_WEBHOOKS', 100)));
const DRAIN_MS = envNumber('BENCH_WEBHOOK_DRAIN_SECONDS', 60) * 1000;
/** closed loop: commands/s with webhooks >= this x without */
const TARGET_RATIO = 0.9;
/** at the fixed rate: ack p99 with webhooks <= this x without, at the same achieved rate */
const TARGET_P99_RATIO = 1.1;
/** "the same achieved rate": with >= this x without */
const SAME_RATE = 0.99;
const HUB_ENV = { WEBHOOK_ALLOW_PRIVATE: 'true' };
const MEASURED = ['A', 'B'] as const;
type Measured = (typeof MEASURED)[number];

type Deliveries = Awaited<ReturnType<typeof drainAndCompare<Measured>>> & {
  /** attempts that did not deliver, by status and error */
  undelivered?: Awaited<ReturnType<typeof undelivered>>;
};

/** CLOCK_MONOTONIC in microseconds: the clock of the hub's CPU profile (bench/profiler.mjs). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

interface PhaseMarks {
  /** epoch ms */
  from: number;
  to: number;
  /** monotonic us, to cut a hub profile to the phase */
  fromUs: number;
  toUs: number;
  commits: number;
  receiverCpu: number;
  meter?: () => Promise<CpuSplit>;
  cpu?: CpuSplit;
}

/** One negotiate run on a fresh database; with a receiver, its webhooks and their deliveries. */
async function negotiateRun(adminUrl: string, name: string, receiver?: ReceiverProcess) {
  const db = await freshDatabase(adminUrl, 'renex_bench_webhooks');
  try {
    const marks = Object.fromEntries(
      MEASURED.map((p) => [p, { from: 0, to: 0, fromUs: 0, toUs: 0, commits: 0, receiverCpu: 0 }]),
    ) as Record<Measured, PhaseMarks>;
    let hooks: BenchHook[] = [];
    let serverPids: number[] = [];
    let deliveries: Deliveries | undefined;
    let backlogAfterA: { waitedMs: number; missing: number } | undefined;
    const receiverCpu = async () => (receiver ? await cpuSeconds(receiver.pid) : 0);
    const h: NegotiateHooks = {
      prepare: async (clients, pids) => {
        serverPids = pids;
        if (receiver) hooks = await registerWebhooks(clients, WEBHOOKS, receiver, db.url);
      },
      onPhase: async (phase, edge) => {
        if (phase === 'warm-up') return;
        const m = marks[phase];
        if (edge === 'start') {
          // phase B starts once the webhooks have caught up with phase A, so that its deliveries
          // queue behind none of A's
          if (phase === 'B' && receiver) {
            const c = await catchUp(db.url, hooks, receiver, DRAIN_MS, 'webhooks catching up with phase A');
            backlogAfterA = { waitedMs: c.waitedMs, missing: c.expected.size - c.unique };
          }
          Object.assign(m, { commits: await commits(adminUrl, db.name), receiverCpu: await receiverCpu() });
          if (phase === 'B') m.meter = await cpuMeter(serverPids, []);
          Object.assign(m, { from: Date.now(), fromUs: monotonicUs() });
        } else {
          Object.assign(m, { to: Date.now(), toUs: monotonicUs() });
          if (m.meter) m.cpu = await m.meter();
          m.commits = (await commits(adminUrl, db.name)) - m.commits;
          m.receiverCpu = (await receiverCpu()) - m.receiverCpu;
        }
      },
      finish: async () => {
        if (receiver)
          deliveries = await drainAndCompare(
            db.url,
            hooks,
            receiver,
            marks.B.to || marks.A.to,
            { A: marks.A, B: marks.B },
            DRAIN_MS,
          );
        if (deliveries) deliveries.undelivered = await undelivered(db.url);
      },
    };
    const figures = await runHub(db.url, { settings: SETTINGS, name, env: HUB_ENV, hooks: h });
    const a = figures.closedLoop;
    const b = figures.fixedRate[0]!;
    const seconds = (p: Measured) => (marks[p].to - marks[p].from) / 1000;
    const phaseB = { ...b, cpu: marks.B.cpu };
    const receiverCores = (p: Measured) =>
      receiver ? Number((marks[p].receiverCpu / seconds(p)).toFixed(2)) : null;
    return {
      closedLoop: a,
      fixedRate: phaseB,
      hubAlive: figures.hubAlive,
      database: {
        commitsPhaseA: marks.A.commits,
        commitsPerCommand: ratio(marks.A.commits, a.committed),
        commitsPhaseB: marks.B.commits,
        commitsPerCommandPhaseB: ratio(marks.B.commits, b.committed),
      },
      receiverCores: { A: receiverCores('A'), B: receiverCores('B') },
      webhooks: receiver ? hooks.length : 0,
      backlogAfterA,
      deliveries,
      /** to cut the hub's CPU profile (bench/profiler.mjs) to a phase: CLOCK_MONOTONIC us, as its startTime */
      profileClock: {
        hubPids: serverPids,
        A: { fromUs: marks.A.fromUs, toUs: marks.A.toUs },
        B: { fromUs: marks.B.fromUs, toUs: marks.B.toUs },
      },
    };
  } finally {
    await db.drop();
  }
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    console.log('webhooks: skipped (needs DATABASE_URL: the deliveries are checked against the event log)');
    return;
  }
  console.log(
    `webhooks: negotiate closed loop (${SETTINGS.seconds} s after ${SETTINGS.warmup} s warm-up) and ${RATE} commands/s ` +
      `offered (${SETTINGS.seconds} s), ${SETTINGS.clients} traders, run without webhooks and then with ` +
      `${WEBHOOKS} (one per trader) on fresh databases`,
  );
  const without = await negotiateRun(adminUrl, 'without webhooks');
  const receiver = await startReceiver();
  let withHooks: Awaited<ReturnType<typeof negotiateRun>>;
  try {
    withHooks = await negotiateRun(adminUrl, 'with webhooks', receiver);
  } finally {
    await stopAll([receiver]);
  }
  const w0 = without.closedLoop;
  const w1 = withHooks.closedLoop;
  const f0 = without.fixedRate;
  const f1 = withHooks.fixedRate;
  const d = withHooks.deliveries!;
  const throughputRatio = ratio(w1.commandsPerSecond, w0.commandsPerSecond);
  const achievedRatio = ratio(f1.achievedPerSecond, f0.achievedPerSecond);
  const fixedP99Ratio = ratio(f1.ack.p99ms, f0.ack.p99ms);
  // what the dispatcher committed on top of the commands, per first receipt during phase A
  const extraCommits =
    withHooks.database.commitsPhaseA - w1.committed * (without.database.commitsPerCommand ?? 0);
  // the same at the fixed rate, where rounds are small (pg_stat_database counts read-only
  // transactions too, and is flushed about once a second: approximate)
  const extraCommitsB =
    withHooks.database.commitsPhaseB - f1.committed * (without.database.commitsPerCommandPhaseB ?? 0);
  const missed: string[] = [];
  if (throughputRatio === null || throughputRatio < TARGET_RATIO)
    missed.push(
      `closed loop: commands/s with webhooks ${throughputRatio} x without (target >= ${TARGET_RATIO})`,
    );
  if (achievedRatio === null || achievedRatio < SAME_RATE || f0.achievedPerSecond < RATE * SAME_RATE)
    missed.push(
      `at ${RATE}/s offered: achieved ${f0.achievedPerSecond}/s without, ${f1.achievedPerSecond}/s with (not both the offered rate)`,
    );
  if (fixedP99Ratio === null || fixedP99Ratio > TARGET_P99_RATIO)
    missed.push(
      `at ${RATE}/s offered: ack p99 with webhooks ${fixedP99Ratio} x without (target <= ${TARGET_P99_RATIO})`,
    );
  if (d.missing > 0) missed.push(`${d.missing} of ${d.addressed} addressed events never received`);

  const result = {
    workload: 'webhooks',
    machine: machine(),
    parameters: {
      clients: SETTINGS.clients,
      pairs: SETTINGS.clients / 2,
      seconds: SETTINGS.seconds,
      warmupSeconds: SETTINGS.warmup,
      lanesPerPairClosedLoop: SETTINGS.closedLanes,
      fixedRatePerSecond: RATE,
      lanesPerPairAtFixedRate: SETTINGS.lanes,
      webhooks: WEBHOOKS,
      webhookEvents: 'all (the default)',
      drainTimeoutSeconds: DRAIN_MS / 1000,
      database: 'postgres',
      hubPoolMax: HUB_POOL_MAX,
      hubNotifyConcurrency: process.env.BENCH_HUB_NOTIFY_CONCURRENCY ?? 'hub default (256)',
      hubEnv: HUB_ENV,
      receiver: 'child process, one node:http server, 200 at once, signature checked on 1 in 50',
      latency: "from the envelope's at (commit, the hub's clock, ms) to receipt (receiver's epoch clock)",
      order:
        'without webhooks first, then with; each on a fresh database and hub node: warm-up, phase A ' +
        '(closed loop), phase B (fixed rate; with webhooks it starts once the webhooks have caught up with A)',
      transport: 'websocket',
    },
    negotiate: {
      closedLoop: {
        without: w0,
        with: w1,
        ratio: {
          commandsPerSecond: throughputRatio,
          ackP50: ratio(w1.service.p50ms, w0.service.p50ms),
          ackP99: ratio(w1.service.p99ms, w0.service.p99ms),
        },
      },
      fixedRate: {
        without: f0,
        with: f1,
        ratio: {
          achievedPerSecond: achievedRatio,
          ackP50: ratio(f1.ack.p50ms, f0.ack.p50ms),
          ackP99: fixedP99Ratio,
          deliveryP99: ratio(f1.delivery.p99ms, f0.delivery.p99ms),
        },
      },
    },
    webhooks: d,
    backlogAfterPhaseA: withHooks.backlogAfterA,
    database: {
      without: without.database,
      with: withHooks.database,
      extraCommitsPhaseA: Math.round(extraCommits),
      extraCommitsPerDelivery: ratio(extraCommits, d.latencyByPhase.A.count),
      extraCommitsPhaseB: Math.round(extraCommitsB),
      extraCommitsPerDeliveryPhaseB: ratio(extraCommitsB, d.latencyByPhase.B.count),
    },
    receiverCores: withHooks.receiverCores,
    profileClock: { without: without.profileClock, with: withHooks.profileClock },
    target:
      `closed loop: commands/s with webhooks >= ${TARGET_RATIO} x without; at ${RATE}/s offered: the same ` +
      `achieved rate and ack p99 with webhooks <= ${TARGET_P99_RATIO} x without; every addressed event received`,
    targetMet: missed.length === 0,
    missed,
    hubAlive: without.hubAlive && withHooks.hubAlive,
  };

  const p2 = (s: { p50ms: number; p99ms: number }) => `${s.p50ms} / ${s.p99ms}`;
  const cpu = (c: CpuSplit | undefined) =>
    c ? `${c.server} / ${c.postgres} / ${c.bench} / ${c.other} / ${c.machine}` : '-';
  const rc = withHooks.receiverCores;
  printTable([
    {
      figure: 'closed loop: negotiate commands/s',
      without: w0.commandsPerSecond,
      with: w1.commandsPerSecond,
    },
    { figure: 'closed loop: ack p50 / p99 (ms)', without: p2(w0.service), with: p2(w1.service) },
    {
      figure: 'closed loop: socket delivery p50 / p99 (ms)',
      without: p2(w0.delivery),
      with: p2(w1.delivery),
    },
    {
      figure: 'closed loop: CPU cores hub / postgres / bench / other / machine',
      without: cpu(w0.cpu),
      with: `${cpu(w1.cpu)} (receiver ${rc.A})`,
    },
    {
      figure: `${RATE}/s offered: achieved commands/s`,
      without: `${f0.achievedPerSecond} (unserved ${f0.unserved})`,
      with: `${f1.achievedPerSecond} (unserved ${f1.unserved})`,
    },
    { figure: `${RATE}/s offered: ack p50 / p99 (ms)`, without: p2(f0.ack), with: p2(f1.ack) },
    {
      figure: `${RATE}/s offered: socket delivery p50 / p99 (ms)`,
      without: p2(f0.delivery),
      with: p2(f1.delivery),
    },
    {
      figure: `${RATE}/s offered: CPU cores hub / postgres / bench / other / machine`,
      without: cpu(f0.cpu),
      with: `${cpu(f1.cpu)} (receiver ${rc.B})`,
    },
    {
      figure: 'failed commands A / B',
      without: `${w0.failed} / ${f0.failed}`,
      with: `${w1.failed} / ${f1.failed}`,
    },
    {
      figure: 'database commits per command A / B',
      without: `${without.database.commitsPerCommand} / ${without.database.commitsPerCommandPhaseB}`,
      with: `${withHooks.database.commitsPerCommand} / ${withHooks.database.commitsPerCommandPhaseB}`,
    },
  ]);
  const lat = (s: { p50ms: number; p99ms: number; maxMs: number; count: number }) =>
    `${s.p50ms} / ${s.p99ms} / ${s.maxMs} (${s.count})`;
  printTable([
    {
      figure: 'closed loop: commands/s with : without',
      value: `${throughputRatio} (target >= ${TARGET_RATIO})`,
    },
    {
      figure: `${RATE}/s offered: achieved with : without; ack p99 with : without`,
      value: `${achievedRatio}; ${fixedP99Ratio} (target <= ${TARGET_P99_RATIO})`,
    },
    { figure: 'webhooks / events addressed to them', value: `${WEBHOOKS} / ${d.addressed}` },
    {
      figure: 'delivered (unique) / received / missing',
      value: `${d.delivered} / ${d.received} / ${d.missing}`,
    },
    {
      figure: 'duplicates / unexpected / malformed',
      value: `${d.duplicates} / ${d.unexpected} / ${d.malformed}`,
    },
    {
      figure: 'attempts not delivered (status: error)',
      value: d.undelivered?.map((u) => `${u.n} ${u.status}: ${u.error}`).join('; ') || 'none',
    },
    { figure: 'webhook latency, commit to receipt, p50 / p99 / max (ms), all', value: lat(d.latencyAll) },
    { figure: 'the same for events committed in phase A (closed loop)', value: lat(d.latencyByPhase.A) },
    { figure: `the same for events committed in phase B (${RATE}/s)`, value: lat(d.latencyByPhase.B) },
    {
      figure: 'catching up with phase A before B (ms)',
      value: withHooks.backlogAfterA?.waitedMs ?? '-',
    },
    { figure: 'hooks with a delivery later than 1 s', value: d.hooksWithDeliveriesOver1s },
    { figure: 'hooks that got nothing until the load stopped', value: d.hooksFirstServedAfterLoad },
    { figure: 'last receipt after the load stopped (ms)', value: d.lastReceiptAfterLoadMs ?? '-' },
    {
      figure: 'signatures checked / failed',
      value: `${d.signatureSample.checked} / ${d.signatureSample.failed}`,
    },
    {
      figure: 'extra database commits per delivery, phase A / B',
      value: `${result.database.extraCommitsPerDelivery ?? '-'} / ${result.database.extraCommitsPerDeliveryPhaseB ?? '-'}`,
    },
  ]);
  for (const m of missed) console.log(`TARGET MISSED: ${m}`);
  if (!result.hubAlive) console.log('WARNING: a hub process had exited before the end of its run');
  console.log(`saved ${await saveResult('webhooks', result)}`);
}
