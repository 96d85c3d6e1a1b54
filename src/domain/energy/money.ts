// Money as integer cents. Every amount starts exact (a notional is exact in 1e-7 of the currency,
// a fee in finer units still) and is rounded once, half-to-even, to the cent (PROTOCOL-MARKET.md, "Money").
import { formatUnits, NOTIONAL_SCALE } from '../quantity.js';

/** Amounts of money carry 2 decimals: the unit is one cent. */
export const CENT_SCALE = 2;

/**
 * `numerator / denominator` rounded to the nearest integer, a tie to the even one (banker's
 * rounding): 2.5 -> 2, 3.5 -> 4, -2.5 -> -2. Exact for any size; `denominator` must be positive.
 */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('roundHalfEven: the denominator must be positive');
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  let q = abs / denominator;
  const twice = (abs % denominator) * 2n;
  if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** Exact integer units at `scale` decimals -> cents, rounded half-to-even (a scale below 2 is exact). */
export function toCents(units: bigint, scale: number): bigint {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`toCents: bad scale ${scale}`);
  if (scale <= CENT_SCALE) return units * 10n ** BigInt(CENT_SCALE - scale);
  return roundHalfEven(units, 10n ** BigInt(scale - CENT_SCALE));
}

/** The cents of volume x price: Wh x (price x 10^4) is exact at 7 decimals, rounded once. */
export const notionalCents = (wh: bigint, priceE4: bigint): bigint => toCents(wh * priceE4, NOTIONAL_SCALE);

/** Cents -> the protocol's money text: 1234n -> "12.34", -5n -> "-0.05". */
export const formatCents = (cents: bigint): string => formatUnits(cents, CENT_SCALE);
