// Exact decimal quantities as integers of their smallest unit. No floating point touches them.
import { UNSAFE_NUMBER_MESSAGE, UnsafeNumber } from './json.js';

/** kWh carry 3 decimals: the unit is one Wh. */
export const KWH_SCALE = 3;
/** Prices per kWh carry 4 decimals. */
export const PRICE_SCALE = 4;
/** volume (3) x price (4): a notional is exact at 7 decimals. */
export const NOTIONAL_SCALE = KWH_SCALE + PRICE_SCALE;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export type ParseResult = { ok: true; units: bigint } | { ok: false; message: string };

/**
 * Reads a JSON number or decimal string into integer units at `scale` decimals.
 * More decimals than the scale is refused, never rounded. Bounds are inclusive, in units.
 * A JSON number arrives as a number only when its text had at most 15 significant digits
 * (src/domain/json.ts), so its shortest round-trip text has exactly the value that was sent.
 */
export function parseDecimal(
  input: unknown,
  scale: number,
  bounds: { min: bigint; max: bigint },
): ParseResult {
  let text: string;
  if (typeof input === 'string') text = input.trim();
  else if (typeof input === 'number' && Number.isFinite(input)) {
    // A JSON number's shortest round-trip text is what the sender wrote (0.1 -> "0.1").
    text = String(input);
  } else if (input instanceof UnsafeNumber) return { ok: false, message: UNSAFE_NUMBER_MESSAGE };
  else return { ok: false, message: 'must be a decimal number or string' };
  const negative = text.startsWith('-');
  const m = DECIMAL.exec(negative ? text.slice(1) : text);
  if (!m) return { ok: false, message: 'must be a plain decimal such as "12.5"' };
  const frac = m[2] ?? '';
  if (frac.length > scale) return { ok: false, message: `must have at most ${scale} decimals` };
  if (m[1]!.length > 18) return { ok: false, message: 'is too large' };
  let units = BigInt(m[1]!) * 10n ** BigInt(scale) + BigInt(frac.padEnd(scale, '0') || '0');
  if (negative) units = -units;
  if (units < bounds.min) return { ok: false, message: `must be at least ${formatUnits(bounds.min, scale)}` };
  if (units > bounds.max) return { ok: false, message: `must be at most ${formatUnits(bounds.max, scale)}` };
  return { ok: true, units };
}

/** Integer units -> canonical fixed-scale string: 12500n at 3 -> "12.500". */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const s = abs.toString().padStart(scale + 1, '0');
  const out = scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  return negative ? `-${out}` : out;
}

export const formatKwh = (wh: bigint): string => formatUnits(wh, KWH_SCALE);
export const formatPrice = (e4: bigint): string => formatUnits(e4, PRICE_SCALE);
/** volume x price, exact: Wh x (price x 10^4) has 7 decimals. */
export const formatNotional = (wh: bigint, e4: bigint): string => formatUnits(wh * e4, NOTIONAL_SCALE);

/** Largest volume of one listing or swap: 1 TWh. */
export const MAX_WH = 1_000_000_000_000n;
/** Largest price per kWh: 1,000,000 units of currency. */
export const MAX_PRICE_E4 = 10_000_000_000n;
