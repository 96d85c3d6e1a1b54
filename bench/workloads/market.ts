// market: the market data routes on a market of 1,000,000 trades (issue 20's target: "with
// 1,000,000 trades in the database, summary and a day of 15-minute candles answer in under 50 ms at
// p99"). A fresh migrated database is seeded with SQL (market/seed.ts: 90 days of the tape ending
// now, its 15-minute rollup as migration 0008 builds it, a few thousand active listings), a real hub
// node is started on it, one trader registers, and each query is asked over HTTP, one at a time:
// 20 warm-up requests, then N timed ones (client-side, send to parsed answer). Then the plans of the
// SQL behind the candles, the tape page, the summary and a listing's matches under EXPLAIN
// (ANALYZE, BUFFERS) (market/explain.ts; docs/market-queries.md). The matches (GET
// /api/v1/listings/:id/matches, no target) are those of the DE-North solar listing with the most
// listings of the other side over its delivery hour (market/seed.ts, matchListing). Needs DATABASE_URL.
// Env: BENCH_MARKET_TRADES (1000000), BENCH_MARKET_LISTINGS (20000), BENCH_MARKET_REQUESTS (500).
import type { HubClient } from '../../src/client/index.js';
import { ENERGY_TYPES } from '../../src/domain/listing.js';
import {
  envNumber,
  freshDatabase,
  hubEnv,
  migrateDatabase,
  progress,
  queryRows,
  registerTraders,
  startReadyHub,
  stopAll,
} from '../harness.js';
import { histogram, machine, printTable, saveResult, summary } from '../lib.js';
import {
  candleCase,
  explainAll,
  matchesCase,
  type PlanCase,
  plansMarkdown,
  summaryCase,
  tapeCase,
} from './market/explain.js';
import { type MarketSeed, matchListing, seed, ZONES } from './market/seed.js';

const TRADES = Math.floor(envNumber('BENCH_MARKET_TRADES', 1_000_000));
const LISTINGS = Math.floor(envNumber('BENCH_MARKET_LISTINGS', 20_000));
const REQUESTS = Math.floor(envNumber('BENCH_MARKET_REQUESTS', 500));
const WARMUP = 20;
const DAYS = 90;
/** the target, for the summary and a day of 15-minute candles */
const TARGET_P99_MS = 50;
const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;
/** the matches route's default `limit` (per zone) */
const MATCH_LIMIT = 20;

interface Query {
  key: string;
  name: string;
  path: string;
  /** held to the target */
  target: boolean;
  /** how many items an answer holds (checked: a query answering nothing measures nothing) */
  items(body: unknown): number;
}

const itemsOf = (b: unknown) => ((b as { items?: unknown[] }).items ?? []).length;

/** The queries, their windows taken from `now`; `matchOf`: the listing whose matches are asked. */
function queries(now: Date, matchOf: string): Query[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const market = 'zone=DE-North&energyType=solar';
  const candles = (interval: string, from: number, to: number) =>
    `/api/v1/market/candles?${market}&interval=${interval}&from=${iso(from)}&to=${iso(to)}`;
  return [
    {
      key: 'a',
      name: 'candles 15m, last full day',
      path: candles('15m', today - DAY_MS, today),
      target: true,
      items: itemsOf,
    },
    {
      key: 'b1',
      name: 'candles 1h, 7 days',
      path: candles('1h', hour - 7 * DAY_MS, hour),
      target: false,
      items: itemsOf,
    },
    {
      key: 'b2',
      name: 'candles 1d, 90 days',
      path: candles('1d', today - (DAYS - 1) * DAY_MS, today + DAY_MS),
      target: false,
      items: itemsOf,
    },
    {
      key: 'c',
      name: 'tape, first page',
      path: `/api/v1/market/trades?${market}`,
      target: false,
      items: itemsOf,
    },
    { key: 'd1', name: 'summary, all markets', path: '/api/v1/market/summary', target: true, items: itemsOf },
    {
      key: 'd2',
      name: 'summary, one market',
      path: `/api/v1/market/summary?${market}`,
      target: true,
      items: itemsOf,
    },
    {
      key: 'e',
      name: 'matches of a listing',
      path: `/api/v1/listings/${matchOf}/matches?limit=${MATCH_LIMIT}`,
      target: false,
      items: itemsOf,
    },
  ];
}

/** `WARMUP` requests, then `REQUESTS` timed ones, one at a time. */
async function measure(trader: HubClient, q: Query) {
  const line = progress(`${q.key} ${q.name}`);
  const h = histogram();
  let items = 0;
  try {
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      const t = performance.now();
      const body = await trader.rest<unknown>('GET', q.path);
      const us = Math.max(1, Math.round((performance.now() - t) * 1000));
      items = q.items(body);
      if (i >= WARMUP) h.recordValue(us);
      if (i % 50 === 0) line.update(`${i}/${WARMUP + REQUESTS}`);
    }
  } finally {
    line.done(`p99 ${summary(h).p99ms} ms`);
  }
  const s = summary(h);
  return {
    key: q.key,
    query: q.name,
    path: q.path,
    items,
    ...s,
    target: q.target ? `p99 < ${TARGET_P99_MS} ms` : null,
    met: q.target ? s.p99ms < TARGET_P99_MS : null,
  };
}

/** The plans of the candle, tape, summary and matches statements. */
function planCases(now: Date, matchOf: string): PlanCase[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const hour = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const m = { zone: 'DE-North', energyType: 'solar' };
  const cases: PlanCase[] = [
    candleCase('a', 'Candles 15m, last full day', {
      ...m,
      minutes: 15,
      from: new Date(today - DAY_MS),
      to: new Date(today),
    }),
    candleCase('b1', 'Candles 1h, 7 days', {
      ...m,
      minutes: 60,
      from: new Date(hour - 7 * DAY_MS),
      to: new Date(hour),
    }),
    candleCase('b2', 'Candles 1d, 90 days', {
      ...m,
      minutes: 1440,
      from: new Date(today - (DAYS - 1) * DAY_MS),
      to: new Date(today + DAY_MS),
    }),
    tapeCase('c', 'Tape, first page of one market', { ...m, limit: 50 }),
    // one energy type in every zone: the least traded one (5 % of the tape)
    tapeCase('c2', 'Tape, first page of one energy type in every zone', {
      energyType: 'geothermal',
      limit: 50,
    }),
  ];
  // the route's markets (the built-in zones x the energy types) and window (the 15-minute bucket
  // of 24 hours ago onwards), as src/http/market-routes.ts builds them
  const since = new Date(Math.floor((now.getTime() - DAY_MS) / QUARTER_MS) * QUARTER_MS);
  const all = ZONES.flatMap((zone) => ENERGY_TYPES.map((energyType) => ({ zone, energyType })));
  cases.push(
    summaryCase('d1', 'Summary, all markets', all, since),
    summaryCase('d2', 'Summary, one market', [m], since),
    matchesCase('e', 'Matches of a listing', matchOf, now, MATCH_LIMIT),
  );
  return cases;
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    console.log('market: skipped (needs DATABASE_URL: it seeds 1,000,000 trades on real PostgreSQL)');
    return;
  }
  const db = await freshDatabase(adminUrl, 'renex_bench_market');
  let hub: Awaited<ReturnType<typeof startReadyHub>> | undefined;
  try {
    const line = progress('market');
    line.update('migrating');
    await migrateDatabase(db.url);
    const params: MarketSeed = { trades: TRADES, listings: LISTINGS, days: DAYS };
    line.update(`seeding ${TRADES} trades, their candles, ${LISTINGS} listings`);
    let t = performance.now();
    await seed(db.url, params);
    const seedMs = Math.round(performance.now() - t);
    line.done(`seeded in ${seedMs} ms`);
    const sizes = await tableFacts(db.url);
    const match = await matchListing(db.url);

    hub = await startReadyHub(hubEnv({ DATABASE_URL: db.url }));
    const [trader] = await registerTraders([hub.url], 1, 'market', { meters: false });
    if (!trader) throw new Error('no trader registered');
    const now = new Date();
    const measured = [];
    for (const q of queries(now, match.id)) measured.push(await measure(trader, q));
    await stopAll([hub]);
    hub = undefined;

    const plansLine = progress('explaining');
    t = performance.now();
    const plans = await explainAll(db.url, planCases(now, match.id));
    plansLine.done(`${plans.length} plans in ${Math.round(performance.now() - t)} ms`);

    const missed = measured
      .filter((m) => m.met === false)
      .map((m) => `${m.key} ${m.query}: p99 ${m.p99ms} ms`);
    const result = {
      workload: 'market',
      machine: machine(),
      parameters: {
        trades: TRADES,
        days: DAYS,
        zones: ZONES,
        listingsActive: LISTINGS,
        requestsPerQuery: REQUESTS,
        warmupPerQuery: WARMUP,
        sequential: true,
        database: 'postgres',
        timing: 'client-side: HubClient.rest, from send to parsed JSON answer, one request at a time',
        shards: 'market_candles shard = |hashtext(tape id)| % 8',
        matches: {
          listing: match.id,
          side: match.side,
          zone: 'DE-North',
          energyType: 'solar',
          otherSideListingsOverItsHour: match.candidates,
          limitPerZone: MATCH_LIMIT,
        },
      },
      seedMs,
      tables: sizes,
      queries: measured,
      target: `p99 < ${TARGET_P99_MS} ms for the summary and a day of 15-minute candles`,
      targetMet: missed.length === 0,
      missed,
      plans,
    };
    printTable(
      measured.map((m) => ({
        query: `${m.key} ${m.query}`,
        items: m.items,
        'p50 ms': m.p50ms,
        'p99 ms': m.p99ms,
        'max ms': m.maxMs,
        target: m.target ? (m.met ? 'met' : 'MISSED') : '',
      })),
    );
    printTable(
      plans.map((p) => ({
        plan: `${p.key} ${p.title}`,
        'execution median ms': p.executionMs.median,
        'max ms': p.executionMs.max,
      })),
    );
    for (const m of missed) console.log(`TARGET MISSED: ${m}`);
    if (process.env.BENCH_MARKET_PRINT_PLANS !== 'false') console.log(`\n${plansMarkdown(plans)}`);
    console.log(`saved ${await saveResult('market', result)}`);
  } finally {
    await stopAll([hub]);
    await db.drop();
  }
}

/** The seeded tables' rows and sizes (the planner's view after ANALYZE). */
function tableFacts(url: string) {
  return queryRows<{ name: string; rows: string; size: string }>(
    url,
    `SELECT c.relname AS name, c.reltuples::bigint::text AS rows, pg_size_pretty(pg_relation_size(c.oid)) AS size
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname IN ('market_trades', 'market_candles', 'listings',
       'market_trades_market_idx', 'market_trades_at_idx', 'market_candles_pkey', 'listings_price_idx')
     ORDER BY c.relname`,
  );
}
