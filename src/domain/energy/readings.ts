// Meter readings: what each meter exported and imported in a slot of its zone's grid, uploaded by an
// operator (PROTOCOL-MARKET.md, "Operators, readings and settlement"; docs/settlement.md,
// "Readings"). An upload is all or nothing: every row is checked, every issue is told with its row,
// and only an upload without any is stored, in one transaction. Energy is exact integer Wh.
import { z } from 'zod';
import { HubError } from '../errors.js';
import { KWH_SCALE, MAX_WH } from '../quantity.js';
import { decimalInput, timeInput } from '../schemas.js';
import { joinPath, validationFailed } from '../validation.js';
import { externalIdInput } from './meters.js';
import { onSlotGrid } from './slots.js';
import type { MarketProfile } from './zones.js';

/** Most rows one upload may carry. */
export const MAX_READINGS = 10_000;
/** Most issues (or settled rows) one answer lists; the message says how many there were. */
export const MAX_LISTED_ISSUES = 100;

/**
 * One problem with an upload: `row` 1 is the first reading (the first data row of a CSV), 0 the
 * upload as a whole (its envelope, its CSV header or content type); `path` names the field as sent.
 */
export interface RowIssue {
  row: number;
  path: string;
  message: string;
}

/** kWh >= 0 with at most 3 decimals, as integer Wh. */
const readingKwh = decimalInput(KWH_SCALE, 0n, MAX_WH, '1.25').meta({
  description: 'kWh, a JSON number or decimal string >= 0 with at most 3 decimals',
  example: '1.25',
});

/** One reading as JSON sends it; a CSV row is read into the same fields. */
export const readingInput = z.strictObject({
  meterExternalId: externalIdInput.meta({
    description: 'the externalId of an active meter, in any letter case',
    example: '871685900012345678',
  }),
  slotStart: timeInput.meta({
    description: "start of a slot on the meter's zone grid, already ended",
    example: '2026-11-26T10:00:00Z',
  }),
  exportedKwh: readingKwh,
  importedKwh: readingKwh,
});
export type ReadingInput = z.output<typeof readingInput>;
export type ReadingField = keyof ReadingInput;

/**
 * The JSON body of POST /operator/readings as OpenAPI shows it. The route reads it row by row
 * (`readJsonReadings`), so that each issue names its row.
 */
export const readingsBody = z
  .strictObject({ readings: z.array(readingInput).max(MAX_READINGS) })
  .meta({ description: `at most ${MAX_READINGS} readings; or text/csv (see the route's description)` });

/** The readings of an upload as read, before any meter is looked up. */
export interface ReadUpload {
  /** the rows that read well, each with its row number */
  rows: (ReadingInput & { row: number })[];
  issues: RowIssue[];
  /** how an issue about `field` of `row` (or the row itself) names it in the upload as sent */
  pathOf(row: number, field?: ReadingField): string;
}

/**
 * Reads one reading (`input`, the fields of `readingInput`) of row `row` into `upload`, or adds
 * its issues; `pathOf` names a field as the upload does.
 */
export function readReadingRow(
  upload: Pick<ReadUpload, 'rows' | 'issues' | 'pathOf'>,
  row: number,
  input: unknown,
): void {
  const r = readingInput.safeParse(input);
  if (r.success) {
    upload.rows.push({ ...r.data, row });
    return;
  }
  for (const i of r.error.issues) {
    const [field, ...rest] = i.path;
    const path =
      typeof field === 'string' && field in readingInput.shape
        ? joinPath([upload.pathOf(row, field as ReadingField), ...rest])
        : upload.pathOf(row);
    upload.issues.push({ row, path, message: i.message });
  }
}

const jsonEnvelope = z.strictObject({ readings: z.array(z.unknown()) });

/** Reads a JSON upload `{readings: [...]}`: paths as `readings.0.exportedKwh`, row 1 for index 0. */
export function readJsonReadings(body: unknown): ReadUpload {
  const upload: ReadUpload = {
    rows: [],
    issues: [],
    pathOf: (row, field) => joinPath(field ? ['readings', row - 1, field] : ['readings', row - 1]),
  };
  const envelope = jsonEnvelope.safeParse(body);
  if (!envelope.success) {
    for (const i of envelope.error.issues)
      upload.issues.push({ row: 0, path: joinPath(i.path) || 'body', message: i.message });
    return upload;
  }
  const { readings } = envelope.data;
  if (readings.length > MAX_READINGS) {
    upload.issues.push(tooManyRows(`readings.${MAX_READINGS}`));
    return upload;
  }
  readings.forEach((input, i) => {
    readReadingRow(upload, i + 1, input);
  });
  return upload;
}

/** The issue of the first row past MAX_READINGS. */
export const tooManyRows = (path: string): RowIssue => ({
  row: MAX_READINGS + 1,
  path,
  message: `an upload has at most ${MAX_READINGS} readings`,
});

/** An active meter as readings name it. */
export interface ReadingMeter {
  id: string;
  externalId: string;
  zone: string;
}

/** One reading to store: Wh of one meter in the slot starting at `slotStart`. */
export interface NewReading {
  meterId: string;
  slotStart: Date;
  exportedWh: bigint;
  importedWh: bigint;
}

/** What readings need from storage. */
export interface ReadingStore {
  /** the active meters whose externalId is one of `upperIds` (upper-cased), compared in any case */
  activeMeters(upperIds: string[]): Promise<ReadingMeter[]>;
  /**
   * Stores every reading in one transaction (source `uploaded`, uploaded now), replacing the
   * reading of the same meter and slot unless a settlement has used it (`settled_at`). If any is
   * settled, nothing is stored and the answer lists the indexes (into `readings`) of those. Race-free
   * against a settlement locking the readings it uses: one of the two waits for the other.
   */
  store(readings: NewReading[]): Promise<{ settled: number[] }>;
}

/** The readings an operator uploads: checked whole, stored whole. */
export class Readings {
  constructor(
    private readonly store: ReadingStore,
    private readonly profile: MarketProfile,
  ) {}

  /**
   * Checks each row of `upload` against the market (its meter active, its slot on the meter's zone
   * grid and started, no meter and slot twice) and stores them all, or throws VALIDATION_FAILED
   * listing the issues of every row (INVALID_STATE when a reading to replace is settled).
   */
  async upload(upload: ReadUpload, now = new Date()): Promise<{ accepted: number }> {
    const issues = [...upload.issues];
    const ids = [...new Set(upload.rows.map((r) => r.meterExternalId.toUpperCase()))];
    const meters = new Map(
      (ids.length ? await this.store.activeMeters(ids) : []).map((m) => [m.externalId.toUpperCase(), m]),
    );
    const readings: NewReading[] = [];
    const rowOf: number[] = [];
    const seen = new Map<string, number>();
    for (const r of upload.rows) {
      const issue = (field: ReadingField, message: string) =>
        issues.push({ row: r.row, path: upload.pathOf(r.row, field), message });
      const meter = meters.get(r.meterExternalId.toUpperCase());
      if (!meter) {
        issue('meterExternalId', 'is not the externalId of an active meter');
        continue;
      }
      const zone = this.profile.zone(meter.zone);
      if (!zone) {
        issue('meterExternalId', `is a meter of zone ${meter.zone}, which is not in the market any more`);
        continue;
      }
      if (!onSlotGrid(r.slotStart, zone.slotMinutes)) {
        issue(
          'slotStart',
          `must be on the ${zone.slotMinutes}-minute grid of zone ${zone.id} (a multiple of ` +
            `${zone.slotMinutes} minutes from midnight UTC)`,
        );
        continue;
      }
      if (r.slotStart.getTime() + zone.slotMinutes * 60_000 > now.getTime()) {
        // what a meter metered in a slot is known once the slot has ended; a partial reading would
        // be settled as if it were whole once every meter of the slot has one
        issue('slotStart', 'must be a slot that has ended: a reading is what flowed in a whole slot');
        continue;
      }
      const key = `${meter.id} ${r.slotStart.getTime()}`;
      const first = seen.get(key);
      if (first !== undefined) {
        issue('slotStart', `repeats row ${first}: the same meter and slot`);
        continue;
      }
      seen.set(key, r.row);
      readings.push({
        meterId: meter.id,
        slotStart: r.slotStart,
        exportedWh: r.exportedKwh,
        importedWh: r.importedKwh,
      });
      rowOf.push(r.row);
    }
    if (issues.length) throw invalidUpload(issues);

    const { settled } = await this.store.store(readings);
    if (settled.length) {
      const rows = settled.map((i) => rowOf[i]!).sort((a, b) => a - b);
      throw new HubError(
        'INVALID_STATE',
        `${rows.length} of the readings replace settled ones, which cannot change; nothing was stored`,
        { reason: 'settled', rows: rows.slice(0, MAX_LISTED_ISSUES) },
      );
    }
    return { accepted: readings.length };
  }
}

/** VALIDATION_FAILED listing the first MAX_LISTED_ISSUES issues, by row. */
export function invalidUpload(issues: RowIssue[]): HubError {
  const sorted = [...issues].sort((a, b) => a.row - b.row);
  const listed = sorted.slice(0, MAX_LISTED_ISSUES);
  const more =
    sorted.length > listed.length ? ` (the first ${listed.length} of ${sorted.length} are listed)` : '';
  return validationFailed(listed, `The upload has ${sorted.length} issues${more}; nothing was stored`);
}
