import type { MigrationContext } from '../migrate.js';

/**
 * Meters (PROTOCOL-MARKET.md, "Meters and trading limits"): a trader's metering points, with the
 * capacities their per-slot trading limits come from, in exact integer W (kW with 3 decimals).
 * An external id (an EAN, an MPAN) belongs to one active meter across the whole market, in any
 * letter case: the unique index settles two registrations racing on any nodes. A meter is never
 * deleted, only retired (listings and trades will name it); retiring frees its external id.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE meters (
      id                uuid PRIMARY KEY,
      owner_id          uuid NOT NULL REFERENCES users (id),
      external_id       text NOT NULL,
      zone              text NOT NULL,
      export_capacity_w bigint NOT NULL CHECK (export_capacity_w >= 0),
      import_capacity_w bigint NOT NULL CHECK (import_capacity_w >= 0),
      label             text NOT NULL DEFAULT '',
      status            text NOT NULL CHECK (status IN ('active', 'retired')),
      created_at        timestamptz NOT NULL,
      retired_at        timestamptz,
      CHECK (export_capacity_w > 0 OR import_capacity_w > 0),
      CHECK ((status = 'retired') = (retired_at IS NOT NULL))
    );
    CREATE UNIQUE INDEX meters_external_id_key ON meters (upper(external_id)) WHERE status = 'active';
    -- a trader's meters in the order they were registered
    CREATE INDEX meters_owner_idx ON meters (owner_id, created_at);
  `);
}
