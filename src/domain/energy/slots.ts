// Delivery slots: a zone's grid of slotMinutes counted from UTC midnight, and the flat split of a
// volume over the slots of its window, exact in Wh (PROTOCOL-MARKET.md, "Zones and their market profile").

/** Most slots one delivery window may cover (a day of 15-minute slots). */
export const MAX_SLOTS = 96;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** One slot's share of a volume. */
export interface SlotShare {
  start: Date;
  wh: bigint;
}

/** A window that is on the grid, with its slot count, or why not and which end is at fault. */
export type WindowCheck =
  | { ok: true; slots: number }
  | { ok: false; path: 'deliveryStart' | 'deliveryEnd'; message: string };

/** Whether a time is a multiple of `slotMinutes` from its day's UTC midnight. */
export function onSlotGrid(time: Date, slotMinutes: number): boolean {
  const t = time.getTime();
  if (!Number.isFinite(t)) return false;
  const sinceMidnight = ((t % DAY_MS) + DAY_MS) % DAY_MS;
  return sinceMidnight % (slotMinutes * MINUTE_MS) === 0;
}

/**
 * Checks that the delivery window `[start, end)` starts and ends on the grid of `slotMinutes`
 * and covers 1 to 96 slots; the answer names the field a VALIDATION_FAILED issue would.
 */
export function checkSlotWindow(start: Date, end: Date, slotMinutes: number): WindowCheck {
  const grid = `the zone's ${slotMinutes}-minute grid (a multiple of ${slotMinutes} minutes from midnight UTC)`;
  if (!onSlotGrid(start, slotMinutes))
    return { ok: false, path: 'deliveryStart', message: `must be on ${grid}` };
  if (!onSlotGrid(end, slotMinutes)) return { ok: false, path: 'deliveryEnd', message: `must be on ${grid}` };
  const slots = (end.getTime() - start.getTime()) / (slotMinutes * MINUTE_MS);
  if (slots < 1) return { ok: false, path: 'deliveryEnd', message: 'must be after deliveryStart' };
  if (slots > MAX_SLOTS) {
    return {
      ok: false,
      path: 'deliveryEnd',
      message: `must be at most ${MAX_SLOTS} slots of ${slotMinutes} minutes after deliveryStart`,
    };
  }
  return { ok: true, slots };
}

/** Whether `[start, end)` is a window on the grid of `slotMinutes` of 1 to 96 slots. */
export const isSlotWindow = (start: Date, end: Date, slotMinutes: number): boolean =>
  checkSlotWindow(start, end, slotMinutes).ok;

/**
 * The flat delivery of `volumeWh` over `slots` slots of `slotMinutes` from `start`: each slot gets
 * the volume divided by the number of slots, the remainder one Wh each to the earliest slots. The
 * shares sum to the volume exactly and differ by at most 1 Wh.
 */
export function flatSplit(volumeWh: bigint, start: Date, slots: number, slotMinutes: number): SlotShare[] {
  if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`flatSplit: bad slot count ${slots}`);
  if (volumeWh < 0n) throw new RangeError('flatSplit: the volume must not be negative');
  const n = BigInt(slots);
  const base = volumeWh / n;
  const remainder = Number(volumeWh % n);
  const from = start.getTime();
  return Array.from({ length: slots }, (_, i) => ({
    start: new Date(from + i * slotMinutes * MINUTE_MS),
    wh: i < remainder ? base + 1n : base,
  }));
}
