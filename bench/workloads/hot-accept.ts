// hot-accept: one listing of V kWh; B buyers each propose P kWh (B x P > V); then the owner fires
// all B accepts at once. Figures: accepts/s from the first send to the last ack, and the oversold
// volume read from the database (accepted volume - (volume - available); must be 0, and the
// accepted volume must not exceed V). With DATABASE_URL and REDIS_URL two hub nodes share the
// database and Redis; buyers are spread over both, the owner is on node 1. Baseline in the same
// run: pgbench replaying the hub's accept transaction on one hot row (bench/sql/accept.sql).
// Env: BENCH_BUYERS (200), BENCH_VOLUME_KWH (500), BENCH_PROPOSE_KWH (3), BENCH_ROUNDS (3),
// BENCH_SECONDS (pgbench duration, 10), BENCH_PG_CLIENTS (the hub nodes' pools, 20), DATABASE_URL, REDIS_URL.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Swap } from '../../src/client/index.js';
import {
  assertLocal,
  type BenchDatabase,
  type BenchTrader,
  connectAll,
  countInto,
  dropRedisPrefix,
  errorCode,
  freshDatabase,
  HUB_POOL_MAX,
  hubEnv,
  listingInput,
  type PgbenchResult,
  progress,
  registerTraders,
  sleep,
  startReadyHub,
  stopAll,
} from '../harness.js';
import { type HubProcess, histogram, machine, printTable, ratio, saveResult, summary } from '../lib.js';
import { runPgbenchAccept } from './hot-accept/pgbench-accept.js';
import {
  BUYERS,
  FINAL_EVENT_TIMEOUT_MS,
  PG_CLIENTS,
  PG_OPEN_SWAPS,
  PROPOSE_KWH,
  ROUNDS,
  SECONDS,
  us,
  VOLUME_KWH,
} from './hot-accept/settings.js';
import { verifyInDatabase, verifyOverRest, wh } from './hot-accept/verdict.js';

interface FinalWatch {
  t0: number;
  sentAt?: number;
  type?: string;
  at?: number;
}

async function round(
  n: number,
  owner: BenchTrader,
  buyers: BenchTrader[],
  watch: Map<string, FinalWatch>,
  dbUrl: string | undefined,
) {
  const line = progress(`round ${n}`);
  const listing = await owner.createListing(listingInput(String(VOLUME_KWH), owner.meterId));

  // every buyer proposes at once (these too queue on the listing's row lock)
  line.update(`${BUYERS} proposals`);
  const proposeErrors: Record<string, number> = {};
  const p0 = performance.now();
  const proposed = await Promise.all(
    buyers.map((b) =>
      b
        .propose({
          listingId: listing.id,
          meterId: b.meterId,
          volumeKwh: String(PROPOSE_KWH),
          pricePerKwh: '0.1',
        })
        .catch((err) => {
          countInto(proposeErrors, errorCode(err));
          return undefined;
        }),
    ),
  );
  const proposeSeconds = (performance.now() - p0) / 1000;
  const swaps = proposed.filter((s): s is Swap => s !== undefined);
  await sleep(500); // let the proposal events settle before the burst

  // the burst: every accept sent at once by the owner
  line.update(`${swaps.length} accepts at once`);
  const ack = histogram();
  const errors: Record<string, number> = {};
  let ackedWh = 0n;
  let ok = 0;
  let lastAck = 0;
  const t0 = performance.now();
  for (const s of swaps) watch.set(s.id, { t0 });
  await Promise.all(
    swaps.map(async (s) => {
      const sentAt = performance.now();
      watch.get(s.id)!.sentAt = sentAt;
      try {
        const done = await owner.accept(s.id, s.round);
        ok++;
        ackedWh += wh(done.volumeKwh);
      } catch (err) {
        countInto(errors, errorCode(err));
      } finally {
        lastAck = performance.now();
        ack.recordValue(us(lastAck - sentAt));
      }
    }),
  );
  const burstSeconds = (lastAck - t0) / 1000;

  // every buyer must learn the outcome of its swap (accepted or voided), on whichever node it is
  line.update('waiting for the outcome events');
  const end = performance.now() + FINAL_EVENT_TIMEOUT_MS;
  const pending = () => swaps.filter((s) => watch.get(s.id)?.at === undefined).length;
  while (pending() > 0 && performance.now() < end) await sleep(20);
  const outcome = histogram();
  const outcomeTypes: Record<string, number> = {};
  for (const s of swaps) {
    const w = watch.get(s.id)!;
    if (w.at !== undefined) {
      outcome.recordValue(us(w.at - w.t0));
      countInto(outcomeTypes, w.type!);
    }
    watch.delete(s.id);
  }
  const verdict = dbUrl
    ? await verifyInDatabase(dbUrl, listing.id)
    : await verifyOverRest(owner, listing.id, ackedWh);
  const result = {
    listingId: listing.id,
    proposals: swaps.length,
    proposeErrors,
    proposesPerSecond: Math.round(swaps.length / proposeSeconds),
    accepts: swaps.length,
    accepted: ok,
    errors,
    burstSeconds,
    acceptsAnsweredPerSecond: Math.round(swaps.length / burstSeconds),
    acceptsCommittedPerSecond: Math.round(ok / burstSeconds),
    ackedWh: ackedWh.toString(),
    ack: summary(ack),
    outcomeEvents: {
      received: outcome.totalCount,
      of: swaps.length,
      types: outcomeTypes,
      ...summary(outcome),
    },
    verdict,
    ackedMatchesDatabase: verdict.acceptedWh === ackedWh.toString(),
  };
  line.done(
    `${ok}/${swaps.length} accepted in ${(burstSeconds * 1000).toFixed(0)} ms, ` +
      `${result.acceptsCommittedPerSecond} accepts/s, oversold ${verdict.oversoldWh} Wh`,
  );
  return result;
}

async function runHub(dbUrl: string | undefined, redisUrl: string | undefined) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-hot-'));
  const nodes: HubProcess[] = [];
  let clients: BenchTrader[] = [];
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  try {
    const env = hubEnv({
      DATABASE_URL: dbUrl,
      DATA_DIR: dataDir,
      ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } : {}),
    });
    const line = progress('starting hub');
    nodes.push(await startReadyHub(env));
    if (redisUrl) nodes.push(await startReadyHub(env));
    line.done(`${nodes.length} node(s): ${nodes.map((h) => h.url).join(', ')}`);
    const urls = nodes.map((h) => h.url);
    // registerTraders puts trader i on urls[i % n]: the owner (0) on node 1, the buyers alternate
    clients = await registerTraders(urls, BUYERS + 1, 'hot');
    const [owner, ...buyers] = clients;
    await connectAll(clients);
    const watch = new Map<string, FinalWatch>();
    for (const b of buyers) {
      b.onEvent((e) => {
        if (e.type !== 'swap.accepted' && e.type !== 'swap.voided') return;
        const w = watch.get((e.data as { id: string }).id);
        if (w && w.at === undefined) {
          w.at = performance.now();
          w.type = e.type;
        }
      });
    }
    const rounds = [];
    for (let i = 1; i <= ROUNDS; i++) rounds.push(await round(i, owner!, buyers, watch, dbUrl));
    return {
      nodes: nodes.length,
      buyersPerNode: urls.map((_, k) => buyers.filter((_, i) => (i + 1) % urls.length === k).length),
      rounds,
      hubAlive: nodes.every((h) => h.child.exitCode === null),
    };
  } finally {
    for (const c of clients) c.close();
    await stopAll(nodes);
    await rm(dataDir, { recursive: true, force: true });
    if (redisUrl) await dropRedisPrefix(redisUrl, prefix).catch(() => 0);
  }
}

// --- the run ------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  if (redisUrl) assertLocal(redisUrl, 'REDIS_URL');
  const twoNodes = Boolean(adminUrl && redisUrl);
  if (redisUrl && !adminUrl)
    console.log('REDIS_URL ignored: two nodes need a shared PostgreSQL (DATABASE_URL)');
  console.log(
    `hot-accept: ${BUYERS} buyers x ${PROPOSE_KWH} kWh on one listing of ${VOLUME_KWH} kWh, ${ROUNDS} round(s), ` +
      `${twoNodes ? '2 nodes (Redis)' : '1 node'}, database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let hubDb: BenchDatabase | undefined;
  let hub: Awaited<ReturnType<typeof runHub>>;
  try {
    if (adminUrl) hubDb = await freshDatabase(adminUrl, 'renex_bench_hot');
    hub = await runHub(hubDb?.url, twoNodes ? redisUrl : undefined);
  } finally {
    await hubDb?.drop();
  }
  let pgbench: Awaited<ReturnType<typeof runPgbenchAccept>> | undefined;
  if (adminUrl) pgbench = await runPgbenchAccept(adminUrl);
  else console.log('pgbench baseline skipped: DATABASE_URL unset (the hub ran on PGlite)');

  const totalOk = hub.rounds.reduce((a, r) => a + r.accepted, 0);
  const totalSeconds = hub.rounds.reduce((a, r) => a + r.burstSeconds, 0);
  const acceptsPerSecond = Math.round(totalOk / totalSeconds);
  const leanTps = pgbench?.runs[0]?.result.tps;
  const openTps = pgbench?.runs[1]?.result.tps;
  const oversold = hub.rounds.map((r) => BigInt(r.verdict.oversoldWh));
  const overVolume = hub.rounds.map((r) => BigInt(r.verdict.overVolumeWh));
  const result = {
    workload: 'hot-accept',
    machine: machine(),
    parameters: {
      buyers: BUYERS,
      volumeKwh: VOLUME_KWH,
      proposeKwh: PROPOSE_KWH,
      rounds: ROUNDS,
      nodes: hub.nodes,
      database: adminUrl ? 'postgres' : 'pglite',
      hubPoolMaxPerNode: HUB_POOL_MAX,
      pgbenchClients: PG_CLIENTS,
      pgbenchSeconds: SECONDS,
    },
    baseline: { pgbenchAccept: pgbench ?? { skipped: 'DATABASE_URL unset' } },
    hub,
    acceptsCommittedPerSecond: acceptsPerSecond,
    oversoldWh: oversold.reduce((a, b) => a + b, 0n).toString(),
    ratio: {
      hubAcceptsToPgbenchTps: ratio(acceptsPerSecond, leanTps),
      hubAcceptsToPgbenchTpsWithOpenSwaps: ratio(acceptsPerSecond, openTps),
    },
  };

  printTable(
    hub.rounds.map((r, i) => ({
      round: i + 1,
      accepted: `${r.accepted}/${r.accepts}`,
      'burst ms': Math.round(r.burstSeconds * 1000),
      'accepts/s': r.acceptsCommittedPerSecond,
      'answers/s': r.acceptsAnsweredPerSecond,
      'ack p50/p99 ms': `${r.ack.p50ms} / ${r.ack.p99ms}`,
      'proposes/s': r.proposesPerSecond,
      'accepted kWh': Number(r.verdict.acceptedWh) / 1000,
      'oversold kWh': Number(r.verdict.oversoldWh) / 1000,
      'outcome events': `${r.outcomeEvents.received}/${r.outcomeEvents.of}, p99 ${r.outcomeEvents.p99ms} ms`,
    })),
  );
  const tpsText = (r: PgbenchResult | undefined) =>
    r ? (r.error ? `error: ${r.error}` : Math.round(r.tps)) : 'skipped';
  printTable([
    { figure: `hub accepts/s committed (${hub.nodes} node(s), ${ROUNDS} bursts)`, value: acceptsPerSecond },
    {
      figure: `pgbench accept.sql tps, one hot row (${PG_CLIENTS} clients)`,
      value: tpsText(pgbench?.runs[0]?.result),
    },
    {
      figure: `pgbench accept.sql tps, + ${PG_OPEN_SWAPS} open swaps locked`,
      value: tpsText(pgbench?.runs[1]?.result),
    },
    { figure: 'ratio hub : pgbench', value: result.ratio.hubAcceptsToPgbenchTps ?? '-' },
    {
      figure: 'ratio hub : pgbench (open swaps)',
      value: result.ratio.hubAcceptsToPgbenchTpsWithOpenSwaps ?? '-',
    },
    { figure: 'oversold kWh (must be 0)', value: Number(result.oversoldWh) / 1000 },
    {
      figure: `accepted kWh <= ${VOLUME_KWH} in every round`,
      value: overVolume.every((o) => o === 0n) ? 'yes' : 'NO',
    },
    {
      figure: 'acked volume = database accepted volume',
      value: hub.rounds.every((r) => r.ackedMatchesDatabase) ? 'yes' : 'NO',
    },
  ]);
  const errs: Record<string, number> = {};
  for (const r of hub.rounds) for (const [k, v] of Object.entries(r.errors)) errs[k] = (errs[k] ?? 0) + v;
  console.log('accept answers other than ok:', errs);
  if (!hub.hubAlive) console.log('WARNING: a hub process had exited before the end of the run');
  if (oversold.some((o) => o !== 0n) || overVolume.some((o) => o !== 0n))
    console.log('OVERSOLD: see the rounds above');
  console.log(`saved ${await saveResult('hot-accept', result)}`);
}
