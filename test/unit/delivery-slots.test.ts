import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  checkSlotWindow,
  flatSplit,
  isSlotWindow,
  MAX_SLOTS,
  onSlotGrid,
} from '../../src/domain/energy/slots.js';
import { MAX_WH } from '../../src/domain/quantity.js';

const at = (iso: string) => new Date(iso);
const MIN = 60_000;

describe('the slot grid', () => {
  test.each([
    ['2026-03-01T10:00:00.000Z', 60, true],
    ['2026-03-01T10:15:00.000Z', 60, false],
    ['2026-03-01T10:15:00.000Z', 15, true],
    ['2026-03-01T10:45:00.000Z', 30, false],
    ['2026-03-01T10:35:00.000Z', 5, true],
    ['2026-03-01T10:35:00.001Z', 5, false],
    ['2026-03-01T10:35:30.000Z', 5, false],
    ['2026-03-01T00:00:00.000Z', 60, true],
    ['1969-12-31T23:00:00.000Z', 60, true], // before the epoch too
    ['1969-12-31T23:30:00.000Z', 60, false],
  ] as const)('%s on the %d-minute grid: %s', (iso, minutes, on) => {
    expect(onSlotGrid(at(iso), minutes)).toBe(on);
  });

  test('an invalid date is never on the grid', () => {
    expect(onSlotGrid(new Date(Number.NaN), 60)).toBe(false);
  });

  test('a window: its slot count, or the field at fault and why', () => {
    const start = at('2026-03-01T10:00:00.000Z');
    expect(checkSlotWindow(start, at('2026-03-01T11:00:00.000Z'), 60)).toEqual({ ok: true, slots: 1 });
    expect(checkSlotWindow(start, at('2026-03-01T11:00:00.000Z'), 15)).toEqual({ ok: true, slots: 4 });
    expect(checkSlotWindow(start, at('2026-03-02T10:00:00.000Z'), 15)).toEqual({ ok: true, slots: 96 });
    expect(checkSlotWindow(start, at('2026-03-02T10:15:00.000Z'), 15)).toEqual({
      ok: false,
      path: 'deliveryEnd',
      message: 'must be at most 96 slots of 15 minutes after deliveryStart',
    });
    expect(checkSlotWindow(start, at('2026-03-03T10:00:00.000Z'), 30)).toEqual({ ok: true, slots: 96 });
    expect(checkSlotWindow(start, at('2026-03-03T10:30:00.000Z'), 30)).toMatchObject({ ok: false });
    expect(checkSlotWindow(at('2026-03-01T10:05:00.000Z'), at('2026-03-01T11:00:00.000Z'), 15)).toEqual({
      ok: false,
      path: 'deliveryStart',
      message: "must be on the zone's 15-minute grid (a multiple of 15 minutes from midnight UTC)",
    });
    expect(checkSlotWindow(start, at('2026-03-01T10:50:00.000Z'), 15)).toMatchObject({
      ok: false,
      path: 'deliveryEnd',
    });
    expect(checkSlotWindow(start, start, 60)).toEqual({
      ok: false,
      path: 'deliveryEnd',
      message: 'must be after deliveryStart',
    });
    expect(checkSlotWindow(start, at('2026-03-01T09:00:00.000Z'), 60)).toMatchObject({
      ok: false,
      path: 'deliveryEnd',
    });
    expect(isSlotWindow(start, at('2026-03-01T12:00:00.000Z'), 60)).toBe(true);
    expect(isSlotWindow(start, at('2026-03-01T12:30:00.000Z'), 60)).toBe(false);
  });
});

describe('flatSplit', () => {
  test('the remainder goes one Wh each to the earliest slots', () => {
    const start = at('2026-03-01T10:00:00.000Z');
    expect(flatSplit(10n, start, 4, 15)).toEqual([
      { start: at('2026-03-01T10:00:00.000Z'), wh: 3n },
      { start: at('2026-03-01T10:15:00.000Z'), wh: 3n },
      { start: at('2026-03-01T10:30:00.000Z'), wh: 2n },
      { start: at('2026-03-01T10:45:00.000Z'), wh: 2n },
    ]);
    expect(flatSplit(12_000n, start, 3, 60).map((s) => s.wh)).toEqual([4000n, 4000n, 4000n]);
    expect(flatSplit(2n, start, 3, 60).map((s) => s.wh)).toEqual([1n, 1n, 0n]);
    expect(flatSplit(7n, start, 1, 60)).toEqual([{ start, wh: 7n }]);
  });

  test('a bad slot count or a negative volume is a programming error', () => {
    const start = at('2026-03-01T10:00:00.000Z');
    expect(() => flatSplit(1n, start, 0, 60)).toThrow(RangeError);
    expect(() => flatSplit(1n, start, 1.5, 60)).toThrow(RangeError);
    expect(() => flatSplit(-1n, start, 2, 60)).toThrow(RangeError);
  });

  test('property: shares sum to the volume, differ by at most 1 Wh, earliest first, on consecutive slots', () => {
    fc.assert(
      fc.property(
        fc.bigInt(0n, MAX_WH),
        fc.integer({ min: 1, max: MAX_SLOTS }),
        fc.constantFrom(5, 15, 30, 60),
        fc.integer({ min: 0, max: 100_000 }),
        (volume, slots, minutes, offset) => {
          const start = new Date(Date.UTC(2026, 0, 1) + offset * minutes * MIN);
          const shares = flatSplit(volume, start, slots, minutes);
          expect(shares).toHaveLength(slots);
          expect(shares.reduce((sum, s) => sum + s.wh, 0n)).toBe(volume);
          const whs = shares.map((s) => s.wh);
          // every share is the quotient or one more: they differ by at most 1 Wh
          const base = volume / BigInt(slots);
          expect(whs.every((wh) => wh === base || wh === base + 1n)).toBe(true);
          for (let i = 1; i < slots; i++) {
            expect(whs[i]! <= whs[i - 1]!).toBe(true);
            expect(shares[i]!.start.getTime() - shares[i - 1]!.start.getTime()).toBe(minutes * MIN);
          }
          expect(shares.every((s) => onSlotGrid(s.start, minutes))).toBe(true);
          const end = new Date(start.getTime() + slots * minutes * MIN);
          expect(checkSlotWindow(start, end, minutes)).toEqual({ ok: true, slots });
        },
      ),
    );
  });
});
