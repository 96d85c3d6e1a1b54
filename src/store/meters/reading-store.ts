import { QueryTypes, type Sequelize } from 'sequelize';
import type { ReadingMeter, ReadingStore } from '../../domain/energy/readings.js';

// The active meters of some external ids, by the partial unique index on upper(external_id).
const ACTIVE_METERS_SQL = `SELECT id, external_id AS "externalId", zone FROM meters
  WHERE status = 'active' AND upper(external_id) = ANY($1::text[])`;

// One statement writes every reading and answers the ones it could not: those whose reading for
// the same meter and slot a settlement has used (settled_at). The rows are inserted in one order
// (meter, slot), so uploads sharing readings wait for each other instead of deadlocking.
//
// Against a settlement, which locks the readings it uses (an upsert in meter order that also
// writes the missing ones as 0, src/store/settlement/settle-slot.ts) before setting settled_at: a row the settlement holds makes ON CONFLICT wait for its commit, then re-check the
// WHERE against the row as committed (READ COMMITTED), so a reading settled meanwhile is not
// replaced and shows up here; a row this statement wrote first is locked by it until the upload
// commits or rolls back, and the settlement, waiting for it, reads what it left. A settlement's
// own insert of a missing reading (settled) makes a concurrent insert of the same key wait and then
// take the ON CONFLICT path the same way. Both take their rows in meter order, so neither holds a
// row the other needs while waiting for one it holds.
const UPSERT_SQL = `WITH input AS (
    SELECT m, s, e, i, n FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::bigint[])
      WITH ORDINALITY AS k(m, s, e, i, n)),
  written AS (
    INSERT INTO meter_readings AS r (meter_id, slot_start, exported_wh, imported_wh, source, uploaded_at)
    SELECT m, s, e, i, 'uploaded', now() FROM input ORDER BY m, s
    ON CONFLICT (meter_id, slot_start) DO UPDATE
      SET exported_wh = EXCLUDED.exported_wh, imported_wh = EXCLUDED.imported_wh,
        source = EXCLUDED.source, uploaded_at = EXCLUDED.uploaded_at
      WHERE r.settled_at IS NULL
    RETURNING meter_id, slot_start)
  SELECT n::int - 1 AS index FROM input
  WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.meter_id = input.m AND w.slot_start = input.s)
  ORDER BY n`;

/** Thrown inside the upload's transaction to roll it back when a reading to replace is settled. */
class SettledReadings extends Error {
  constructor(readonly indexes: number[]) {
    super('settled readings');
  }
}

/**
 * Meter readings in PostgreSQL (`meter_readings` of migration 0006), over hand-written SQL through
 * Sequelize: an upload is one statement in a transaction, rolled back whole when any reading it
 * would replace is settled.
 */
export function createReadingStore(sequelize: Sequelize): ReadingStore {
  return {
    async activeMeters(upperIds) {
      return sequelize.query<ReadingMeter>(ACTIVE_METERS_SQL, { bind: [upperIds], type: QueryTypes.SELECT });
    },

    async store(readings) {
      if (readings.length === 0) return { settled: [] };
      try {
        await sequelize.transaction(async (transaction) => {
          const missed = await sequelize.query<{ index: number }>(UPSERT_SQL, {
            bind: [
              readings.map((r) => r.meterId),
              readings.map((r) => r.slotStart.toISOString()),
              readings.map((r) => r.exportedWh.toString()),
              readings.map((r) => r.importedWh.toString()),
            ],
            type: QueryTypes.SELECT,
            transaction,
          });
          if (missed.length) throw new SettledReadings(missed.map((m) => m.index));
        });
        return { settled: [] };
      } catch (err) {
        if (err instanceof SettledReadings) return { settled: err.indexes };
        throw err;
      }
    },
  };
}
