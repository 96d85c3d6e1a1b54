// The reader's locale. Numbers are shown the way the browser's locale writes them
// (a German reads "187.500 kWh" as 187 thousand, so the hub's "187.500" becomes "187,500" there),
// built from the decimal's own digits: a value the hub sent is never turned into a float. Inputs take
// the locale's decimal separator and become the hub's form ("12,5" in de-DE is "12.5").
// Market time (delivery times in each zone's time zone, labelled) is in market-time.ts.
// Numbers are written with Latin digits in every locale (`numberingSystem: 'latn'`), so a number
// never mixes scripts; Arabic-Indic and Persian digits typed in an input are read all the same.
import { fromUnits, toUnits, trimZeros } from './decimal.js';

/** The decimal separator of `locale` (the browser's by default) as numbers are shown here. */
export const decimalSep = (locale?: string): string =>
  new Intl.NumberFormat(locale, { numberingSystem: 'latn' })
    .formatToParts(12345.6)
    .find((p) => p.type === 'decimal')?.value ?? '.';

/** the locale's decimal separator: "." or "," (or another) */
export const DECIMAL_SEP = decimalSep();
const intFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0, numberingSystem: 'latn' });

/** "187.500" as "187.500" (en) or "187,500" (de); "1234.5" as "1,234.5" / "1.234,5". Exact. */
export function fmtDecimal(value: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return value;
  const int = intFormat.format(BigInt(m[2]!));
  return `${m[1]}${int}${m[3] !== undefined ? `${DECIMAL_SEP}${m[3]}` : ''}`;
}

export const fmtKwh = (value: string): string => `${fmtDecimal(value)} kWh`;

/**
 * A notional (scale 7) as money: trailing zeros dropped down to cents, never rounded. Without a
 * currency (not known yet) the amount stands alone: a wrong currency is never named.
 */
export const fmtMoney = (value: string, currency?: string): string =>
  `${fmtDecimal(trimZeros(value))}${currency ? ` ${currency}` : ''}`;

/** A price per kWh: "0.0900 EUR/kWh", or "0.0900/kWh" while the currency is not known. */
export const fmtPrice = (value: string, currency?: string): string =>
  `${fmtDecimal(value)} ${currency ? `${currency}/kWh` : 'per kWh'}`;

/** A hub decimal as an input's value in the locale's form, without grouping ("12,500" in de). */
export const toInput = (value: string, sep = DECIMAL_SEP): string => value.replace('.', sep);

/** Arabic-Indic (U+0660–0669) and Persian (U+06F0–06F9) digits as ASCII; the Arabic decimal separator as `sep`. */
const latinDigits = (text: string, sep: string): string =>
  text
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/\u066b/g, sep === ',' ? ',' : '.');

/** Spaces and apostrophes that group thousands in some locales ("12 345", "12'345"). */
const GROUP = "[\\s\\u00a0\\u202f'\\u2019\\u066c]";

export type Parsed = { value: string; error?: undefined } | { value?: undefined; error: string };

/**
 * What a trader typed, as the hub's decimal at `scale` ("12,5" in de-DE: "12.500" at scale 3).
 * Thousands separators are refused rather than guessed: "1.000" in a comma locale could be one
 * or a thousand, and money must not be guessed.
 */
export function parseInput(text: string, scale: number, what: string, sep = DECIMAL_SEP): Parsed {
  let t = latinDigits(text.trim(), sep);
  if (!t) return { error: `Enter the ${what}.` };
  const example = `12${sep}5`;
  // a decimal separator other than "." and "," (one the locale writes) is read as the hub's "."
  if (sep !== '.' && sep !== ',') {
    t = t.replaceAll(sep, '.');
    sep = '.';
  }
  // grouping by spaces or apostrophes only where it is exactly thousands: "12 345,5", never "12 5"
  const grouped = new RegExp(`^(\\d{1,3})((?:${GROUP}\\d{3})+)([.,]\\d*)?$`).exec(t);
  if (grouped) {
    const seps = new Set(grouped[2]!.replace(/\d/g, ''));
    if (seps.size === 1) t = `${grouped[1]}${grouped[2]!.replace(/\D/g, '')}${grouped[3] ?? ''}`;
  }
  if (new RegExp(GROUP).test(t)) return { error: `The ${what} must be a number like ${example}.` };
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
