// Settlement arithmetic (src/domain/energy/settlement.ts): allocation, settled volume and money,
// with worked examples computed by hand, and properties over random slots: every settled slot's
// flows sum to zero, and no allocation exceeds what was metered or contracted.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { defaultMarketProfile } from '../../src/domain/energy/market-config.js';
import {
  type AllocationClaim,
  allocate,
  curtailedKeepWh,
  settlementView,
  settleSlot,
  sumMoney,
  tradeStatus,
} from '../../src/domain/energy/settlement.js';
import type { ZoneSettlement } from '../../src/domain/energy/zones.js';

const zone = defaultMarketProfile().zone('DE-North')!;
const T = (minutes: number) => new Date(Date.UTC(2030, 0, 1, 10, minutes));
const claim = (key: string, wh: bigint, acceptedMinute: number): AllocationClaim => ({
  key,
  contractedWh: wh,
  acceptedAt: T(acceptedMinute),
});
const rules = (over: Partial<ZoneSettlement> = {}): ZoneSettlement => ({ ...zone.settlement, ...over });
const terms = (
  contractedWh: bigint,
  sellerAllocatedWh: bigint,
  buyerAllocatedWh: bigint,
  settlement = rules(),
) => ({
  contractedWh,
  sellerAllocatedWh,
  buyerAllocatedWh,
  priceE4: 1000n, // 0.1000 per kWh
  buyerFees: zone.fees,
  sellerFees: zone.fees,
  settlement,
});

describe('allocation: a seller meter with two trades (6 and 4 kWh) that metered 8 kWh', () => {
  const claims = [claim('t1', 6000n, 1), claim('t2', 4000n, 2)];

  test('pro_rata: each gets contracted x 8/10: 4.800 and 3.200 kWh', () => {
    expect(Object.fromEntries(allocate(8000n, claims, 'pro_rata'))).toEqual({ t1: 4800n, t2: 3200n });
  });

  test('fifo: the first accepted fills first: 6.000, then 2.000 kWh', () => {
    expect(Object.fromEntries(allocate(8000n, claims, 'fifo'))).toEqual({ t1: 6000n, t2: 2000n });
    // acceptance order, not the order given
    expect(Object.fromEntries(allocate(8000n, [...claims].reverse(), 'fifo'))).toEqual({
      t1: 6000n,
      t2: 2000n,
    });
  });

  test('metered at or above the total: every trade its whole contracted volume, either way', () => {
    for (const method of ['pro_rata', 'fifo'] as const) {
      expect(Object.fromEntries(allocate(12_000n, claims, method))).toEqual({ t1: 6000n, t2: 4000n });
    }
  });

  test('pro_rata rounds each trade down to the Wh: 3 trades of 1 Wh sharing 2 Wh get 0 each', () => {
    const three = [claim('a', 1n, 1), claim('b', 1n, 2), claim('c', 1n, 3)];
    expect([...allocate(2n, three, 'pro_rata').values()]).toEqual([0n, 0n, 0n]);
    expect([...allocate(0n, three, 'fifo').values()]).toEqual([0n, 0n, 0n]);
  });
});

describe('money of a trade slot, worked by hand (0.1000 per kWh, the default fees)', () => {
  test('pro_rata example, min_of_two: 4.800 kWh settles 0.48 energy; buyer pays 0.60', () => {
    // energy 4.8 x 0.1 = 0.48; buyer wheeling 4.8 x 0.025 = 0.12; seller wheeling 4.8 x 0.03 =
    // 0.144 -> 0.14; platform 1 % of 0.48 = 0.0048 (cap 4.8 x 0.0042 = 0.02016) -> 0.00 each side
    const { settledWh, money } = settleSlot(terms(6000n, 4800n, 6000n));
    expect(settledWh).toBe(4800n);
    expect(settlementView(money)).toEqual({
      energyNotional: '0.48',
      buyerPays: '0.60',
      sellerReceives: '0.34',
      gridOperatorReceives: '0.26',
      platformReceives: '0.00',
      deviation: { sellerCharge: '0.00', buyerCredit: '0.00' },
    });
  });

  test('one trade of 10 kWh, seller metered 8, buyer 9: min_of_two and deviation', () => {
    // min_of_two on 8 kWh: energy 0.80; buyer wheeling 0.20; seller 0.24; platform 0.008 -> 0.01
    // each: the buyer pays 1.01, the seller receives 0.55, the grid 0.44, the platform 0.02
    expect(settlementView(settleSlot(terms(10_000n, 8000n, 9000n)).money)).toEqual({
      energyNotional: '0.80',
      buyerPays: '1.01',
      sellerReceives: '0.55',
      gridOperatorReceives: '0.44',
      platformReceives: '0.02',
      deviation: { sellerCharge: '0.00', buyerCredit: '0.00' },
    });
    // deviation: energy and fees on 10 kWh: 1.00; buyer 0.25 + 0.01 = 0.26 -> 1.26; seller 0.30 +
    // 0.01 = 0.31 -> 0.69; the seller short 2 kWh x 0.3000 = 0.60, the buyer credited 1 kWh x
    // 0.0500 = 0.05: buyer pays 1.21, seller receives 0.09, the grid 0.55 + 0.60 - 0.05 = 1.10
    const deviation = settleSlot(terms(10_000n, 8000n, 9000n, rules({ method: 'deviation' })));
    expect(deviation.settledWh).toBe(8000n);
    expect(settlementView(deviation.money)).toEqual({
      energyNotional: '1.00',
      buyerPays: '1.21',
      sellerReceives: '0.09',
      gridOperatorReceives: '1.10',
      platformReceives: '0.02',
      deviation: { sellerCharge: '0.60', buyerCredit: '0.05' },
    });
  });

  test('curtailment at factor 0.5 keeps half, rounded down to the Wh', () => {
    expect(curtailedKeepWh(10_000n, 5000n)).toBe(5000n);
    expect(curtailedKeepWh(3n, 5000n)).toBe(1n);
    expect(curtailedKeepWh(10_000n, 0n)).toBe(0n);
    expect(curtailedKeepWh(10_000n, 10_000n)).toBe(10_000n);
  });

  test('a trade is settled once every slot is settled or cancelled, cancelled when all are', () => {
    expect(tradeStatus([{ status: 'settled' }, { status: 'confirmed' }])).toBe('confirmed');
    expect(tradeStatus([{ status: 'settled' }, { status: 'cancelled' }])).toBe('settled');
    expect(tradeStatus([{ status: 'cancelled' }])).toBe('cancelled');
  });
});

describe('properties over random slots', () => {
  const wh = fc.bigInt(0n, 50_000_000n);
  const claims = fc.array(fc.tuple(wh, fc.integer({ min: 0, max: 59 })), { minLength: 1, maxLength: 12 });
  const methods = fc.constantFrom('pro_rata' as const, 'fifo' as const);

  test('no allocation exceeds its contracted volume, and together they never exceed the metered', () => {
    fc.assert(
      fc.property(wh, claims, methods, (metered, cs, method) => {
        const list = cs.map(([c, minute], i) => claim(`t${i}`, c, minute));
        const got = allocate(metered, list, method);
        let sum = 0n;
        for (const c of list) {
          const a = got.get(c.key)!;
          expect(a >= 0n && a <= c.contractedWh).toBe(true);
          sum += a;
        }
        expect(sum <= metered).toBe(true);
      }),
    );
  });

  test("every settled slot's flows sum to zero, each line and the total, under both methods", () => {
    const price = fc.bigInt(0n, 50_000n);
    const shortLong = fc.bigInt(0n, 50_000n);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ c: fc.bigInt(0n, 10_000_000n), s: fc.bigInt(0n, 100n), b: fc.bigInt(0n, 100n), price }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.constantFrom('min_of_two' as const, 'deviation' as const),
        shortLong,
        shortLong,
        (slots, method, shortE4, longE4) => {
          const settlement = rules({ method, shortPricePerKwhE4: shortE4, longPricePerKwhE4: longE4 });
          const results = slots.map(({ c, s, b, price: p }) => {
            // allocations are at most the contracted volume (percent of it)
            const r = settleSlot({ ...terms(c, (c * s) / 100n, (c * b) / 100n, settlement), priceE4: p });
            const m = r.money;
            expect(m.buyerPays).toBe(m.sellerReceives + m.gridOperatorReceives + m.platformReceives);
            expect(m.deviation.sellerCharge >= 0n && m.deviation.buyerCredit >= 0n).toBe(true);
            expect(r.settledWh <= c).toBe(true);
            return m;
          });
          const total = sumMoney(results);
          expect(
            total.buyerPays - total.sellerReceives - total.gridOperatorReceives - total.platformReceives,
          ).toBe(0n);
        },
      ),
    );
  });
});
