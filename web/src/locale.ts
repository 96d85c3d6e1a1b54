// The reader's locale. Numbers are shown the way the browser's locale writes them
// (a German reads "187.500 kWh" as 187 thousand, so the hub's "187.500" becomes "187,500" there),
// built from the decimal's own digits: a value the hub sent is never turned into a float. Inputs take
// the locale's decimal separator and become the hub's form ("12,5" in de-DE is "12.5").
// Market time (delivery times in each zone's time zone, labelled) is in market-time.ts.
import { fromUnits, toUnits, trimZeros } from './decimal.js';

const parts = new Intl.NumberFormat().formatToParts(12345.6);
/** the locale's decimal separator: "." or "," (or another) */
export const DECIMAL_SEP = parts.find((p) => p.type === 'decimal')?.value ?? '.';
const intFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** "187.500" as "187.500" (en) or "187,500" (de); "1234.5" as "1,234.5" / "1.234,5". Exact. */
export function fmtDecimal(value: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return value;
  const int = intFormat.format(BigInt(m[2]!));
  return `${m[1]}${int}${m[3] !== undefined ? `${DECIMAL_SEP}${m[3]}` : ''}`;
}

export const fmtKwh = (value: string): string => `${fmtDecimal(value)} kWh`;

/** A notional (scale 7) as money: trailing zeros dropped down to cents, never rounded. */
export const fmtMoney = (value: string, currency: string): string =>
  `${fmtDecimal(trimZeros(value))} ${currency}`;

/** A hub decimal as an input's value in the locale's form, without grouping ("12,500" in de). */
export const toInput = (value: string): string => value.replace('.', DECIMAL_SEP);

export type Parsed = { value: string; error?: undefined } | { value?: undefined; error: string };

/**
 * What a trader typed, as the hub's decimal at `scale` ("12,5" in de-DE: "12.500" at scale 3).
 * Thousands separators are refused rather than guessed: "1.000" in a comma locale could be one
 * or a thousand, and money must not be guessed.
 */
export function parseInput(text: string, scale: number, what: string, sep = DECIMAL_SEP): Parsed {
  let t = text.trim().replace(/[\s\u00a0\u202f']/g, '');
  if (!t) return { error: `Enter the ${what}.` };
  const example = `12${sep}5`;
  if (sep === ',') {
    if (t.includes(',') && t.includes('.'))
      return { error: `Write the ${what} without a thousands separator, e.g. 1234${sep}5.` };
    if (/^\d{1,3}(\.\d{3})+$/.test(t))
      return {
        error: `Is that ${t.replaceAll('.', '')} or ${t.replace('.', ',')}? Write decimals with a comma (${example}) and no thousands separator.`,
      };
    t = t.replace(',', '.');
  } else if (t.includes(',')) {
    return { error: `Write the ${what} with a point for decimals (${example}) and no thousands separator.` };
  }
  if (!/^\d+(\.\d*)?$/.test(t)) return { error: `The ${what} must be a number like ${example}.` };
  if (t.endsWith('.')) t = t.slice(0, -1);
  const decimals = t.split('.')[1]?.length ?? 0;
  if (decimals > scale) return { error: `The ${what} takes at most ${scale} decimals.` };
  return { value: fromUnits(toUnits(t, scale)!, scale) };
}
