// Matching's pure rules (PROTOCOL-MARKET.md, "Market data and matching"): the zones a listing can
// trade with, the landed price with fees, the ranking, and the crossing test of `listing.matched`.
// End to end on PostgreSQL and two nodes: test/market/matches.test.ts.
import { describe, expect, test } from 'vitest';
import { landedExact, landedPriceE4 } from '../../src/domain/energy/fees.js';
import { crosses, rankMatches, tradableZones } from '../../src/domain/energy/matching.js';
import { feeSchedule } from '../../src/domain/energy/trading.js';
import { parseMarketConfig } from '../../src/domain/energy/zones.js';
import type { Listing } from '../../src/domain/listing.js';
import { formatPrice } from '../../src/domain/quantity.js';

const parsed = parseMarketConfig({
  zones: [
    { id: 'A' },
    { id: 'B', fees: { platformPercent: '0.5', wheelingSellerPerKwh: '0.0050' } },
    { id: 'C', slotMinutes: 15 },
    { id: 'D' },
  ],
  interZoneWheelingPerKwh: { 'B->A': '0.0200', 'A->C': '0.0100', 'C->A': '0.0100' },
});
if (!parsed.ok) throw new Error(parsed.message);
const market = parsed.profile;

const NOW = new Date('2030-01-01T00:00:00Z');
let n = 0;
function listing(over: Partial<Listing>): Listing {
  const start = new Date('2030-01-02T10:00:00Z');
  return {
    id: `l${String(++n).padStart(3, '0')}`,
    ownerId: 'o1',
    ownerName: 'O',
    side: 'supply',
    energyType: 'solar',
    volumeWh: 5000n,
    availableWh: 5000n,
    priceE4: 1000n,
    currency: 'EUR',
    deliveryStart: start,
    deliveryEnd: new Date(start.getTime() + 3_600_000),
    zone: 'A',
    description: '',
    status: 'active',
    version: 1,
    createdAt: new Date(NOW.getTime() + n),
    updatedAt: NOW,
    meterId: 'm',
    slotMinutes: 60,
    allOrNone: false,
    gateClosesAt: new Date(start.getTime() - 3_600_000),
    ...over,
  };
}

describe('matching', () => {
  test('tradable zones: its own, and each of the same grid linked the way the energy flows', () => {
    expect(tradableZones(market, 'A', 'demand')).toEqual(['A', 'B']); // B -> A; C is on another grid
    expect(tradableZones(market, 'A', 'supply')).toEqual(['A']); // no A -> B
    expect(tradableZones(market, 'b', 'supply')).toEqual(['B', 'A']);
    expect(tradableZones(market, 'D', 'demand')).toEqual(['D']);
    expect(tradableZones(market, 'gone', 'demand')).toEqual([]);
  });

  test('landed prices: fees added for a buyer, taken for a seller, the platform fee capped, exact before rounding', () => {
    const landed = (seller: string, buyer: string, price: bigint, side: 'buyer' | 'seller') =>
      formatPrice(landedPriceE4(landedExact(feeSchedule(market, seller, buyer), price, side)));
    expect(landed('A', 'A', 1234n, 'buyer')).toBe('0.1496'); // 0.1234 + 0.0250 + 0.001234
    expect(landed('B', 'A', 1100n, 'buyer')).toBe('0.1561'); // + 0.0200 from B
    expect(landed('A', 'A', 5000n, 'buyer')).toBe('0.5292'); // 1 % is 0.005, capped at 0.0042
    expect(landed('B', 'A', 2100n, 'seller')).toBe('0.2040'); // 0.2100 - 0.0050 - 0.00105, half-to-even
    expect(landed('A', 'A', 2000n, 'seller')).toBe('0.1680'); // 0.2000 - 0.0300 - 0.0020
    // two prices that round to one landed price still compare apart
    const a = landedExact(feeSchedule(market, 'A', 'A'), 1234n, 'buyer');
    const b = landedExact(feeSchedule(market, 'A', 'A'), 1235n, 'buyer');
    expect(a < b).toBe(true);
  });

  test('ranking: best landed for the owner first, then the older, then the id; at most the limit', () => {
    const demand = listing({ side: 'demand', ownerId: 'buyer', priceE4: 2000n });
    const s1 = listing({ priceE4: 1234n });
    const s2 = listing({ priceE4: 1100n, zone: 'B' });
    const s3 = listing({ priceE4: 1234n });
    const s4 = listing({ priceE4: 1320n });
    const ranked = rankMatches(market, demand, [s4, s3, s2, s1], 10);
    expect(ranked.map((m) => [m.listing.id, formatPrice(m.landedE4)])).toEqual([
      [s1.id, '0.1496'],
      [s3.id, '0.1496'],
      [s2.id, '0.1561'],
      [s4.id, '0.1583'],
    ]);
    expect(rankMatches(market, demand, [s4, s3, s2, s1], 2).map((m) => m.listing.id)).toEqual([s1.id, s3.id]);
    const supply = listing({ zone: 'B', ownerId: 'seller' });
    const dA = listing({ side: 'demand', priceE4: 2000n });
    const dB = listing({ side: 'demand', priceE4: 2100n, zone: 'B' });
    expect(rankMatches(market, supply, [dA, dB], 10).map((m) => m.listing.id)).toEqual([dB.id, dA.id]);
  });

  test('crossing: tradable, another owner, the other side and type, a linked zone, overlapping, prices crossed', () => {
    const supply = listing({ ownerId: 'seller', priceE4: 1200n });
    const zones = tradableZones(market, 'A', 'supply');
    const demand = (over: Partial<Listing>) =>
      listing({ side: 'demand', ownerId: 'buyer', priceE4: 1500n, ...over });
    expect(crosses(supply, demand({}), zones, NOW)).toBe(true);
    expect(crosses(supply, demand({ priceE4: 1200n }), zones, NOW)).toBe(true); // equal prices cross
    expect(crosses(supply, demand({ priceE4: 1199n }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ ownerId: 'seller' }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ side: 'supply' }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ energyType: 'wind' }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ zone: 'B' }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ status: 'filled' }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ availableWh: 0n }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ meterId: null }), zones, NOW)).toBe(false);
    expect(crosses(supply, demand({ gateClosesAt: NOW }), zones, NOW)).toBe(false);
    expect(
      crosses(
        supply,
        demand({
          deliveryStart: supply.deliveryEnd,
          deliveryEnd: new Date(supply.deliveryEnd.getTime() + 3_600_000),
        }),
        zones,
        NOW,
      ),
    ).toBe(false);
  });
});
