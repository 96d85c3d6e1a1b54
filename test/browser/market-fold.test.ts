// The dashboard's live candles and suggestion prefill, without a browser: a tape trade folded into
// its UTC bucket keeps the hub's strings exact (high, low, close, summed volume), and an offer from a
// suggestion takes the most both listings can trade, or the whole block of an all-or-none match.
import { describe, expect, test } from 'vitest';
import { bucketOf, foldTrade } from '../../web/src/candles.js';
import type { Candle, TapeTrade } from '../../web/src/market-types.js';
import { prefillFor } from '../../web/src/match-prefill.js';

const trade = (at: string, pricePerKwh: string, volumeKwh: string): TapeTrade => ({
  id: `${at}-${pricePerKwh}`,
  zone: 'DE-North',
  energyType: 'solar',
  deliveryStart: '2026-12-01T10:00:00.000Z',
  deliveryEnd: '2026-12-01T11:00:00.000Z',
  volumeKwh,
  pricePerKwh,
  at,
});

describe('live candles and suggestion prefill', () => {
  test('a trade folds into its UTC bucket: open kept, high/low/close exact, volume summed', () => {
    expect(bucketOf('2026-11-29T16:44:59.999Z', '15m')).toBe('2026-11-29T16:30:00.000Z');
    expect(bucketOf('2026-11-29T16:45:00.000Z', '1h')).toBe('2026-11-29T16:00:00.000Z');
    expect(bucketOf('2026-11-29T23:59:00.000Z', '1d')).toBe('2026-11-29T00:00:00.000Z');
    let c: Candle[] = [];
    c = foldTrade(c, trade('2026-11-29T16:31:00.000Z', '0.1200', '10.000'), '15m');
    expect(c).toEqual([
      {
        start: '2026-11-29T16:30:00.000Z',
        open: '0.1200',
        high: '0.1200',
        low: '0.1200',
        close: '0.1200',
        volume: '10.000',
      },
    ]);
    c = foldTrade(c, trade('2026-11-29T16:32:00.000Z', '0.1350', '0.500'), '15m');
    c = foldTrade(c, trade('2026-11-29T16:33:00.000Z', '0.0999', '2.250'), '15m');
    c = foldTrade(c, trade('2026-11-29T16:34:00.000Z', '0.1100', '1.000'), '15m');
    expect(c).toEqual([
      {
        start: '2026-11-29T16:30:00.000Z',
        open: '0.1200',
        high: '0.1350',
        low: '0.0999',
        close: '0.1100',
        volume: '13.750',
      },
    ]);
    // the next bucket starts at its own price; buckets stay oldest first
    c = foldTrade(c, trade('2026-11-29T16:45:00.000Z', '0.1300', '1.000'), '15m');
    c = foldTrade(c, trade('2026-11-29T16:10:00.000Z', '0.0900', '1.000'), '15m');
    expect(c.map((x) => [x.start, x.close])).toEqual([
      ['2026-11-29T16:00:00.000Z', '0.0900'],
      ['2026-11-29T16:30:00.000Z', '0.1100'],
      ['2026-11-29T16:45:00.000Z', '0.1300'],
    ]);
  });

  test('an offer from a suggestion: the smaller available volume, the whole block when all-or-none, the match price', () => {
    const listing = (availableKwh: string, pricePerKwh: string, allOrNone = false) => ({
      availableKwh,
      pricePerKwh,
      allOrNone,
    });
    expect(prefillFor(listing('30.000', '0.1500'), listing('20.000', '0.1400'))).toEqual({
      volumeKwh: '20.000',
      pricePerKwh: '0.1400',
    });
    expect(prefillFor(listing('5.500', '0.1500'), listing('20.000', '0.1400'))).toEqual({
      volumeKwh: '5.500',
      pricePerKwh: '0.1400',
    });
    expect(prefillFor(listing('5.500', '0.1500'), listing('20.000', '0.1400', true))).toEqual({
      volumeKwh: '20.000',
      pricePerKwh: '0.1400',
    });
  });
});
