// The settle workload's data, written with SQL alone (generate_series) into a migrated database:
// users, meters in one zone of 15-minute slots, one filled listing and one accepted swap per trade,
// their trade slots (the flat split of migration 0006), and a reading for every meter and slot.
// Deterministic: every "random" figure is a hash of the row's number, so two databases seeded with
// the same parameters hold the same rows.
import { execSql } from '../../harness.js';

export const ZONE = 'BENCH15';
export const SLOT_MINUTES = 15;

export interface SeedParameters {
  meters: number;
  trades: number;
  /** the first slot of the day; the day is `slots` slots long */
  dayStart: Date;
  slots: number;
}

/**
 * The fixed fees every swap carries (the settlement computes the money from the zone's fees, not
 * from these: they are the terms' fees shown to traders).
 */
const FEES = JSON.stringify({
  energyNotional: '1.00',
  buyer: { wheeling: '0.25', interZone: '0.00', platform: '0.01', total: '0.26' },
  seller: { wheeling: '0.30', platform: '0.01', total: '0.31' },
  buyerPays: '1.26',
  sellerReceives: '0.69',
  gridOperatorReceives: '0.55',
  platformReceives: '0.02',
});

/**
 * The seed as one script. Shapes:
 * - trade t: 1 to 4 slots, starting at a slot of the day so that it ends inside it; a seller meter
 *   and a different buyer meter, uniformly; 1 to 50 kWh per slot; accepted the day before, one
 *   second apart (fifo's order);
 * - meter classes, by a hash of the meter: 60 % metered at 100 to 105 % of what they contracted in
 *   each direction, 35 % short at 80 to 100 %, 5 % flaky: half of their readings missing (counted 0
 *   at the deadline), the others at 90 %. A meter with no trade in a slot reads 0.
 */
export function seedSql({ meters, trades, dayStart, slots }: SeedParameters): string {
  const day = `'${dayStart.toISOString()}'::timestamptz`;
  const slot = `interval '${SLOT_MINUTES} minutes'`;
  const u = (salt: string) => `(pg_temp.h(${salt}) / 2147483648.0)`;
  return `
    CREATE FUNCTION pg_temp.h(text) RETURNS bigint LANGUAGE sql IMMUTABLE
      AS $$ SELECT hashtext($1)::bigint & 2147483647 $$;

    INSERT INTO users (id, email, password_hash, display_name, created_at)
    SELECT md5('bench-user-' || i)::uuid, 'settle-' || i || '@bench.renex', 'not-a-hash', 'Bench trader ' || i, ${day} - interval '30 days'
    FROM generate_series(1, ${meters}) i;

    INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, label, status, created_at)
    SELECT md5('bench-meter-' || i)::uuid, md5('bench-user-' || i)::uuid, 'BENCH-' || lpad(i::text, 6, '0'), '${ZONE}',
      1000000000, 1000000000, 'bench meter ' || i, 'active', ${day} - interval '30 days'
    FROM generate_series(1, ${meters}) i;

    CREATE TEMP TABLE bench_trades AS
    SELECT t, n, k, seller, 1 + (seller + pg_temp.h('b' || t) % (${meters} - 1)) % ${meters} AS buyer,
      n * (1000 + pg_temp.h('v' || t) % 49000) AS volume_wh, 800 + pg_temp.h('p' || t) % 1200 AS price_e4,
      ${day} - interval '20 hours' + t * interval '1 second' AS accepted_at
    FROM (SELECT t, 1 + pg_temp.h('n' || t) % 4 AS n, 1 + pg_temp.h('s' || t) % ${meters} AS seller
          FROM generate_series(1, ${trades}) t) a
    CROSS JOIN LATERAL (SELECT pg_temp.h('k' || t) % (${slots + 1} - n) AS k) b;

    INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency, delivery_start,
      delivery_end, zone, description, status, version, created_at, updated_at, owner_name, meter_id, slot_minutes,
      all_or_none, gate_closes_at)
    SELECT md5('bench-listing-' || t)::uuid, md5('bench-user-' || seller)::uuid, 'supply', 'solar', volume_wh, 0, price_e4,
      'EUR', ${day} + k * ${slot}, ${day} + (k + n) * ${slot}, '${ZONE}', '', 'filled', 2,
      accepted_at - interval '1 hour', accepted_at, 'Bench trader ' || seller, md5('bench-meter-' || seller)::uuid,
      ${SLOT_MINUTES}, false, ${day} + k * ${slot} - interval '60 minutes'
    FROM bench_trades;

    INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round, next_actor_id,
      volume_wh, price_e4, expires_at, accepted_at, close_reason, created_at, updated_at, initiator_name, recipient_name,
      seller_meter_id, buyer_meter_id, seller_zone, buyer_zone, fees)
    SELECT md5('bench-swap-' || t)::uuid, md5('bench-listing-' || t)::uuid, md5('bench-user-' || buyer)::uuid,
      md5('bench-user-' || seller)::uuid, md5('bench-user-' || buyer)::uuid, md5('bench-user-' || seller)::uuid,
      'accepted', 1, NULL, volume_wh, price_e4, accepted_at + interval '10 minutes', accepted_at, NULL,
      accepted_at - interval '1 minute', accepted_at, 'Bench trader ' || buyer, 'Bench trader ' || seller,
      md5('bench-meter-' || seller)::uuid, md5('bench-meter-' || buyer)::uuid, '${ZONE}', '${ZONE}', '${FEES}'::jsonb
    FROM bench_trades;

    -- migration 0006's flat split
    INSERT INTO trade_slots (swap_id, slot_start, volume_wh)
      SELECT s.id, l.delivery_start + (k - 1) * l.slot_minutes * interval '1 minute',
        s.volume_wh / c.n + CASE WHEN k <= s.volume_wh % c.n THEN 1 ELSE 0 END
      FROM swaps s JOIN listings l ON l.id = s.listing_id
      CROSS JOIN LATERAL (SELECT (extract(epoch FROM l.delivery_end - l.delivery_start) / 60 / l.slot_minutes)::int AS n) c
      CROSS JOIN LATERAL generate_series(1, c.n) AS k
      WHERE s.status = 'accepted' AND s.seller_meter_id IS NOT NULL AND l.slot_minutes IS NOT NULL;

    -- the ledger the accepts would have written: each meter's contracted volume per direction and slot
    INSERT INTO meter_slots (meter_id, direction, slot_start, contracted_wh)
    SELECT meter_id, direction, slot_start, sum(wh) FROM (
      SELECT s.seller_meter_id AS meter_id, 'export' AS direction, ts.slot_start, ts.volume_wh AS wh
      FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
      UNION ALL
      SELECT s.buyer_meter_id, 'import', ts.slot_start, ts.volume_wh
      FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id) x
    GROUP BY meter_id, direction, slot_start;

    INSERT INTO meter_readings (meter_id, slot_start, exported_wh, imported_wh, source, uploaded_at)
    SELECT m.id, g.slot, floor(coalesce(e.contracted_wh, 0) * f.fe), floor(coalesce(i.contracted_wh, 0) * f.fi),
      'uploaded', g.slot + ${slot} + interval '5 minutes'
    FROM meters m
    CROSS JOIN generate_series(${day}, ${day} + ${slots - 1} * ${slot}, ${slot}) g(slot)
    LEFT JOIN meter_slots e ON e.meter_id = m.id AND e.direction = 'export' AND e.slot_start = g.slot
    LEFT JOIN meter_slots i ON i.meter_id = m.id AND i.direction = 'import' AND i.slot_start = g.slot
    CROSS JOIN LATERAL (SELECT pg_temp.h('c' || m.external_id) % 20 AS cls,
      ${u(`'e' || m.external_id || g.slot`)} AS ue, ${u(`'i' || m.external_id || g.slot`)} AS ui,
      ${u(`'x' || m.external_id || g.slot`)} AS ux) r
    CROSS JOIN LATERAL (SELECT
      CASE WHEN r.cls < 12 THEN 1 + 0.05 * r.ue WHEN r.cls < 19 THEN 0.8 + 0.2 * r.ue ELSE 0.9 END AS fe,
      CASE WHEN r.cls < 12 THEN 1 + 0.05 * r.ui WHEN r.cls < 19 THEN 0.8 + 0.2 * r.ui ELSE 0.9 END AS fi) f
    WHERE NOT (r.cls = 19 AND r.ux < 0.5);
  `;
}

/** Seeds `url` and analyzes it (the planner then sees the seeded sizes, as autovacuum would soon). */
export async function seed(url: string, p: SeedParameters): Promise<void> {
  await execSql(url, seedSql(p));
  await execSql(url, 'VACUUM ANALYZE');
}
