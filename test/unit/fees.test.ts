import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { computeFees, type FeeTerms, feesView } from '../../src/domain/energy/fees.js';
import type { ZoneFees } from '../../src/domain/energy/zones.js';
import { MAX_PRICE_E4, MAX_WH } from '../../src/domain/quantity.js';

/** The contract's default fees: wheeling 0.0250 / 0.0300 per kWh, platform 1.0 % capped at 0.0042 per kWh. */
const DEFAULT_FEES: ZoneFees = {
  wheelingBuyerPerKwhE4: 250n,
  wheelingSellerPerKwhE4: 300n,
  platformPercentE4: 10_000n,
  platformCapPerKwhE4: 42n,
};

describe('worked examples', () => {
  test('12.345 kWh at 0.1235 within one zone, default fees', () => {
    // energy:          12.345 x 0.1235          = 1.5246075  -> 1.52
    // buyer wheeling:  12.345 x 0.0250          = 0.308625   -> 0.31
    // seller wheeling: 12.345 x 0.0300          = 0.37035    -> 0.37
    // platform, each:  1.0 % of 1.5246075       = 0.015246075; cap 12.345 x 0.0042 = 0.051849;
    //                  the percent is smaller   -> 0.02
    // buyer total 0.31 + 0.00 + 0.02 = 0.33, buyerPays 1.52 + 0.33 = 1.85
    // seller total 0.37 + 0.02 = 0.39, sellerReceives 1.52 - 0.39 = 1.13
    // grid 0.31 + 0.37 = 0.68, platform 0.02 + 0.02 = 0.04; 1.13 + 0.68 + 0.04 = 1.85
    const fees = computeFees({
      volumeWh: 12_345n,
      priceE4: 1235n,
      buyer: DEFAULT_FEES,
      seller: DEFAULT_FEES,
    });
    expect(feesView(fees)).toEqual({
      energyNotional: '1.52',
      buyer: { wheeling: '0.31', interZone: '0.00', platform: '0.02', total: '0.33' },
      seller: { wheeling: '0.37', platform: '0.02', total: '0.39' },
      buyerPays: '1.85',
      sellerReceives: '1.13',
      gridOperatorReceives: '0.68',
      platformReceives: '0.04',
    });
  });

  test('100 kWh at 1.0000 across zones: the platform cap binds, the inter-zone charge goes to the grid', () => {
    // energy 100.00; platform 1.0 % = 1.00, capped at 100 x 0.0042 = 0.42 (each side)
    // buyer: wheeling 100 x 0.0250 = 2.50, inter-zone 100 x 0.0200 = 2.00, platform 0.42 -> 4.92; pays 104.92
    // seller: wheeling 100 x 0.0300 = 3.00, platform 0.42 -> 3.42; receives 96.58
    // grid 2.50 + 2.00 + 3.00 = 7.50, platform 0.84; 96.58 + 7.50 + 0.84 = 104.92
    const fees = computeFees({
      volumeWh: 100_000n,
      priceE4: 10_000n,
      buyer: DEFAULT_FEES,
      seller: DEFAULT_FEES,
      interZonePerKwhE4: 200n,
    });
    expect(feesView(fees)).toEqual({
      energyNotional: '100.00',
      buyer: { wheeling: '2.50', interZone: '2.00', platform: '0.42', total: '4.92' },
      seller: { wheeling: '3.00', platform: '0.42', total: '3.42' },
      buyerPays: '104.92',
      sellerReceives: '96.58',
      gridOperatorReceives: '7.50',
      platformReceives: '0.84',
    });
  });

  test("each side pays its own zone's fees", () => {
    const cheap: ZoneFees = {
      wheelingBuyerPerKwhE4: 100n,
      wheelingSellerPerKwhE4: 0n,
      platformPercentE4: 5000n,
      platformCapPerKwhE4: 1000n,
    };
    // 10 kWh at 0.2000 = 2.00; buyer in the cheap zone: wheeling 0.10, platform 0.5 % = 0.01;
    // seller in the default zone: wheeling 0.30, platform 1 % = 0.02 (cap 0.042)
    const fees = computeFees({ volumeWh: 10_000n, priceE4: 2000n, buyer: cheap, seller: DEFAULT_FEES });
    expect(feesView(fees)).toMatchObject({
      buyer: { wheeling: '0.10', interZone: '0.00', platform: '0.01', total: '0.11' },
      seller: { wheeling: '0.30', platform: '0.02', total: '0.32' },
      buyerPays: '2.11',
      sellerReceives: '1.68',
    });
  });

  test('each line is rounded half-to-even on its own', () => {
    // 0.2 kWh x 0.0250 = 0.005 exactly: a tie, to 0.00; 0.6 kWh x 0.0250 = 0.015: a tie, to 0.02
    const at = (volumeWh: bigint) =>
      computeFees({ volumeWh, priceE4: 0n, buyer: DEFAULT_FEES, seller: DEFAULT_FEES }).buyer.wheeling;
    expect(at(200n)).toBe(0n);
    expect(at(600n)).toBe(2n);
    expect(at(1000n)).toBe(2n); // 0.025 -> 0.02
    expect(at(1400n)).toBe(4n); // 0.035 -> 0.04
  });

  test('at price 0 the seller still pays its fees: sellerReceives is negative', () => {
    const fees = computeFees({ volumeWh: 1000n, priceE4: 0n, buyer: DEFAULT_FEES, seller: DEFAULT_FEES });
    expect(feesView(fees)).toMatchObject({
      energyNotional: '0.00',
      sellerReceives: '-0.03',
      buyerPays: '0.02',
    });
  });
});

const zoneFees = fc.record({
  wheelingBuyerPerKwhE4: fc.bigInt(0n, 100_000n),
  wheelingSellerPerKwhE4: fc.bigInt(0n, 100_000n),
  platformPercentE4: fc.bigInt(0n, 1_000_000n),
  platformCapPerKwhE4: fc.bigInt(0n, 100_000n),
});

const terms: fc.Arbitrary<FeeTerms> = fc.record(
  {
    volumeWh: fc.oneof(fc.bigInt(1n, 100_000n), fc.bigInt(1n, MAX_WH)),
    priceE4: fc.oneof(fc.bigInt(0n, 100_000n), fc.bigInt(0n, MAX_PRICE_E4)),
    buyer: zoneFees,
    seller: zoneFees,
    interZonePerKwhE4: fc.bigInt(0n, 100_000n),
  },
  { requiredKeys: ['volumeWh', 'priceE4', 'buyer', 'seller'] },
);

/** Whether `cents` is `exact` (in units of 1/denominator of a currency unit) rounded half-to-even. */
function roundedFrom(cents: bigint, exact: bigint, denominator: bigint): boolean {
  const diff = 2n * (cents * denominator - exact * 100n); // 2 x (rounded - exact), in 1/(100 x denominator)
  const half = 100n * denominator;
  if (diff > half || diff < -half) return false;
  return diff === half || diff === -half ? cents % 2n === 0n : true;
}

describe('properties', () => {
  test('the flows sum to zero exactly: buyerPays = sellerReceives + gridOperatorReceives + platformReceives', () => {
    fc.assert(
      fc.property(terms, (t) => {
        const f = computeFees(t);
        expect(f.buyerPays).toBe(f.sellerReceives + f.gridOperatorReceives + f.platformReceives);
        expect(f.buyerPays).toBe(f.energyNotional + f.buyer.total);
        expect(f.sellerReceives).toBe(f.energyNotional - f.seller.total);
        expect(f.buyer.total).toBe(f.buyer.wheeling + f.buyer.interZone + f.buyer.platform);
        expect(f.seller.total).toBe(f.seller.wheeling + f.seller.platform);
        expect(f.gridOperatorReceives).toBe(f.buyer.wheeling + f.buyer.interZone + f.seller.wheeling);
        expect(f.platformReceives).toBe(f.buyer.platform + f.seller.platform);
      }),
      { numRuns: 2000 },
    );
  });

  test('each line is its exact value rounded half-to-even; the platform fee is the smaller of percent and cap', () => {
    fc.assert(
      fc.property(terms, (t) => {
        const f = computeFees(t);
        const E7 = 10n ** 7n;
        expect(roundedFrom(f.energyNotional, t.volumeWh * t.priceE4, E7)).toBe(true);
        expect(roundedFrom(f.buyer.wheeling, t.volumeWh * t.buyer.wheelingBuyerPerKwhE4, E7)).toBe(true);
        expect(roundedFrom(f.seller.wheeling, t.volumeWh * t.seller.wheelingSellerPerKwhE4, E7)).toBe(true);
        expect(roundedFrom(f.buyer.interZone, t.volumeWh * (t.interZonePerKwhE4 ?? 0n), E7)).toBe(true);
        for (const [side, fees] of [
          [f.buyer.platform, t.buyer],
          [f.seller.platform, t.seller],
        ] as const) {
          // percent (at 4 decimals) of the notional (at 7), against the cap, both at 13 decimals
          const percent = t.volumeWh * t.priceE4 * fees.platformPercentE4;
          const cap = t.volumeWh * fees.platformCapPerKwhE4 * 1_000_000n;
          expect(roundedFrom(side, percent < cap ? percent : cap, 10n ** 13n)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
