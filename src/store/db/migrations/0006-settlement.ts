import type { MigrationContext } from '../migrate.js';

/**
 * Operators, readings and settlement (PROTOCOL-MARKET.md, "Operators, readings and settlement";
 * docs/settlement.md):
 * - `meter_readings`: what each meter exported and imported in a slot, uploaded by an operator; a
 *   reading may be replaced until a settlement uses it (`settled_at`); one a settlement found
 *   missing is written as 0 (`source = 'missing'`), so every settlement of that meter and slot,
 *   in any zone, reads the same;
 * - `trade_slots`: each accepted trade's share of each of its slots, written at accept (the flat
 *   split), with what curtailment took, the allocations, the settled volume and the money once the
 *   slot settles;
 * - `curtailments`: what operators curtailed, and why;
 * - `slot_settlements`: one row per zone and slot settled, inserted by the settlement that did it,
 *   with its totals: what makes each slot settle once across the cluster.
 * The trades accepted under migration 0005 whose delivery has not ended get their slots here, from
 * the same flat split; those already delivered had no way to be read and are left unsettled (they
 * would otherwise all settle at once on missing readings).
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE meter_readings (
      meter_id    uuid NOT NULL REFERENCES meters (id),
      slot_start  timestamptz NOT NULL,
      exported_wh bigint NOT NULL CHECK (exported_wh >= 0),
      imported_wh bigint NOT NULL CHECK (imported_wh >= 0),
      source      text NOT NULL CHECK (source IN ('uploaded', 'missing')),
      uploaded_at timestamptz NOT NULL,
      settled_at  timestamptz,
      PRIMARY KEY (meter_id, slot_start)
    );

    CREATE TABLE trade_slots (
      swap_id             uuid NOT NULL REFERENCES swaps (id),
      slot_start          timestamptz NOT NULL,
      volume_wh           bigint NOT NULL CHECK (volume_wh >= 0),
      curtailed_wh        bigint NOT NULL DEFAULT 0 CHECK (curtailed_wh >= 0 AND curtailed_wh <= volume_wh),
      seller_allocated_wh bigint CHECK (seller_allocated_wh >= 0),
      buyer_allocated_wh  bigint CHECK (buyer_allocated_wh >= 0),
      settled_wh          bigint CHECK (settled_wh >= 0),
      status              text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'settled', 'cancelled')),
      settlement          jsonb,
      settled_at          timestamptz,
      PRIMARY KEY (swap_id, slot_start),
      CHECK ((status = 'settled') = (settled_at IS NOT NULL))
    );
    -- the settlement sweep: slots of trades not yet settled, oldest first
    CREATE INDEX trade_slots_due_idx ON trade_slots (slot_start) WHERE status = 'confirmed';
    -- every trade of one slot, whatever its status (a settlement shares a meter's metered volume
    -- among all of them): bounded by the slot's trades, not by history
    CREATE INDEX trade_slots_slot_idx ON trade_slots (slot_start);

    CREATE TABLE curtailments (
      id              uuid PRIMARY KEY,
      operator_id     uuid NOT NULL REFERENCES users (id),
      zone            text NOT NULL,
      meter_id        uuid REFERENCES meters (id),
      from_at         timestamptz NOT NULL,
      to_at           timestamptz NOT NULL CHECK (to_at > from_at),
      reason          text NOT NULL CHECK (reason IN ('GRID_OUTAGE', 'CONGESTION', 'MAINTENANCE', 'EMERGENCY', 'OTHER')),
      factor_e4       integer NOT NULL CHECK (factor_e4 BETWEEN 0 AND 10000),
      affected_trades integer NOT NULL,
      created_at      timestamptz NOT NULL
    );

    CREATE TABLE slot_settlements (
      zone                   text NOT NULL,
      slot_start             timestamptz NOT NULL,
      slot_minutes           smallint NOT NULL,
      settled_at             timestamptz NOT NULL,
      trades                 integer NOT NULL,
      settled_wh             bigint NOT NULL,
      buyers_pay             bigint NOT NULL,
      sellers_receive        bigint NOT NULL,
      grid_operator_receives bigint NOT NULL,
      platform_receives      bigint NOT NULL,
      PRIMARY KEY (zone, slot_start),
      CHECK (buyers_pay = sellers_receive + grid_operator_receives + platform_receives)
    );

    INSERT INTO trade_slots (swap_id, slot_start, volume_wh)
      SELECT s.id, l.delivery_start + (k - 1) * l.slot_minutes * interval '1 minute',
        s.volume_wh / c.n + CASE WHEN k <= s.volume_wh % c.n THEN 1 ELSE 0 END
      FROM swaps s JOIN listings l ON l.id = s.listing_id
      CROSS JOIN LATERAL (SELECT (extract(epoch FROM l.delivery_end - l.delivery_start) / 60 / l.slot_minutes)::int AS n) c
      CROSS JOIN LATERAL generate_series(1, c.n) AS k
      WHERE s.status = 'accepted' AND s.seller_meter_id IS NOT NULL AND l.slot_minutes IS NOT NULL
        AND l.delivery_end > now();
  `);
}
