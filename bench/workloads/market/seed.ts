// The market workload's data, written with SQL alone (generate_series) into a migrated database:
// 90 days of the public tape ending now over the 3 built-in zones and the 6 energy types, its
// 15-minute rollup filled in one INSERT ... SELECT grouped as migration 0008's backfill groups it
// (the shard spread by a hash of the tape id, as the accepts spread it by listing), and a few
// thousand active listings of both sides for the summary's best prices. Same shape on every run
// (setseed); the tape ids are random UUIDs, as the hub's are.
import { execSql, queryRows } from '../../harness.js';

/** the hub's built-in zones (PROTOCOL-MARKET.md), busiest first */
export const ZONES = ['DE-North', 'DE-South', 'NL'] as const;

export interface MarketSeed {
  trades: number;
  listings: number;
  days: number;
}

/**
 * The seed as one script. Shapes:
 * - trades: `at` uniform over the last `days` days (millisecond times, as the hub writes them),
 *   inserted in time order; zones 40 / 35 / 25 %; energy types solar 35, wind 30, hydro 12,
 *   biomass 10, other 8, geothermal 5 %; 0.0400 to 0.4000 per kWh (price_e4 400..4000); 1 to 500
 *   whole kWh; delivery on the hour, 1 to 24 hours after the trade, 1 to 4 hours long;
 * - candles: migration 0008's backfill, with shard = |hashtext(id)| % 8 instead of 0;
 * - listings: 100 traders with a meter each, `listings` active listings (60 % supply) in the three
 *   zones, delivery 2 to 48 hours ahead, gate an hour before.
 */
export function seedSql({ trades, listings, days }: MarketSeed): string {
  // ids from a key, shaped as version-4 UUIDs (the routes' `:id` takes RFC 9562 UUIDs only)
  const uuid = (key: string) => `overlay(overlay(md5(${key}) placing '4' from 13) placing '8' from 17)::uuid`;
  const pick = (r: string, items: readonly string[], cuts: number[]) =>
    `CASE ${cuts.map((c, i) => `WHEN ${r} < ${c} THEN '${items[i]}'`).join(' ')} ELSE '${items.at(-1)}' END`;
  const zone = (r: string) => pick(r, ZONES, [0.4, 0.75]);
  const type = (r: string) =>
    pick(r, ['solar', 'wind', 'hydro', 'biomass', 'other', 'geothermal'], [0.35, 0.65, 0.77, 0.87, 0.95]);
  return `
    SELECT setseed(0.2020);
    CREATE TEMP TABLE t0 AS SELECT now() AS now;

    INSERT INTO market_trades (id, zone, energy_type, delivery_start, delivery_end, volume_wh, price_e4, at)
    SELECT gen_random_uuid(), ${zone('r_zone')}, ${type('r_type')},
      date_trunc('hour', at) + (1 + floor(r_lead * 24)) * interval '1 hour',
      date_trunc('hour', at) + (1 + floor(r_lead * 24) + 1 + floor(r_len * 4)) * interval '1 hour',
      1000 * (1 + floor(r_vol * 500))::bigint, 400 + floor(r_price * 3601)::bigint, at
    FROM (
      SELECT date_trunc('milliseconds', (SELECT now FROM t0) - random() * interval '${days} days') AS at,
        random() AS r_zone, random() AS r_type, random() AS r_vol, random() AS r_price, random() AS r_lead,
        random() AS r_len
      FROM generate_series(1, ${trades})
    ) r
    ORDER BY at;

    -- migration 0008's backfill, the shard spread as the accepts spread it (8 rows per bucket)
    INSERT INTO market_candles
      SELECT zone, energy_type, date_bin('15 minutes', at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS b,
        (abs(hashtext(id::text)::bigint) % 8)::smallint AS shard,
        count(*), sum(volume_wh), sum(volume_wh::numeric * price_e4), max(price_e4), min(price_e4),
        min(at), (array_agg(id ORDER BY at, id))[1], (array_agg(price_e4 ORDER BY at, id))[1],
        max(at), (array_agg(id ORDER BY at DESC, id DESC))[1], (array_agg(price_e4 ORDER BY at DESC, id DESC))[1]
      FROM market_trades GROUP BY zone, energy_type, b, shard;

    INSERT INTO users (id, email, password_hash, display_name, created_at)
    SELECT ${uuid("'market-user-' || i")}, 'market-' || i || '@bench.renex', 'not-a-hash', 'Market trader ' || i,
      (SELECT now FROM t0) - interval '120 days'
    FROM generate_series(1, 100) i;

    INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, label, status, created_at)
    SELECT ${uuid("'market-meter-' || i")}, ${uuid("'market-user-' || i")}, 'MARKET-' || lpad(i::text, 4, '0'),
      ${zone("pg_catalog.abs(hashtext('z' || i)::bigint) / 2147483648.0")},
      1000000000, 1000000000, 'market meter ' || i, 'active', (SELECT now FROM t0) - interval '120 days'
    FROM generate_series(1, 100) i;

    INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency, delivery_start,
      delivery_end, zone, description, status, version, created_at, updated_at, owner_name, meter_id, slot_minutes,
      all_or_none, gate_closes_at)
    SELECT ${uuid("'market-listing-' || i")}, m.owner_id, CASE WHEN r_side < 0.6 THEN 'supply' ELSE 'demand' END,
      ${type('r_type')}, r.vol, r.vol, 400 + floor(r_price * 3601)::bigint, 'EUR', r.ds, r.ds + interval '1 hour', m.zone,
      '', 'active', 1, r.created_at, r.created_at, 'Market trader ' || r.u, m.id, 60, false, r.ds - interval '1 hour'
    FROM (
      SELECT i, 1 + floor(random() * 100)::int AS u, random() AS r_side, random() AS r_type, random() AS r_price,
        1000 * (1 + floor(random() * 500))::bigint AS vol,
        date_trunc('hour', (SELECT now FROM t0)) + (2 + floor(random() * 47)) * interval '1 hour' AS ds,
        date_trunc('milliseconds', (SELECT now FROM t0) - random() * interval '2 days') AS created_at
      FROM generate_series(1, ${listings}) i
    ) r JOIN meters m ON m.id = ${uuid("'market-meter-' || r.u")}
    ORDER BY r.created_at;
  `;
}

/** Seeds `url` and analyzes it (the planner sees the seeded sizes, as autovacuum soon would). */
export async function seed(url: string, p: MarketSeed): Promise<void> {
  await execSql(url, seedSql(p));
  await execSql(url, 'VACUUM ANALYZE');
}

/**
 * The listing whose matches the workload asks for: of the active DE-North solar ones, the one with
 * the most listings of the other side over the same delivery hour (every seeded listing is one hour
 * on the hour) in any zone; with how many there are (the route keeps those of the zones it may
 * trade with, `limit` per zone).
 */
export async function matchListing(url: string): Promise<{ id: string; side: string; candidates: number }> {
  const [row] = await queryRows<{ id: string; side: string; candidates: number }>(
    url,
    `WITH c AS (SELECT energy_type, side, delivery_start, count(*)::int AS n FROM listings
                WHERE status = 'active' GROUP BY 1, 2, 3)
     SELECT l.id, l.side, c.n AS candidates FROM listings l
     JOIN c ON c.energy_type = l.energy_type AND c.side <> l.side AND c.delivery_start = l.delivery_start
     WHERE l.status = 'active' AND l.zone = 'DE-North' AND l.energy_type = 'solar'
     ORDER BY c.n DESC, l.id LIMIT 1`,
  );
  if (!row) throw new Error('the seed has no active DE-North solar listing');
  return row;
}
