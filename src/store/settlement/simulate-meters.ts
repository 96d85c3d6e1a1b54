// Simulated meter readings for the demo market (SIMULATE_METERS; PROTOCOL-MARKET.md, "Operators,
// readings and settlement"): after each slot ends, every meter with a trade in it gets a reading,
// as an operator's upload would give it, so the settlement sweep settles the demo market by itself,
// a new trader's trades with the demo traders included (the embedded demo has no operator; never
// turn this on where an operator uploads real readings). The demo traders' meters (see
// src/store/db/demo-seed.ts) have the shapes below; any other reads 0.8 to 1.05 of its contract. Each direction reads the meter's
// contracted volume in that slot (the `meter_slots` ledger) times a factor of 0.8 to 1.05 shaped by
// what the meter is: the solar co-op's export follows the sun, the wind farm's varies from hour to
// hour, the factory imports about what it bought. Insert-only and idempotent (ON CONFLICT DO NOTHING):
// a reading already there, uploaded, missing or settled, is never touched, so every node may run it.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { SqlPool } from '../db/sql-pool.js';

/** What shapes a demo meter's readings. */
export type MeterShape = 'solar' | 'wind' | 'factory' | 'other';

/** The demo traders' meters by their owners (demo-seed.ts): Alice's solar co-op, Bob's wind farm, Carol's factory. */
const SHAPES: Record<string, MeterShape> = {
  'alice@demo.renex': 'solar',
  'bob@demo.renex': 'wind',
  'carol@demo.renex': 'factory',
};

export const shapeOf = (ownerEmail: string): MeterShape => SHAPES[ownerEmail.toLowerCase()] ?? 'other';

/** factors in ten-thousandths: 0.8 to 1.05 */
const LOW_E4 = 8_000;
const HIGH_E4 = 10_500;
const HOUR_MS = 3_600_000;

/** A number in [0, 1) from `parts`, the same every time (so every node computes the same reading). */
function unit(...parts: string[]): number {
  return createHash('sha256').update(parts.join('/')).digest().readUInt32BE(0) / 2 ** 32;
}

/** `x` in [0, 1] as a factor from 0.8 to 1.05, in ten-thousandths. */
const factorE4 = (x: number): bigint =>
  BigInt(Math.round(LOW_E4 + (HIGH_E4 - LOW_E4) * Math.min(1, Math.max(0, x))));

/**
 * The factors (ten-thousandths, 0.8 to 1.05) of a meter's export and import in the slot starting
 * at `slotStart`. Solar export: the sun's height over the day (UTC; 0 before 06:00 and after 18:00,
 * highest at noon) with a little cloud. Wind export: a slow swell over the day plus gusts that
 * change every hour. The factory's import: 0.9 to 1.05 (it mostly takes what it bought). Anything
 * else, either way: anywhere from 0.8 to 1.05.
 */
export function readingFactors(
  shape: MeterShape,
  meterId: string,
  slotStart: Date,
): { exportE4: bigint; importE4: bigint } {
  const slot = slotStart.toISOString();
  const noise = (what: string) => unit(meterId, slot, what);
  const hour = (slotStart.getTime() % (24 * HOUR_MS)) / HOUR_MS;
  let exportShape: number;
  if (shape === 'solar') {
    const sun = Math.max(0, Math.sin((Math.PI * (hour - 6)) / 12));
    exportShape = sun * (0.85 + 0.15 * noise('cloud'));
  } else if (shape === 'wind') {
    const hourIndex = Math.floor(slotStart.getTime() / HOUR_MS).toString();
    const swell = 0.5 + 0.3 * Math.sin((2 * Math.PI * hour) / 24 + 6 * unit(meterId, 'phase'));
    exportShape = swell + 0.4 * (unit(meterId, hourIndex, 'gust') - 0.5);
  } else {
    exportShape = noise('export');
  }
  const importShape = shape === 'factory' ? 0.4 + 0.6 * noise('import') : noise('import');
  return { exportE4: factorE4(exportShape), importE4: factorE4(importShape) };
}

/** `wh` x `factorE4` / 10^4, rounded to the Wh (half up). */
export const scaleWh = (wh: bigint, factorE4: bigint): bigint => (wh * factorE4 + 5_000n) / 10_000n;

interface DueRow {
  meter_id: string;
  slot_start: Date;
  email: string;
  export_wh: string;
  import_wh: string;
}

/** at most this many readings per pass; the next pass writes the rest */
const BATCH = 1_000;

/**
 * Writes the readings of the demo meters for the slots that ended by `now` with a trade of theirs
 * still to settle and no reading yet; the number written (0 when another node wrote them first).
 */
export async function simulateReadings(sql: SqlPool, now: Date): Promise<number> {
  const due = await sql.rows<DueRow>(
    `WITH due AS (
       SELECT DISTINCT v.meter_id, ts.slot_start
       FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
       CROSS JOIN LATERAL (VALUES (s.seller_meter_id), (s.buyer_meter_id)) AS v(meter_id)
       JOIN meters m ON m.id = v.meter_id
       WHERE ts.status = 'confirmed' AND ts.slot_start + l.slot_minutes * interval '1 minute' <= $1)
     SELECT d.meter_id, d.slot_start, u.email,
       coalesce(e.contracted_wh, 0)::text AS export_wh, coalesce(i.contracted_wh, 0)::text AS import_wh
     FROM due d JOIN meters m ON m.id = d.meter_id JOIN users u ON u.id = m.owner_id
     LEFT JOIN meter_slots e ON e.meter_id = d.meter_id AND e.direction = 'export' AND e.slot_start = d.slot_start
     LEFT JOIN meter_slots i ON i.meter_id = d.meter_id AND i.direction = 'import' AND i.slot_start = d.slot_start
     WHERE NOT EXISTS (SELECT 1 FROM meter_readings r WHERE r.meter_id = d.meter_id AND r.slot_start = d.slot_start)
     ORDER BY d.slot_start, d.meter_id LIMIT ${BATCH}`,
    [now],
  );
  if (due.length === 0) return 0;
  const readings = due.map((r) => {
    const slotStart = new Date(r.slot_start);
    const f = readingFactors(shapeOf(r.email), r.meter_id, slotStart);
    return {
      meterId: r.meter_id,
      slotStart: slotStart.toISOString(),
      exportedWh: scaleWh(BigInt(r.export_wh), f.exportE4).toString(),
      importedWh: scaleWh(BigInt(r.import_wh), f.importE4).toString(),
    };
  });
  return sql.count(
    `INSERT INTO meter_readings (meter_id, slot_start, exported_wh, imported_wh, source, uploaded_at)
     SELECT m, s, e, i, 'uploaded', $1 FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[], $5::bigint[]) AS v(m, s, e, i)
     ON CONFLICT (meter_id, slot_start) DO NOTHING`,
    [
      now,
      readings.map((r) => r.meterId),
      readings.map((r) => r.slotStart),
      readings.map((r) => r.exportedWh),
      readings.map((r) => r.importedWh),
    ],
  );
}

/** Runs `simulateReadings` once at start and then every `intervalMs`, one pass at a time. */
export class MeterSimulator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sql: SqlPool,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running ??= this.pass().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: every due reading written, a batch at a time. */
  async pass(): Promise<void> {
    try {
      let written: number;
      do {
        written = await simulateReadings(this.sql, new Date());
        if (written) this.log.debug({ readings: written }, 'simulated meter readings written');
      } while (written === BATCH && !this.stopped);
    } catch (err) {
      this.log.warn({ err }, 'simulating meter readings failed; will retry');
    }
  }
}
