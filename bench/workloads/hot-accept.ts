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
import pg from 'pg';
import type { HubClient, Swap } from '../../src/client/index.js';
import {
  assertLocal,
  type BenchDatabase,
  connectAll,
  countInto,
  dropRedisPrefix,
  envNumber,
  errorCode,
  execSql,
  freshDatabase,
  HUB_POOL_MAX,
  hubEnv,
  listingInput,
  migrateDatabase,
  type PgbenchResult,
  progress,
  registerTraders,
  runPgbench,
  sleep,
  startReadyHub,
  stopAll,
} from '../harness.js';
import { type HubProcess, histogram, machine, printTable, ROOT, ratio, saveResult, summary } from '../lib.js';

const BUYERS = Math.floor(envNumber('BENCH_BUYERS', 200));
const VOLUME_KWH = envNumber('BENCH_VOLUME_KWH', 500);
const PROPOSE_KWH = envNumber('BENCH_PROPOSE_KWH', 3);
const ROUNDS = Math.floor(envNumber('BENCH_ROUNDS', 3));
const SECONDS = envNumber('BENCH_SECONDS', 10);
/** pgbench at the hub's concurrency: the pools of both nodes (with Redis) */
const PG_CLIENTS = Math.floor(
  envNumber(
    'BENCH_PG_CLIENTS',
    process.env.DATABASE_URL && process.env.REDIS_URL ? 2 * HUB_POOL_MAX : HUB_POOL_MAX,
  ),
);
/** open swaps on the hot listing in the second pgbench run: about the average an accept of the burst sees */
const PG_OPEN_SWAPS = 100;
const FINAL_EVENT_TIMEOUT_MS = 10_000;

const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));
/** "12.345" kWh -> 12345 Wh, exactly */
const wh = (kwh: string | number) => {
  const [i, f = ''] = String(kwh).split('.');
  return BigInt(i!) * 1000n + BigInt(f.padEnd(3, '0').slice(0, 3));
};

interface Verdict {
  volumeWh: string;
  availableWh: string;
  status: string;
  acceptedWh: string;
  /** accepted volume - (volume - available): 0 when the books agree */
  oversoldWh: string;
  /** accepted volume beyond the listing's volume */
  overVolumeWh: string;
  swaps: Record<string, number>;
  source: 'postgres' | 'rest (no DATABASE_URL)';
}

async function verifyInDatabase(url: string, listingId: string): Promise<Verdict> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const l = await c.query<{ volume_wh: string; available_wh: string; status: string }>(
      'SELECT volume_wh::text, available_wh::text, status FROM listings WHERE id = $1',
      [listingId],
    );
    const s = await c.query<{ status: string; n: string; wh: string }>(
      `SELECT status, count(*)::text AS n, coalesce(sum(volume_wh), 0)::text AS wh
       FROM swaps WHERE listing_id = $1 GROUP BY status`,
      [listingId],
    );
    const row = l.rows[0]!;
    const acceptedWh = BigInt(s.rows.find((r) => r.status === 'accepted')?.wh ?? '0');
    const volume = BigInt(row.volume_wh);
    const available = BigInt(row.available_wh);
    const over = acceptedWh - volume;
    return {
      volumeWh: row.volume_wh,
      availableWh: row.available_wh,
      status: row.status,
      acceptedWh: acceptedWh.toString(),
      oversoldWh: (acceptedWh - (volume - available)).toString(),
      overVolumeWh: (over > 0n ? over : 0n).toString(),
      swaps: Object.fromEntries(s.rows.map((r) => [r.status, Number(r.n)])),
      source: 'postgres',
    };
  } finally {
    await c.end();
  }
}

/** Without a database to query: the listing over REST and the accepted volume from the acks. */
async function verifyOverRest(owner: HubClient, listingId: string, ackedWh: bigint): Promise<Verdict> {
  const l = await owner.rest<{ volumeKwh: string; availableKwh: string; status: string }>(
    'GET',
    `/api/v1/listings/${listingId}`,
  );
  const volume = wh(l.volumeKwh);
  const available = wh(l.availableKwh);
  const over = ackedWh - volume;
  return {
    volumeWh: volume.toString(),
    availableWh: available.toString(),
    status: l.status,
    acceptedWh: ackedWh.toString(),
    oversoldWh: (ackedWh - (volume - available)).toString(),
    overVolumeWh: (over > 0n ? over : 0n).toString(),
    swaps: {},
    source: 'rest (no DATABASE_URL)',
  };
}

interface FinalWatch {
  t0: number;
  sentAt?: number;
  type?: string;
  at?: number;
}

async function round(
  n: number,
  owner: HubClient,
  buyers: HubClient[],
  watch: Map<string, FinalWatch>,
  dbUrl: string | undefined,
) {
  const line = progress(`round ${n}`);
  const listing = await owner.createListing(listingInput(String(VOLUME_KWH)));

  // every buyer proposes at once (these too queue on the listing's row lock)
  line.update(`${BUYERS} proposals`);
  const proposeErrors: Record<string, number> = {};
  const p0 = performance.now();
  const proposed = await Promise.all(
    buyers.map((b) =>
      b
        .propose({ listingId: listing.id, volumeKwh: String(PROPOSE_KWH), pricePerKwh: '0.1' })
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
  let clients: HubClient[] = [];
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

// --- pgbench: the SQL of one accept on a hot row ------------------------------------------------

const PG_PER_CLIENT = 5000;

async function runPgbenchAccept(adminUrl: string) {
  const line = progress('pgbench accept.sql');
  let db: BenchDatabase | undefined;
  const runs: { openSwaps: number; result: PgbenchResult }[] = [];
  try {
    db = await freshDatabase(adminUrl, 'renex_pgb_hot');
    line.update('migrating and seeding');
    await migrateDatabase(db.url);
    await execSql(
      db.url,
      `INSERT INTO users (id, email, password_hash, display_name) VALUES (md5('s1')::uuid, 's1@pgbench', 'x', 's1');
       INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('b' || i)::uuid, 'b' || i || '@pgbench', 'x', 'b' || i FROM generate_series(1, ${PG_OPEN_SWAPS}) i;
       INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
                             delivery_start, delivery_end, zone, description, status, version, created_at, updated_at)
         VALUES (md5('hot')::uuid, md5('s1')::uuid, 'supply', 'solar', 1000000000000000, 1000000000000000, 1000, 'EUR',
                 now() + interval '1 day', now() + interval '25 hours', 'BENCH', '', 'active', 1, now(), now());
       INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round, next_actor_id,
                          volume_wh, price_e4, expires_at, created_at, updated_at)
         SELECT md5('t' || i)::uuid, md5('hot')::uuid, md5('b' || (1 + i % ${PG_OPEN_SWAPS}))::uuid, md5('s1')::uuid,
                md5('b' || (1 + i % ${PG_OPEN_SWAPS}))::uuid, md5('s1')::uuid, 'rejected', 1, NULL, 3000, 1000,
                now() + interval '10 minutes', now(), now()
         FROM generate_series(1, ${PG_CLIENTS * PG_PER_CLIENT}) i;
       ANALYZE;`,
    );
    const once = async (openSwaps: number) => {
      line.update(`${SECONDS} s, ${PG_CLIENTS} clients, ${openSwaps} open swaps on the listing`);
      const r = await runPgbench({
        url: db!.url,
        script: path.join(ROOT, 'bench/sql/accept.sql'),
        clients: PG_CLIENTS,
        threads: Math.min(2, PG_CLIENTS),
        seconds: SECONDS,
        defines: { k: 0, perclient: PG_PER_CLIENT },
      });
      runs.push({ openSwaps, result: r });
      return r;
    };
    const lean = await once(0);
    // the burst's accepts also lock the listing's open swaps (to void those that no longer fit)
    await execSql(
      db.url,
      `INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round, next_actor_id,
                          volume_wh, price_e4, expires_at, created_at, updated_at)
         SELECT gen_random_uuid(), md5('hot')::uuid, md5('b' || i)::uuid, md5('s1')::uuid, md5('b' || i)::uuid,
                md5('s1')::uuid, 'open', 1, md5('s1')::uuid, 3000, 1000, now() + interval '1 hour', now(), now()
         FROM generate_series(1, ${PG_OPEN_SWAPS}) i;
       ANALYZE swaps;`,
    );
    const withOpen = await once(PG_OPEN_SWAPS);
    line.done(
      [lean, withOpen].map((r) => (r.error ? `error: ${r.error}` : `${Math.round(r.tps)} tps`)).join(', '),
    );
    return { database: db.name, runs };
  } finally {
    await db?.drop();
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
