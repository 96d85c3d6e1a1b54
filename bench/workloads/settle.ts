// settle: a day of 15-minute slots for 1,000 meters and 10,000 trades (about 25,000 trade slots in
// 96 zone-slots), settled by the hub's own Sweeper (dueUnits in batches, settleUnit per unit in its
// own transaction) over a CommandRunner on the hub's SqlPool, in this process. The data is seeded
// with SQL into a fresh migrated database, a day ending 4 hours ago (past every deadline: a missing
// reading counts 0). Figures: wall time, units and trade slots settled, trade slots/s, and the
// database's time two ways: each statement timed from send to answer by the node (the pool), and
// pg_stat_database's active_time (the server's time executing the database's statements, read
// after the sessions ended). Then the same data on a second database settled by 2 nodes (two
// Sweepers on two runners and pools) at once: each unit settled once, and the speed-up. Checked in
// SQL after each run (settle/verify.ts). Needs DATABASE_URL.
// Env: BENCH_SETTLE_METERS (1000), BENCH_SETTLE_TRADES (10000), BENCH_SETTLE_NODES (2; 1 skips the
// second run), BENCH_HUB_DATABASE_POOL_MAX (each node's pool, 10).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadMarketProfile } from '../../src/domain/energy/market-config.js';
import type { MarketProfile } from '../../src/domain/energy/zones.js';
import { envNumber, freshDatabase, HUB_POOL_MAX, migrateDatabase, progress, sleep } from '../harness.js';
import { machine, printTable, saveResult } from '../lib.js';
import { nodeFigures, settleNode } from './settle/nodes.js';
import { type SeedParameters, SLOT_MINUTES, seed, ZONE } from './settle/seed.js';
import { claimsPlan, databaseCounters, delta, expected, verify } from './settle/verify.js';

const METERS = Math.floor(envNumber('BENCH_SETTLE_METERS', 1000));
const TRADES = Math.floor(envNumber('BENCH_SETTLE_TRADES', 10_000));
const NODES = Math.floor(envNumber('BENCH_SETTLE_NODES', 2));
const SLOTS = (24 * 60) / SLOT_MINUTES;
const SLOT_MS = SLOT_MINUTES * 60_000;

async function settleRun(adminUrl: string, nodes: number, params: SeedParameters, profile: MarketProfile) {
  const db = await freshDatabase(adminUrl, 'renex_bench_settle');
  try {
    const line = progress(`settle, ${nodes} node${nodes > 1 ? 's' : ''}`);
    line.update('migrating');
    await migrateDatabase(db.url);
    line.update(`seeding ${METERS} meters, ${TRADES} trades`);
    let t = performance.now();
    await seed(db.url, params);
    const seedMs = Math.round(performance.now() - t);
    const work = await expected(db.url);
    const plan =
      nodes === 1 ? await claimsPlan(db.url, new Date(params.dayStart.getTime() + 48 * SLOT_MS)) : [];
    await sleep(500); // the seeding sessions' counters are flushed as they end
    const before = await databaseCounters(adminUrl, db.name);

    const settlers = Array.from({ length: nodes }, (_, i) =>
      settleNode(String.fromCharCode(65 + i), db.url, HUB_POOL_MAX, profile),
    );
    line.update(`settling ${work.units} units, ${work.trade_slots} trade slots`);
    const cpu = process.cpuUsage();
    t = performance.now();
    const passes = await Promise.all(settlers.map((n) => n.sweepUntilDone()));
    const wallMs = performance.now() - t;
    const cpuUsed = process.cpuUsage(cpu);
    const perNode = settlers.map(nodeFigures);
    await Promise.all(settlers.map((n) => n.close()));
    await sleep(1000); // the nodes' sessions end and flush their counters
    const database = delta(before, await databaseCounters(adminUrl, db.name));
    const checks = await verify(db.url);
    line.done(`${Math.round(wallMs)} ms`);

    const statementMs = perNode.reduce((s, n) => s + n.statementMs, 0);
    const settledOutcomes = perNode.reduce((s, n) => s + n.outcomes.settled, 0);
    return {
      nodes,
      database: db.name,
      seedMs,
      expected: work,
      wallMs: Math.round(wallMs),
      sweepPasses: passes,
      unitsSettled: checks.units_settled!,
      settledOutcomes,
      tradeSlotsSettled: checks.trade_slots_settled!,
      tradeSlotsPerSecond: Math.round((checks.trade_slots_settled! * 1000) / wallMs),
      unitsPerSecond: Number(((checks.units_settled! * 1000) / wallMs).toFixed(1)),
      nodeCpuMs: Math.round((cpuUsed.user + cpuUsed.system) / 1000),
      // the database's time: summed over statements as the nodes saw them (send to answer, includes
      // the socket), and as the server counted it (pg_stat_database.active_time, this database only)
      databaseTime: {
        statementRoundTripsMs: statementMs,
        statements: perNode.reduce((s, n) => s + n.statements, 0),
        serverActiveMs: database.active_time_ms!,
        method:
          'statementRoundTripsMs: each statement of the nodes timed from send to answer in the SqlPool; serverActiveMs: pg_stat_database.active_time delta for the database, read after the sessions ended',
      },
      pgStatDatabase: database,
      perNode,
      checks,
      claimsPlan: plan,
    };
  } finally {
    await db.drop();
  }
}

function failures(run: Awaited<ReturnType<typeof settleRun>>): string[] {
  const out = Object.entries(run.checks)
    .filter(([k, v]) => k.startsWith('bad_') && v !== 0)
    .map(([k, v]) => `${k}=${v}`);
  const c = run.checks;
  const e = run.expected;
  if (c.trade_slots_settled !== e.trade_slots)
    out.push(`settled ${c.trade_slots_settled} of ${e.trade_slots} trade slots`);
  if (c.trade_slots_in_unit_totals !== e.trade_slots)
    out.push(`unit totals count ${c.trade_slots_in_unit_totals} trade slots`);
  if (c.units_settled !== e.units || run.settledOutcomes !== e.units)
    out.push(`units: ${c.units_settled} rows, ${run.settledOutcomes} settled outcomes, ${e.units} expected`);
  // one trade.settled a trade and party, once every slot of the trade is settled
  if (c.settled_events !== 2 * e.trades!)
    out.push(`trade.settled events ${c.settled_events}, expected ${2 * e.trades!}`);
  if (c.readings_written_missing !== e.readings_missing)
    out.push(`missing readings written ${c.readings_written_missing}, expected ${e.readings_missing}`);
  for (const n of run.perNode)
    if (n.outcomes.failed) out.push(`node ${n.node}: ${n.outcomes.failed} failed transactions`);
  return out;
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    console.log('settle: skipped (needs DATABASE_URL: it seeds and settles a day on real PostgreSQL)');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-settle-'));
  try {
    const marketFile = path.join(dir, 'market.json');
    await writeFile(marketFile, JSON.stringify({ zones: [{ id: ZONE, slotMinutes: SLOT_MINUTES }] }));
    const profile = await loadMarketProfile(marketFile);
    const delayMinutes = profile.zone(ZONE)!.settlement.delayMinutes;
    // the day ends 4 hours ago, on the slot grid: every slot is past its end + delay
    const endMs = Math.floor((Date.now() - 4 * 3_600_000) / SLOT_MS) * SLOT_MS;
    const params: SeedParameters = {
      meters: METERS,
      trades: TRADES,
      dayStart: new Date(endMs - SLOTS * SLOT_MS),
      slots: SLOTS,
    };
    const runs: Awaited<ReturnType<typeof settleRun>>[] = [];
    for (const nodes of NODES > 1 ? [1, NODES] : [1]) {
      const r = await settleRun(adminUrl, nodes, params, profile);
      runs.push(r);
      const bad = failures(r);
      if (bad.length) console.error(`settle, ${nodes} node(s): CHECKS FAILED: ${bad.join('; ')}`);
    }
    const [single, multi] = runs;
    const result = {
      workload: 'settle',
      machine: machine(),
      parameters: {
        meters: METERS,
        trades: TRADES,
        zone: ZONE,
        slotMinutes: SLOT_MINUTES,
        slots: SLOTS,
        day: { from: params.dayStart.toISOString(), to: new Date(endMs).toISOString() },
        settlementDelayMinutes: delayMinutes,
        poolMaxPerNode: HUB_POOL_MAX,
        database: 'postgres',
        readings:
          'every meter and slot; by meter: 60 % at 100-105 % of contracted, 35 % at 80-100 %, 5 % with half their readings missing and the rest at 90 %',
      },
      runs,
      speedup: multi ? Number((single!.wallMs / multi.wallMs).toFixed(2)) : null,
      checksPassed: runs.every((r) => failures(r).length === 0),
    };
    const rows: Record<string, string | number>[] = [];
    for (const r of runs) {
      const n = `${r.nodes} node${r.nodes > 1 ? 's' : ''}`;
      rows.push(
        { figure: `${n}: wall time (ms)`, value: r.wallMs },
        { figure: `${n}: units (zone-slots) settled`, value: r.unitsSettled },
        { figure: `${n}: trade slots settled`, value: r.tradeSlotsSettled },
        { figure: `${n}: trade slots/s`, value: r.tradeSlotsPerSecond },
        {
          figure: `${n}: unit transaction p50 / p99 / max (ms)`,
          value: r.perNode
            .map(
              (p) =>
                `${p.settledUnitTransaction.p50ms} / ${p.settledUnitTransaction.p99ms} / ${p.settledUnitTransaction.maxMs}`,
            )
            .join(' | '),
        },
        {
          figure: `${n}: statements, round trips summed (ms)`,
          value: `${r.databaseTime.statements}, ${r.databaseTime.statementRoundTripsMs}`,
        },
        { figure: `${n}: server active_time (ms)`, value: r.databaseTime.serverActiveMs },
        { figure: `${n}: this process's CPU (ms)`, value: r.nodeCpuMs },
        {
          figure: `${n}: settled per node`,
          value: r.perNode
            .map((p) => `${p.node} ${p.outcomes.settled} (passed ${p.outcomes.passed})`)
            .join(', '),
        },
        {
          figure: `${n}: checks`,
          value: failures(r).length ? `FAILED: ${failures(r).join('; ')}` : 'all passed',
        },
      );
    }
    if (result.speedup !== null) rows.push({ figure: `speed-up ${NODES} nodes : 1`, value: result.speedup });
    rows.push({
      figure: 'settled kWh / contracted kWh (%)',
      value: single!.checks.settled_percent_of_contracted!,
    });
    printTable(rows);
    console.log(`saved ${await saveResult('settle', result)}`);
    if (!result.checksPassed) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
