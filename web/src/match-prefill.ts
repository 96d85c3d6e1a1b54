// What an offer made from a match suggestion starts with (suggestions.ts): a pure function, so it
// is tested without a browser.
import type { Listing } from '../../src/client/index.js';
import { compareDecimal, KWH_SCALE } from './decimal.js';

/**
 * The volume and price of an offer on `match` by the owner of `own`: the most both can trade (the
 * smaller available volume), or the match's whole available volume when it is all-or-none (a
 * block is taken whole or not at all), at the match's price.
 */
export function prefillFor(
  own: Pick<Listing, 'availableKwh'>,
  match: Pick<Listing, 'availableKwh' | 'pricePerKwh' | 'allOrNone'>,
): { volumeKwh: string; pricePerKwh: string } {
  const volumeKwh = match.allOrNone
    ? match.availableKwh
    : (compareDecimal(own.availableKwh, match.availableKwh, KWH_SCALE) ?? 0) < 0
      ? own.availableKwh
      : match.availableKwh;
  return { volumeKwh, pricePerKwh: match.pricePerKwh };
}
