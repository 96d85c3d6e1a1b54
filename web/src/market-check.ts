// A price far from the market is most often a slip (0.0000, a misplaced decimal): before posting
// one, the trader is warned and asked to submit again. The reference is the best opposite price
// for the same delivery period (what the listing would trade against), else the median of that
// period, else the median of the same energy type. All comparisons are on exact integers.
import type { Listing } from '../../src/client/index.js';
import { PRICE_SCALE, toUnits } from './decimal.js';
import { fmtDecimal } from './locale.js';

interface Draft {
  side: string;
  energyType: string;
  pricePerKwh: string;
  deliveryStart: string;
  deliveryEnd: string;
}

const units = (l: Listing) => toUnits(l.pricePerKwh, PRICE_SCALE) ?? 0n;

function median(ls: Listing[]): Listing | undefined {
  const sorted = [...ls].sort((a, b) => (units(a) < units(b) ? -1 : units(a) > units(b) ? 1 : 0));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The reference price and what it is, for a draft listing; undefined with no market to compare. */
function reference(d: Draft, market: Listing[]): { l: Listing; what: string } | undefined {
  const period = market.filter(
    (l) => l.status === 'active' && l.deliveryStart === d.deliveryStart && l.deliveryEnd === d.deliveryEnd,
  );
  const opposite = period.filter((l) => l.side !== d.side);
  if (opposite.length > 0) {
    const best = opposite.reduce((a, b) =>
      d.side === 'supply' ? (units(b) > units(a) ? b : a) : units(b) < units(a) ? b : a,
    );
    return {
      l: best,
      what: d.side === 'supply' ? 'the best bid for this period' : 'the best ask for this period',
    };
  }
  const mid = median(period);
  if (mid) return { l: mid, what: 'the median price for this period' };
  const sameType = median(market.filter((l) => l.status === 'active' && l.energyType === d.energyType));
  return sameType && { l: sameType, what: `the median ${d.energyType} price on the market` };
}

/** A sentence when the draft's price is 0, above 3x or below a third of the reference; else undefined. */
export function farFromMarket(d: Draft, market: Listing[]): string | undefined {
  const p = toUnits(d.pricePerKwh, PRICE_SCALE);
  if (p === undefined) return undefined;
  if (p === 0n) return 'A price of 0 gives the energy away. Submit again to post it anyway.';
  const ref = reference(d, market);
  if (!ref) return undefined;
  const r = units(ref.l);
  if (r === 0n) return undefined;
  const shown = `${fmtDecimal(ref.l.pricePerKwh)} ${ref.l.currency}/kWh`;
  if (p > 3n * r)
    return `This price is more than 3 times ${ref.what} (${shown}). Submit again to post it anyway.`;
  if (3n * p < r)
    return `This price is less than a third of ${ref.what} (${shown}). Submit again to post it anyway.`;
  return undefined;
}
