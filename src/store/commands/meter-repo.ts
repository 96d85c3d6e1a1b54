import type { Meter } from '../../domain/energy/meters.js';
import type { SlotShare } from '../../domain/energy/slots.js';
import { type MeterUse, slotKey } from '../../domain/energy/trading.js';
import type { MeterRepo } from '../../domain/unit-of-work.js';
import { camelColumns, METER_COLUMNS, type MeterRecord, toMeter } from '../models/records.js';
import type { CommandStatements } from './command-statements.js';

/** What `lockMeterSlots` answers: the meters, and each use's contracted Wh per slot by `slotKey`. */
export interface LockedSlots {
  meters: Meter[];
  contracted: Map<string, bigint>;
}

/**
 * The slot rows of `uses` in `starts`, locked (created at 0 where new), and the uses' meters,
 * share-locked, in one statement. The upsert takes the rows in one order, by meter, direction and
 * slot, whoever asks, so two accepts sharing a meter wait for each other instead of deadlocking;
 * ON CONFLICT DO UPDATE locks an existing row and answers its latest committed volume, as
 * SELECT ... FOR UPDATE would, and also covers a row another transaction is inserting.
 */
export async function lockMeterSlots(
  statements: CommandStatements,
  uses: MeterUse[],
  starts: Date[],
): Promise<LockedSlots> {
  const keys = uses
    .flatMap((u) => starts.map((start) => ({ ...u, start })))
    .sort((a, b) =>
      a.meterId !== b.meterId
        ? a.meterId < b.meterId
          ? -1
          : 1
        : a.direction !== b.direction
          ? a.direction < b.direction
            ? -1
            : 1
          : a.start.getTime() - b.start.getTime(),
    );
  const meterIds = [...new Set(uses.map((u) => u.meterId))].sort();
  const [row] = await statements.read<{
    slots: [string, string, string, string][] | null;
    meters: MeterRecord[] | null;
  }>(
    `WITH locked AS (
       INSERT INTO meter_slots (meter_id, direction, slot_start)
       SELECT m, d, s FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(m, d, s, n) ORDER BY n
       ON CONFLICT (meter_id, direction, slot_start) DO UPDATE SET contracted_wh = meter_slots.contracted_wh
       RETURNING meter_id, direction, slot_start, contracted_wh)
     SELECT (SELECT json_agg(json_build_array(meter_id, direction, slot_start, contracted_wh::text)) FROM locked) AS slots,
       (SELECT json_agg(row_to_json(m)) FROM (SELECT ${camelColumns(METER_COLUMNS)} FROM meters
         WHERE id = ANY($4::uuid[]) ORDER BY id FOR SHARE) m) AS meters`,
    [
      keys.map((k) => k.meterId),
      keys.map((k) => k.direction),
      keys.map((k) => k.start.toISOString()),
      meterIds,
    ],
  );
  const contracted = new Map<string, bigint>();
  for (const [meterId, direction, start, wh] of row?.slots ?? []) {
    contracted.set(slotKey(meterId, direction as MeterUse['direction'], new Date(start)), BigInt(wh));
  }
  return { meters: (row?.meters ?? []).map(toMeter), contracted };
}

/**
 * A use's new contracted volumes in slots it locked, as a pending write. It sets totals, not
 * increments: of two writes of one use's slots in a transaction (a group commit), the later one,
 * which knows the earlier, replaces it.
 */
export const writeMeterSlots = (statements: CommandStatements, use: MeterUse, totals: SlotShare[]) =>
  statements.write(
    `meter_slots:${use.meterId}:${use.direction}:${totals[0]?.start.getTime()}:${totals.length}`,
    `UPDATE meter_slots ms SET contracted_wh = v.wh
     FROM unnest($1::timestamptz[], $2::bigint[]) AS v(slot_start, wh)
     WHERE ms.meter_id = $3 AND ms.direction = $4 AND ms.slot_start = v.slot_start`,
    [
      totals.map((t) => t.start.toISOString()),
      totals.map((t) => t.wh.toString()),
      use.meterId,
      use.direction,
    ],
    'update',
  );

/** The meters and meter slots of one command. */
export function meterRepo(statements: CommandStatements): MeterRepo {
  return {
    async lockShared(id, lock) {
      const [row] = await statements.read<MeterRecord>(
        lock === undefined
          ? `SELECT ${camelColumns(METER_COLUMNS)} FROM meters WHERE id = $1 FOR SHARE`
          : `SELECT ${camelColumns(METER_COLUMNS)}
             FROM meters, (SELECT pg_advisory_xact_lock${lock.shared ? '_shared' : ''}(hashtextextended($2, 0))) AS lock
             WHERE id = $1 FOR SHARE OF meters`,
        lock === undefined ? [id] : [id, lock.name],
      );
      return row && toMeter(row);
    },
    lockSlots: (uses, starts) => lockMeterSlots(statements, uses, starts),
    setSlots: (use, totals) => writeMeterSlots(statements, use, totals),
  };
}
