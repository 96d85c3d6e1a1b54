// negotiate: N traders in pairs run create listing -> propose -> counter -> accept over their
// sockets. Phase A: closed loop (BENCH_CLOSED_LANES negotiations in flight per pair, 4), committed commands/s and ack
// latency of every command. Phase B: commands at a fixed offered rate, ack latency from the
// scheduled send time. Delivery latency: from sending propose/counter/accept to the counterparty
// receiving the matching swap.* event, in this process. Baselines in the same run: the bare relay
// (same clients, closed loop and the same rate, propose only) and pgbench replaying the SQL of a
// propose (bench/sql/propose.sql) at the hub's database concurrency.
// Env: BENCH_CLIENTS (100), BENCH_SECONDS (10), BENCH_RATE (1000; when the hub's closed-loop
// throughput is well below it, phase B also runs at half that throughput), BENCH_WARMUP_SECONDS (2),
// BENCH_LANES (negotiations in flight per pair at the fixed rate, 4), BENCH_PG_CLIENTS (the hub's pool, 10),
// DATABASE_URL (unset: the hub runs PGlite and the pgbench baseline is skipped).
import { type BenchDatabase, freshDatabase, HUB_POOL_MAX } from '../harness.js';
import { machine, printTable, ratio, saveResult } from '../lib.js';
import { runHub } from './negotiate/hub-phases.js';
import { runPgbenchPropose } from './negotiate/pgbench-propose.js';
import { STEPS } from './negotiate/recorder.js';
import { runRelay } from './negotiate/relay-phases.js';
import {
  ACK_TIMEOUT_MS,
  CLIENTS,
  CLOSED_LANES,
  LANES,
  PG_CLIENTS,
  RATE,
  SECONDS,
  WARMUP,
} from './negotiate/settings.js';

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  console.log(
    `negotiate: ${CLIENTS} traders (${CLIENTS / 2} pairs), ${SECONDS} s per phase after ${WARMUP} s warm-up, ` +
      `fixed rate ${RATE}/s over ${LANES} lanes per pair, database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let hubDb: BenchDatabase | undefined;
  let hubFigures: Awaited<ReturnType<typeof runHub>>;
  try {
    if (adminUrl) hubDb = await freshDatabase(adminUrl, 'renex_bench_negotiate');
    hubFigures = await runHub(hubDb?.url);
  } finally {
    await hubDb?.drop();
  }
  const rates = hubFigures.fixedRate.map((f) => f.offeredPerSecond);
  const relay = await runRelay(rates);
  let pgbench: Awaited<ReturnType<typeof runPgbenchPropose>> | undefined;
  if (adminUrl) pgbench = await runPgbenchPropose(adminUrl);
  else console.log('pgbench baseline skipped: DATABASE_URL unset (the hub ran on PGlite)');

  const hubA = hubFigures.closedLoop;
  const result = {
    workload: 'negotiate',
    machine: machine(),
    parameters: {
      clients: CLIENTS,
      pairs: CLIENTS / 2,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      rate: RATE,
      fixedRates: rates,
      lanesPerPairAtFixedRate: LANES,
      lanesPerPairClosedLoop: CLOSED_LANES,
      database: adminUrl ? 'postgres' : 'pglite',
      hubPoolMax: HUB_POOL_MAX,
      pgbenchClients: PG_CLIENTS,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      transport: 'websocket',
    },
    baseline: {
      bareRelay: relay,
      pgbenchPropose: pgbench ?? { skipped: 'DATABASE_URL unset' },
    },
    hub: hubFigures,
    ratio: {
      hubCommandsToPgbenchTps: ratio(hubA.commandsPerSecond, pgbench?.error ? undefined : pgbench?.tps),
      hubCommandsToRelayMsgs: ratio(hubA.commandsPerSecond, relay.closedLoop.commandsPerSecond),
      hubP99AckToRelayP99AckAtFixedRate: hubFigures.fixedRate.map((f, i) =>
        ratio(f.ack.p99ms, relay.fixedRate[i]?.ack.p99ms),
      ),
    },
  };

  const p3 = (s: { p50ms: number; p99ms: number; p999ms: number }) => `${s.p50ms} / ${s.p99ms} / ${s.p999ms}`;
  const p2 = (s: { p50ms: number; p99ms: number }) => `${s.p50ms} / ${s.p99ms}`;
  const rows: Record<string, string | number>[] = [
    {
      figure: `hub commands/s, closed loop (${(CLIENTS / 2) * CLOSED_LANES} in flight)`,
      value: hubA.commandsPerSecond,
    },
    {
      figure: `pgbench propose.sql tps (${PG_CLIENTS} clients)`,
      value: pgbench ? (pgbench.error ? `error: ${pgbench.error}` : Math.round(pgbench.tps)) : 'skipped',
    },
    { figure: 'bare relay msgs/s, closed loop', value: relay.closedLoop.commandsPerSecond },
    { figure: 'ratio hub : pgbench', value: result.ratio.hubCommandsToPgbenchTps ?? '-' },
    { figure: 'ratio hub : bare relay', value: result.ratio.hubCommandsToRelayMsgs ?? '-' },
    { figure: 'hub ack p50 / p99 / p99.9, closed loop (ms)', value: p3(hubA.service) },
    { figure: 'relay ack p50 / p99 / p99.9, closed loop (ms)', value: p3(relay.closedLoop.service) },
    { figure: 'hub delivery p50 / p99, closed loop (ms)', value: p2(hubA.delivery) },
    { figure: 'relay delivery p50 / p99, closed loop (ms)', value: p2(relay.closedLoop.delivery) },
    {
      figure: 'CPU cores, closed loop: hub / postgres / clients / machine',
      value: `${hubA.cpu.server} / ${hubA.cpu.postgres} / ${hubA.cpu.bench} / ${hubA.cpu.machine}`,
    },
  ];
  hubFigures.fixedRate.forEach((f, i) => {
    const r = relay.fixedRate[i]!;
    rows.push(
      {
        figure: `hub ack p50 / p99 / p99.9 at ${f.offeredPerSecond}/s (ms)`,
        value: `${p3(f.ack)}  (achieved ${f.achievedPerSecond}/s, unserved ${f.unserved}, failed ${f.failed})`,
      },
      {
        figure: `relay ack p50 / p99 / p99.9 at ${r.offeredPerSecond}/s (ms)`,
        value: `${p3(r.ack)}  (achieved ${r.achievedPerSecond}/s)`,
      },
      { figure: `hub delivery p50 / p99 at ${f.offeredPerSecond}/s (ms)`, value: p2(f.delivery) },
      { figure: `relay delivery p50 / p99 at ${r.offeredPerSecond}/s (ms)`, value: p2(r.delivery) },
    );
  });
  const lost = hubA.deliveriesLost + hubFigures.fixedRate.reduce((a, f) => a + f.deliveriesLost, 0);
  const failed = hubA.failed + hubFigures.fixedRate.reduce((a, f) => a + f.failed, 0);
  rows.push(
    { figure: 'hub failed commands (all phases)', value: failed },
    { figure: 'hub deliveries lost (all phases)', value: lost },
  );
  printTable(rows);
  printTable(
    STEPS.map((s) => ({
      'hub command (closed loop)': s,
      'p50 ms': hubA.ackByCommand[s].p50ms,
      'p99 ms': hubA.ackByCommand[s].p99ms,
      count: hubA.ackByCommand[s].count,
    })),
  );
  const errs: Record<string, number> = { ...hubA.errors };
  for (const f of hubFigures.fixedRate)
    for (const [k, v] of Object.entries(f.errors)) errs[`at ${f.offeredPerSecond}/s ${k}`] = v;
  if (Object.keys(errs).length) console.log('hub errors:', errs);
  if (!hubFigures.hubAlive) console.log('WARNING: the hub process had exited before the end of the run');
  console.log(`saved ${await saveResult('negotiate', result)}`);
}
