// Market wall times without a browser: a wall time the clocks go back over happens twice, and the
// form must not take either silently; one they skip does not exist.
import { describe, expect, test } from 'vitest';
import { fromMarketInput, tzLabel } from '../../web/src/market-time.js';

describe('wall time in a market time zone', () => {
  test('Europe/Berlin 2026-10-25T02:30 happens twice: both instants, earlier first', () => {
    const w = fromMarketInput('2026-10-25T02:30', 'Europe/Berlin');
    expect(w?.repeated?.map((d) => d.toISOString())).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
    expect(tzLabel('Europe/Berlin', w!.repeated![0])).toBe('CEST');
    expect(tzLabel('Europe/Berlin', w!.repeated![1])).toBe('CET');
  });

  test('an hour outside the repeated one is one instant; a skipped one is a gap', () => {
    const before = fromMarketInput('2026-10-25T01:30', 'Europe/Berlin');
    expect(before?.at?.toISOString()).toBe('2026-10-24T23:30:00.000Z');
    expect(before?.repeated).toBeUndefined();
    const after = fromMarketInput('2026-10-25T03:00', 'Europe/Berlin');
    expect(after?.at?.toISOString()).toBe('2026-10-25T02:00:00.000Z');
    expect(after?.repeated).toBeUndefined();
    expect(fromMarketInput('2026-03-29T02:30', 'Europe/Berlin')).toEqual({ gap: true });
    expect(fromMarketInput('2026-10-25T02:30', 'UTC')?.repeated).toBeUndefined();
  });
});
