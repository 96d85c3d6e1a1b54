import type { MigrationContext } from '../migrate.js';

/**
 * The energy market (PROTOCOL-MARKET.md, "Zones", "Meters and trading limits", "Fees"):
 * - a listing names its meter, keeps the slot length of its zone's grid and its own gate closure
 *   as they were when it was posted (a later MARKET_CONFIG does not move a posted listing's gate
 *   or re-grid its slots), and may be all-or-none;
 * - a swap names both parties' meters and their zones (which its fees depend on) and carries the
 *   fees of its terms, as each offer does;
 * - `meter_slots` is the ledger of each meter's contracted volume per slot and direction, raised
 *   in the accept transaction under the row's lock: what makes the per-slot limit hold under any
 *   concurrency.
 * Rows of an earlier release keep everything they had; they have no meter, no slot length and no
 * fees (NULL), and their gate closes at their delivery start, the earlier release's default
 * (docs/decisions.md, "Listings and swaps from before meters"). This migration is not a rolling
 * one: nodes of the previous release know nothing of meters and would trade around the limits, so
 * their writes are made to fail (a listing needs its gate closure, an accepted swap its meters)
 * and the upgrade stops them first (README, "Upgrading").
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    ALTER TABLE listings
      ADD COLUMN meter_id uuid REFERENCES meters (id),
      ADD COLUMN slot_minutes smallint CHECK (slot_minutes IN (5, 15, 30, 60)),
      ADD COLUMN all_or_none boolean NOT NULL DEFAULT false,
      ADD COLUMN gate_closes_at timestamptz;
    UPDATE listings SET gate_closes_at = delivery_start;
    ALTER TABLE listings ALTER COLUMN gate_closes_at SET NOT NULL;
    -- the sweeper's: active listings by their own gate closure, whatever their zone's lead
    DROP INDEX listings_gate_idx;
    CREATE INDEX listings_gate_idx ON listings (gate_closes_at) WHERE status = 'active';
    -- a meter's active listings (retiring it is refused while it has any)
    CREATE INDEX listings_meter_idx ON listings (meter_id) WHERE status = 'active';

    ALTER TABLE swaps
      ADD COLUMN seller_meter_id uuid REFERENCES meters (id),
      ADD COLUMN buyer_meter_id uuid REFERENCES meters (id),
      ADD COLUMN seller_zone text,
      ADD COLUMN buyer_zone text,
      ADD COLUMN fees jsonb,
      ADD COLUMN fee_schedule jsonb;
    -- a meter's open swaps and trades (retiring it is refused while it has any)
    CREATE INDEX swaps_seller_meter_idx ON swaps (seller_meter_id) WHERE status IN ('open', 'accepted');
    CREATE INDEX swaps_buyer_meter_idx ON swaps (buyer_meter_id) WHERE status IN ('open', 'accepted');
    -- a node of the previous release, which knows nothing of meters, cannot accept a swap: its
    -- trades would bypass the limits (NOT VALID: the trades from before meters stay as they are)
    ALTER TABLE swaps ADD CONSTRAINT swaps_accepted_with_meters
      CHECK (status <> 'accepted' OR (seller_meter_id IS NOT NULL AND buyer_meter_id IS NOT NULL)) NOT VALID;

    ALTER TABLE offers ADD COLUMN fees jsonb;

    CREATE TABLE meter_slots (
      meter_id      uuid NOT NULL REFERENCES meters (id),
      direction     text NOT NULL CHECK (direction IN ('export', 'import')),
      slot_start    timestamptz NOT NULL,
      contracted_wh bigint NOT NULL DEFAULT 0 CHECK (contracted_wh >= 0),
      PRIMARY KEY (meter_id, direction, slot_start)
    );
  `);
}
