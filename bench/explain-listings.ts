// explain-listings: the query plans of the market listing queries (GET /api/v1/listings) on a
// realistic market. Creates a throwaway database, migrates it, fills it with ~200,000 listings,
// builds each dashboard query through findListings itself (the SQL and bind parameters are
// captured from Sequelize's logging hook) and prints EXPLAIN ANALYZE of it as markdown.
// Usage: npx tsx bench/explain-listings.ts   (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
// To try candidate indexes without touching the migrations, pass SQL to run after the seed:
//   EXPLAIN_EXTRA_SQL="CREATE INDEX ON listings (price_e4) WHERE status = 'active'" npx tsx bench/explain-listings.ts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { QueryTypes, Sequelize } from 'sequelize';
// The one deep import of bench/, kept on purpose: this script prints the plans of the exact SQL
// the hub's query builder emits for each filter, captured from Sequelize's logging hook; SQL
// written here would show the plans of a copy. Removing it means driving GET /api/v1/listings on a
// hub process and capturing the statements on the wire (a PostgreSQL protocol proxy): not done yet.
import { findListings, type ListingFilter } from '../src/store/reads/listing-queries.js';
import { migrateDatabase } from './harness/database.js';

/** every listing status (PROTOCOL.md: active | filled | cancelled | expired) */
const LISTING_STATUSES = ['active', 'filled', 'cancelled', 'expired'] as const;
type Listing = Awaited<ReturnType<typeof findListings>>['items'][number];

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const USERS = 500;
const LISTINGS = 200_000;
const ZONES = 50;
/** EXPLAIN ANALYZE runs per query; the plan of the last run is printed, times of all are summarised */
const RUNS = 5;
const EXPLAIN = 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON)';
/** optional SQL run after the seed (e.g. candidate indexes), followed by ANALYZE */
const EXTRA_SQL = process.env.EXPLAIN_EXTRA_SQL;

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** One statement as findListings sent it. */
type Captured = { sql: string; bind: unknown[] };

/** What the Sequelize logging hook saw while capturing: 'Executing (conn): <sql>' and the options. */
let capturing = false;
let captured: Captured[] = [];

function captureQuery(msg: string, options?: unknown): void {
  if (!capturing) return;
  const sql = msg.replace(/^Executing \([^)]*\): /, '');
  const bind = (options as { bind?: unknown } | undefined)?.bind;
  captured.push({ sql, bind: Array.isArray(bind) ? [...bind] : [] });
}

async function main(): Promise<void> {
  const dbName = `renex_explain_${randomBytes(4).toString('hex')}`;
  const url = new URL(BASE_URL);
  url.pathname = `/${dbName}`;

  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  log(`creating database ${dbName}`);
  await admin.query(`CREATE DATABASE ${dbName}`);

  let sequelize: Sequelize | undefined;
  try {
    sequelize = new Sequelize(url.toString(), {
      dialect: 'postgres',
      logging: captureQuery,
      pool: { max: 1, min: 0 },
    });
    await migrateDatabase(url.toString());
    await seed(url.toString());
    await explainAll(sequelize, dbName);
  } finally {
    await sequelize?.close();
    log(`dropping database ${dbName}`);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * A market as the hub would have it after 90 days: listings appended in created_at order
 * (millisecond timestamps, as the hub writes them from JS Dates), most of them done. A listing is
 * active only while its delivery lies ahead, so the active ~10% are the recent ones.
 */
async function seed(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    log(`inserting ${USERS} users and ${LISTINGS} listings`);
    const t = performance.now();
    await c.query(`
      SELECT setseed(0.4242);
      CREATE TEMP TABLE t0 AS SELECT date_trunc('minute', now()) AS now;

      INSERT INTO users (id, email, password_hash, display_name, created_at)
      SELECT md5('user-' || u)::uuid, 'trader' || u || '@example.test', 'x', 'Trader ' || u,
             (SELECT now FROM t0) - interval '120 days'
      FROM generate_series(1, ${USERS}) u;

      INSERT INTO listings (id, owner_id, owner_name, side, energy_type, volume_wh, available_wh, price_e4, currency,
                            delivery_start, delivery_end, zone, description, status, version,
                            created_at, updated_at, slot_minutes, gate_closes_at)
      WITH r AS (
        SELECT i, random() AS age, random() AS r_owner, random() AS r_side, random() AS r_type,
               random() AS r_zone, random() AS r_vol, random() AS r_avail, random() AS r_price,
               random() AS r_lead, random() AS r_len, random() AS r_status
        FROM generate_series(1, ${LISTINGS}) i
      ), b AS (
        SELECT r.*,
          date_trunc('milliseconds', (SELECT now FROM t0) - age * interval '90 days') AS created_at,
          -- energy mix: solar 35%, wind 30%, hydro 12%, biomass 10%, other 8%, geothermal 5%
          CASE WHEN r_type < 0.35 THEN 'solar' WHEN r_type < 0.65 THEN 'wind'
               WHEN r_type < 0.77 THEN 'hydro' WHEN r_type < 0.87 THEN 'biomass'
               WHEN r_type < 0.95 THEN 'other' ELSE 'geothermal' END AS energy_type,
          -- 1 kWh .. 5 MWh, log-uniform, whole kWh
          (1000 * round(exp(r_vol * ln(5000))))::bigint AS volume_wh
        FROM r
      ), d AS (
        SELECT b.*,
          -- delivery starts on the hour, 1 hour to 21 days after posting, and lasts 1..24 hours
          date_trunc('hour', created_at) + (1 + floor(r_lead * 21 * 24)) * interval '1 hour' AS delivery_start,
          (1 + floor(r_len * 24)) * interval '1 hour' AS delivery_len
        FROM b
      ), s AS (
        SELECT d.*,
          CASE WHEN delivery_start > (SELECT now FROM t0)
               THEN CASE WHEN r_status < 0.85 THEN 'active' WHEN r_status < 0.95 THEN 'filled'
                         ELSE 'cancelled' END
               ELSE CASE WHEN r_status < 0.50 THEN 'filled' WHEN r_status < 0.70 THEN 'cancelled'
                         ELSE 'expired' END
          END AS status
        FROM d
      )
      SELECT md5('listing-' || i)::uuid,
             -- a few busy traders, a long tail of occasional ones
             md5('user-' || (1 + floor(power(r_owner, 2) * ${USERS}))::int)::uuid,
             'Trader ' || (1 + floor(power(r_owner, 2) * ${USERS}))::int,
             CASE WHEN r_side < 0.6 THEN 'supply' ELSE 'demand' END,
             energy_type,
             volume_wh,
             CASE WHEN status = 'filled' THEN 0
                  WHEN r_avail < 0.7 THEN volume_wh                     -- untouched
                  ELSE greatest(1000, (volume_wh * r_avail)::bigint / 1000 * 1000) END,  -- partly traded
             -- 0.0400 .. 0.4000 per kWh, dearer for the dispatchable sources
             (400 + floor(r_price * 3600)
                  * CASE WHEN energy_type IN ('hydro', 'biomass', 'geothermal') THEN 1.0 ELSE 0.8 END)::bigint,
             'EUR',
             delivery_start,
             delivery_start + delivery_len,
             'Z' || lpad((1 + floor(power(r_zone, 1.5) * ${ZONES}))::int::text, 2, '0'),
             '',
             status,
             CASE WHEN status = 'active' AND r_avail >= 0.7 THEN 2 ELSE 1 END,
             created_at,
             created_at + CASE WHEN status = 'active' THEN interval '0' ELSE r_status * interval '2 days' END,
             -- hourly slots, trading closing an hour before delivery (the default zone's)
             60,
             delivery_start - interval '1 hour'
      FROM s
      ORDER BY created_at;
    `);
    log(`  inserted in ${Math.round(performance.now() - t)} ms; VACUUM ANALYZE`);
    await c.query('VACUUM ANALYZE');
    if (EXTRA_SQL) {
      log(`running EXPLAIN_EXTRA_SQL: ${EXTRA_SQL}`);
      await c.query(EXTRA_SQL);
      await c.query('ANALYZE listings');
    }
  } finally {
    await c.end();
  }
}

interface Case {
  key: string;
  title: string;
  filter: ListingFilter;
}

async function explainAll(sequelize: Sequelize, dbName: string): Promise<void> {
  const q = <T extends object>(sql: string, bind: unknown[] = []) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, logging: false });

  const [now] = await q<{ now: Date }>(`SELECT date_trunc('minute', now()) AS now`);
  const t0 = now!.now;
  // "me": a trader with an ordinary number of listings (the median one)
  const [me] = await q<{ owner_id: string; n: string }>(`
    SELECT owner_id, n FROM (SELECT owner_id, count(*) AS n FROM listings GROUP BY owner_id) c
    ORDER BY n, owner_id OFFSET (SELECT count(DISTINCT owner_id) / 2 FROM listings) LIMIT 1`);
  // zones: a busy one, and one with a median number of listings
  const zones = await q<{ zone: string; n: string }>(
    `SELECT zone, count(*) AS n FROM listings WHERE status = 'active' GROUP BY zone ORDER BY n DESC, zone`,
  );
  const busyZone = zones[0]!.zone;
  const midZone = zones[Math.floor(zones.length / 2)]!.zone;
  const quietZone = zones[zones.length - 1]!.zone;

  // the first page, to take the cursor of page 2 from, exactly as the HTTP route does
  const firstPage = await findListings(sequelize, { statuses: ['active'], limit: 20 });
  const last = firstPage.items[firstPage.items.length - 1] as Listing;

  const hours = (h: number) => new Date(t0.getTime() + h * 3_600_000);
  const cases: Case[] = [
    { key: 'a', title: 'Default market page', filter: { statuses: ['active'], limit: 20 } },
    {
      key: 'b',
      title: 'Page 2 (keyset cursor)',
      filter: { statuses: ['active'], limit: 20, after: { createdAt: last.createdAt, id: last.id } },
    },
    {
      key: 'c',
      title: 'One energy type',
      filter: { statuses: ['active'], energyTypes: ['hydro'], limit: 20 },
    },
    {
      key: 'd',
      title: 'Several energy types',
      filter: { statuses: ['active'], energyTypes: ['hydro', 'biomass', 'geothermal'], limit: 20 },
    },
    { key: 'e', title: 'One zone', filter: { statuses: ['active'], zones: [midZone], limit: 20 } },
    {
      key: 'f',
      title: 'Energy type + zone + side',
      filter: { statuses: ['active'], energyTypes: ['wind'], zones: [busyZone], side: 'demand', limit: 20 },
    },
    {
      key: 'g',
      title: 'My listings (owner = me, all statuses)',
      filter: { statuses: [...LISTING_STATUSES], ownerId: me!.owner_id, limit: 20 },
    },
    {
      key: 'h',
      title: 'Price range + minimum volume',
      filter: {
        statuses: ['active'],
        minPriceE4: 1000n,
        maxPriceE4: 1500n,
        minAvailableWh: 500_000n,
        limit: 20,
      },
    },
    {
      key: 'i',
      title: 'Delivery window overlap',
      filter: { statuses: ['active'], deliveryFrom: hours(48), deliveryTo: hours(54), limit: 20 },
    },
    // stress cases: filters that match few rows, so a LIMIT no longer stops the scan early
    {
      key: 'j',
      title: 'Stress: narrow price band + large volume (few matches in the whole market)',
      filter: {
        statuses: ['active'],
        minPriceE4: 3500n,
        maxPriceE4: 3600n,
        minAvailableWh: 2_000_000n,
        limit: 20,
      },
    },
    {
      key: 'k',
      title: 'Stress: price band + volume within one zone (few matches)',
      filter: {
        statuses: ['active'],
        zones: [midZone],
        minPriceE4: 3500n,
        maxPriceE4: 3600n,
        minAvailableWh: 2_000_000n,
        limit: 20,
      },
    },
    {
      key: 'l',
      title: 'Stress: delivery window 20 days ahead (few listings deliver that late)',
      filter: {
        statuses: ['active'],
        deliveryFrom: hours(20 * 24),
        deliveryTo: hours(20 * 24 + 6),
        limit: 20,
      },
    },
    {
      key: 'm',
      title: 'Stress: delivery in the next 3 hours',
      filter: { statuses: ['active'], deliveryFrom: t0, deliveryTo: hours(3), limit: 20 },
    },
    {
      key: 'n',
      title: 'Stress: rare type + quiet zone + side',
      filter: {
        statuses: ['active'],
        energyTypes: ['geothermal'],
        zones: [quietZone],
        side: 'demand',
        limit: 20,
      },
    },
    {
      key: 'o',
      title: 'Stress: several zones + several types',
      filter: {
        statuses: ['active'],
        energyTypes: ['hydro', 'geothermal'],
        zones: zones.slice(-5).map((z) => z.zone),
        limit: 20,
      },
    },
    {
      key: 'p',
      title: 'Stress: market history, one closed status + one type',
      filter: { statuses: ['filled'], energyTypes: ['geothermal'], zones: [quietZone], limit: 20 },
    },
    {
      key: 'q',
      title: 'Market history, several closed statuses (one statement each, merged)',
      filter: { statuses: ['filled', 'cancelled', 'expired'], limit: 20 },
    },
  ];

  // the market as the planner sees it
  const counts = await q<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM listings GROUP BY status ORDER BY status',
  );
  const sizes = await q<{ name: string; size: string }>(`
    SELECT c.relname AS name, pg_size_pretty(pg_relation_size(c.oid)) AS size
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND (c.relname = 'listings' OR c.oid IN
      (SELECT indexrelid FROM pg_index WHERE indrelid = 'listings'::regclass))
    ORDER BY c.relname`);
  const indexes = await q<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE tablename = 'listings' ORDER BY indexname`,
  );
  const [version] = await q<{ v: string }>(`SELECT current_setting('server_version') AS v`);

  const out: string[] = [];
  out.push('# Listing query plans', '');
  out.push(
    `PostgreSQL ${version!.v}, database \`${dbName}\` (dropped afterwards), generated ${new Date().toISOString()}.`,
    '',
  );
  out.push(
    `Listings by status: ${counts.map((c) => `${c.status} ${c.n}`).join(', ')}; ${USERS} users, ${zones.length} zones with active listings.`,
  );
  out.push(
    `"me" = ${me!.owner_id} (${me!.n} listings); busy zone ${busyZone} (${zones[0]!.n} active), median zone ${midZone} (${zones[Math.floor(zones.length / 2)]!.n} active), quietest zone ${quietZone} (${zones[zones.length - 1]!.n} active); now = ${t0.toISOString()}.`,
    '',
  );
  out.push('Sizes:', '', ...sizes.map((s) => `- ${s.name}: ${s.size}`), '');
  out.push('Indexes:', '', ...indexes.map((i) => `- \`${i.indexdef}\``), '');
  if (EXTRA_SQL) out.push(`Extra SQL run after the seed (not in the migrations): \`${EXTRA_SQL}\``, '');

  for (const c of cases) {
    log(`explaining (${c.key}) ${c.title}`);
    // run the real query once through findListings, with the logging hook capturing its statements
    captured = [];
    capturing = true;
    let page: { items: Listing[]; more: boolean };
    try {
      page = await findListings(sequelize, c.filter);
    } finally {
      capturing = false;
    }
    if (captured.length === 0) throw new Error(`findListings sent no statement for (${c.key})`);

    out.push(`## (${c.key}) ${c.title}`, '');
    out.push(`Rows returned: ${page.items.length}, more: ${page.more}; statements: ${captured.length}`, '');
    for (const statement of captured) {
      let plan: string[] = [];
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const rows = await q<{ 'QUERY PLAN': string }>(`${EXPLAIN} ${statement.sql}`, statement.bind);
        plan = rows.map((r) => r['QUERY PLAN']);
        const exec = plan.find((l) => l.startsWith('Execution Time'));
        times.push(Number(exec?.match(/([\d.]+) ms/)?.[1] ?? Number.NaN));
      }
      times.sort((x, y) => x - y);
      out.push('```sql', oneLine(statement.sql), '```', '');
      out.push(`Bind: \`${JSON.stringify(statement.bind.map(showValue))}\``, '');
      out.push('```text', ...plan, '```', '');
      out.push(
        `Execution time over ${RUNS} runs: min ${times[0]} ms, median ${times[Math.floor(RUNS / 2)]} ms, max ${times[RUNS - 1]} ms`,
        '',
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function oneLine(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}

function showValue(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : v;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
