// The settle workload's checks, in SQL on the settled database, and the database's own counters.
import pg from 'pg';

async function one<T>(url: string, sql: string): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows[0] as T;
  } finally {
    await c.end();
  }
}

const asNumbers = (row: Record<string, unknown>): Record<string, number> =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));

/** What the seed holds before settling: the expected work. */
export async function expected(url: string): Promise<Record<string, number>> {
  return asNumbers(
    await one(
      url,
      `SELECT (SELECT count(*) FROM trade_slots) AS trade_slots,
         (SELECT count(*) FROM swaps WHERE status = 'accepted') AS trades,
         (SELECT count(*) FROM (SELECT DISTINCT l.zone, ts.slot_start FROM trade_slots ts
            JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id) u) AS units,
         (SELECT count(*) FROM meter_readings) AS readings,
         -- meter and slot pairs with a trade and no reading: written as 0 ('missing') by the settlement
         (SELECT count(*) FROM (SELECT DISTINCT m, slot_start FROM (
            SELECT s.seller_meter_id AS m, ts.slot_start FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
            UNION SELECT s.buyer_meter_id, ts.slot_start FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id) x
            WHERE NOT EXISTS (SELECT 1 FROM meter_readings r WHERE r.meter_id = x.m AND r.slot_start = x.slot_start)) y)
           AS readings_missing`,
    ),
  );
}

/**
 * The checks after settling; each `bad_*` must be 0:
 * - every trade slot settled, and counted once in its unit's totals (a unit settled twice would
 *   count its trades twice), with one trade.settled event per trade and party;
 * - every unit's flows sum to zero, each trade slot's too, and each unit's totals are the sum of its
 *   trade slots';
 * - no allocation above the contracted volume; settled = the smaller allocation;
 * - per meter, direction and slot: allocations <= metered (a missing reading as 0), exactly the
 *   contracted volumes when metered covers them, and pro-rata loses less than 1 Wh per trade;
 *   every reading used is frozen, every missing one written as 0.
 */
export async function verify(url: string): Promise<Record<string, number>> {
  return asNumbers(
    await one(
      url,
      `WITH unit_sums AS (
         SELECT l.zone, ts.slot_start, count(*) AS n, sum(ts.settled_wh) AS q,
           sum((ts.settlement->>'buyerPays')::bigint) AS bp, sum((ts.settlement->>'sellerReceives')::bigint) AS sr,
           sum((ts.settlement->>'gridOperatorReceives')::bigint) AS gr, sum((ts.settlement->>'platformReceives')::bigint) AS pr
         FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
         GROUP BY l.zone, ts.slot_start),
       uses AS (
         SELECT s.seller_meter_id AS m, ts.slot_start, 'export' AS d, sum(ts.seller_allocated_wh) AS alloc,
           sum(ts.volume_wh - ts.curtailed_wh) AS contracted, count(*) AS n
         FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id GROUP BY 1, 2
         UNION ALL
         SELECT s.buyer_meter_id, ts.slot_start, 'import', sum(ts.buyer_allocated_wh),
           sum(ts.volume_wh - ts.curtailed_wh), count(*)
         FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id GROUP BY 1, 2),
       metered AS (
         SELECT u.*, r.settled_at, r.source, r.meter_id AS has_reading,
           coalesce(CASE u.d WHEN 'export' THEN r.exported_wh ELSE r.imported_wh END, 0) AS wh
         FROM uses u LEFT JOIN meter_readings r ON r.meter_id = u.m AND r.slot_start = u.slot_start)
       SELECT
         (SELECT count(*) FROM trade_slots WHERE status = 'settled') AS trade_slots_settled,
         (SELECT count(*) FROM slot_settlements) AS units_settled,
         (SELECT coalesce(sum(trades), 0) FROM slot_settlements) AS trade_slots_in_unit_totals,
         (SELECT count(*) FROM events WHERE type = 'trade.settled') AS settled_events,
         (SELECT count(*) FROM meter_readings WHERE source = 'missing') AS readings_written_missing,
         (SELECT count(*) FROM trade_slots WHERE status <> 'settled') AS bad_unsettled,
         (SELECT count(*) FROM slot_settlements
           WHERE buyers_pay <> sellers_receive + grid_operator_receives + platform_receives) AS bad_unit_flows,
         (SELECT count(*) FROM trade_slots WHERE (settlement->>'buyerPays')::bigint <> (settlement->>'sellerReceives')::bigint
           + (settlement->>'gridOperatorReceives')::bigint + (settlement->>'platformReceives')::bigint) AS bad_trade_slot_flows,
         (SELECT count(*) FROM slot_settlements ss FULL JOIN unit_sums x USING (zone, slot_start)
           WHERE ss.trades IS DISTINCT FROM x.n OR ss.settled_wh IS DISTINCT FROM x.q OR ss.buyers_pay IS DISTINCT FROM x.bp
             OR ss.sellers_receive IS DISTINCT FROM x.sr OR ss.grid_operator_receives IS DISTINCT FROM x.gr
             OR ss.platform_receives IS DISTINCT FROM x.pr) AS bad_unit_totals,
         (SELECT count(*) FROM trade_slots WHERE seller_allocated_wh > volume_wh - curtailed_wh
           OR buyer_allocated_wh > volume_wh - curtailed_wh
           OR settled_wh IS DISTINCT FROM least(seller_allocated_wh, buyer_allocated_wh)) AS bad_over_contracted,
         (SELECT count(*) FROM metered WHERE alloc > wh) AS bad_over_metered,
         (SELECT count(*) FROM metered WHERE wh >= contracted AND alloc <> contracted) AS bad_covered_not_whole,
         (SELECT count(*) FROM metered WHERE wh < contracted AND alloc <= wh - n) AS bad_pro_rata_rounding,
         (SELECT count(*) FROM metered WHERE has_reading IS NULL OR settled_at IS NULL) AS bad_reading_not_frozen,
         (SELECT count(*) FROM metered WHERE wh < contracted) AS uses_short,
         (SELECT count(*) FROM metered) AS uses,
         (SELECT round(100.0 * sum(settled_wh) / sum(volume_wh), 2) FROM trade_slots) AS settled_percent_of_contracted`,
    ),
  );
}

/** pg_stat_database's counters of the database `name` (active_time: ms its sessions spent executing statements). */
export async function databaseCounters(url: string, name: string): Promise<Record<string, number>> {
  return asNumbers(
    await one(
      url,
      `SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated,
         round(active_time::numeric, 1) AS active_time_ms, round(session_time::numeric, 1) AS session_time_ms,
         round(blk_read_time::numeric, 1) AS blk_read_time_ms
       FROM pg_stat_database WHERE datname = '${name}'`,
    ),
  );
}

export const delta = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.keys(b).map((k) => [k, Number(((b[k] ?? 0) - (a[k] ?? 0)).toFixed(1))]));

/** The plan of the settlement's claims statement for one unit (settle-slot.ts), as EXPLAIN ANALYZE shows it. */
export async function claimsPlan(url: string, slotStart: Date): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows: meters } = await c.query<{ ids: string[] }>(
      `SELECT array_agg(DISTINCT m) AS ids FROM (SELECT s.seller_meter_id AS m FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
         WHERE ts.slot_start = $1 UNION SELECT s.buyer_meter_id FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
         WHERE ts.slot_start = $1) x`,
      [slotStart],
    );
    const { rows } = await c.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON)
       SELECT ts.swap_id, (ts.volume_wh - ts.curtailed_wh)::text AS contracted, s.seller_meter_id, s.buyer_meter_id,
         s.accepted_at
       FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
       WHERE ts.slot_start = $2 AND ts.status <> 'cancelled'
         AND (s.seller_meter_id = ANY($1::uuid[]) OR s.buyer_meter_id = ANY($1::uuid[]))`,
      [meters[0]?.ids ?? [], slotStart],
    );
    // the meters' ids shortened: the plan's shape is what matters
    return rows.map((r) =>
      r['QUERY PLAN'].replace(/'\{[0-9a-f,-]{100,}\}'/g, (ids) => `'{${ids.split(',').length} meter ids}'`),
    );
  } finally {
    await c.end();
  }
}
