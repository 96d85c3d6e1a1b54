// The reader's locale and market time. Numbers are shown the way the browser's locale writes them
// (a German reads "187.500 kWh" as 187 thousand, so the hub's "187.500" becomes "187,500" there),
// built from the decimal's own digits: a value the hub sent is never turned into a float. Inputs take
// the locale's decimal separator and become the hub's form ("12,5" in de-DE is "12.5").
// Every delivery time is market time: UTC, labelled, until zones carry a timeZone.
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

// --- market time (UTC) ---------------------------------------------------------------------------

export const MARKET_TZ_LABEL = 'UTC';

const utc = (opts: Intl.DateTimeFormatOptions) =>
  new Intl.DateTimeFormat(undefined, { ...opts, timeZone: 'UTC' });
const timeFmt = utc({ month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const hourFmt = utc({ hour: '2-digit', minute: '2-digit' });
const dayFmt = utc({ weekday: 'short', month: 'short', day: 'numeric' });
const sameUtcDay = (a: Date, b: Date) => a.toISOString().slice(0, 10) === b.toISOString().slice(0, 10);

/** "Nov 27, 10:05 UTC". */
export const fmtTime = (iso: string): string => `${timeFmt.format(new Date(iso))} ${MARKET_TZ_LABEL}`;

/** "Nov 27, 10:00 UTC" for a chart tick or a short mention. */
export const fmtDayHour = (ms: number): string => timeFmt.format(new Date(ms));

/** "Nov 27, 10:00 – 11:00 UTC" (the end date is repeated only when it differs). */
export function fmtWindow(start: string, end: string): string {
  const s = new Date(start);
  const e = new Date(end);
  return `${timeFmt.format(s)} – ${sameUtcDay(s, e) ? hourFmt.format(e) : timeFmt.format(e)} ${MARKET_TZ_LABEL}`;
}

/** A delivery window as a day and the hours: ["Fri, Nov 27", "10:00 – 11:00 UTC"]. */
export function windowParts(start: string, end: string): [string, string] {
  const s = new Date(start);
  const e = new Date(end);
  const until = sameUtcDay(s, e) ? hourFmt.format(e) : timeFmt.format(e);
  return [dayFmt.format(s), `${hourFmt.format(s)} – ${until} ${MARKET_TZ_LABEL}`];
}

/** A Date as a datetime-local input value in UTC ("2026-11-27T10:00"). */
export const utcInput = (d: Date): string => d.toISOString().slice(0, 16);

/** A datetime-local value read as UTC; undefined when empty or malformed. */
export function fromUtcInput(value: string): Date | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value)) return undefined;
  const d = new Date(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
