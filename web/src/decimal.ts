// Decimals arrive as fixed-scale strings ("12.500", "0.1200") and stay strings. The only
// arithmetic the dashboard needs (the share of a listing still available) is done on integers.

export const KWH_SCALE = 3;
export const PRICE_SCALE = 4;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "12.5" at scale 3 is 12500n; undefined when the string is not a plain non-negative decimal. */
export function toUnits(value: string, scale: number): bigint | undefined {
  const m = DECIMAL.exec(value.trim());
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  if (fraction.length > scale) return undefined;
  return BigInt(m[1]! + fraction.padEnd(scale, '0'));
}

/** Whether an input is a decimal the hub takes at this scale (no silent rounding anywhere). */
export const isDecimal = (value: string, scale: number): boolean => toUnits(value, scale) !== undefined;

/** part / whole in thousandths, 0..1000, computed on integers. */
export function perMille(part: string, whole: string, scale: number): number {
  const p = toUnits(part, scale);
  const w = toUnits(whole, scale);
  if (p === undefined || w === undefined || w === 0n) return 0;
  const r = (p * 1000n) / w;
  return Number(r < 0n ? 0n : r > 1000n ? 1000n : r);
}

/** A regex source for `pattern` attributes: digits with at most `scale` decimals. */
export const decimalPattern = (scale: number): string => `\\d+(\\.\\d{1,${scale}})?`;

/** "4.6000000" as "4.60": trailing zeros dropped, at least 2 decimals; exact, no rounding. */
export function trimZeros(value: string): string {
  const [int, frac = ''] = value.split('.');
  const kept = frac.replace(/0+$/, '').padEnd(2, '0');
  return `${int}.${kept}`;
}

/** 12500n at scale 3 as "12.500": the hub's fixed-scale form, built from digits, never a float. */
export function fromUnits(units: bigint, scale: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`; undefined when either is not a decimal. */
export function compareDecimal(a: string, b: string, scale: number): -1 | 0 | 1 | undefined {
  const x = toUnits(a, scale);
  const y = toUnits(b, scale);
  if (x === undefined || y === undefined) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** volume x price, exact: kWh (scale 3) times price (scale 4) is money at scale 7, as a string. */
export function notional(volumeKwh: string, pricePerKwh: string): string | undefined {
  const v = toUnits(volumeKwh, KWH_SCALE);
  const p = toUnits(pricePerKwh, PRICE_SCALE);
  if (v === undefined || p === undefined) return undefined;
  return fromUnits(v * p, KWH_SCALE + PRICE_SCALE);
}
