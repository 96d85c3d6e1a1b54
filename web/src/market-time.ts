// Market time. Every delivery time is shown in its zone's time zone (GET /api/v1/zones `timeZone`),
// labelled with that zone's short name for that date ("CET" in winter, "CEST" in summer), the same in
// a Berlin and a London browser; a zone that is not configured (or before the zones are loaded) is
// shown in UTC, labelled "UTC". Dates and hours are written the reader's way (`Intl`, the browser's
// locale); the label is always the English short name (en-GB), so it reads the same everywhere.
// The post form's wall times are read in the chosen zone's time zone and converted exactly to UTC.
import type { HubClient } from '../../src/client/index.js';

/** A zone as GET /api/v1/zones gives it (the fields the dashboard uses). */
export interface ZoneInfo {
  id: string;
  name: string;
  timeZone: string;
  slotMinutes: number;
  gateLeadMinutes: number;
  /** PROTOCOL-MARKET.md: the zone's market profile (decimal strings) */
  minStepKwh?: string;
  priceTick?: string;
  minPrice?: string;
  maxPrice?: string;
  capFactor?: string;
}

/** The configured zones, by lower-cased id (zone ids compare case-insensitively). */
class MarketZones {
  private readonly byLower = new Map<string, ZoneInfo>();
  private readonly listeners = new Set<() => void>();
  private loaded = false;
  private loading: Promise<boolean> | undefined;

  get ready(): boolean {
    return this.loaded;
  }

  /** The configured zones, in the market's order. */
  list(): ZoneInfo[] {
    return [...this.byLower.values()];
  }

  get(zone: string): ZoneInfo | undefined {
    return this.byLower.get(zone.toLowerCase());
  }

  /** The zone's IANA time zone; UTC for a zone that is not configured. */
  timeZone(zone: string | undefined): string {
    return (zone && this.get(zone)?.timeZone) || 'UTC';
  }

  set(items: ZoneInfo[]): void {
    this.byLower.clear();
    for (const z of items) if (validZone(z.timeZone)) this.byLower.set(z.id.toLowerCase(), z);
    this.loaded = true;
    for (const fn of this.listeners) fn();
  }

  /** Called once the zones are known (to show what was shown in UTC in its market time). */
  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  /** Loads the zones once; false when that failed (then the next call tries again). */
  load(client: Pick<HubClient, 'rest'>): Promise<boolean> {
    if (this.loaded) return Promise.resolve(true);
    this.loading ??= client
      .rest<{ items: ZoneInfo[] }>('GET', '/api/v1/zones')
      .then((page) => {
        this.set(page.items);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

export const marketZones = new MarketZones();

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// --- formatting ----------------------------------------------------------------------------------

const formats = new Map<string, Intl.DateTimeFormat>();
function format(tz: string, kind: 'time' | 'hour' | 'day' | 'label' | 'parts'): Intl.DateTimeFormat {
  const key = `${tz}|${kind}`;
  let f = formats.get(key);
  if (!f) {
    const opts: Record<typeof kind, [string | undefined, Intl.DateTimeFormatOptions]> = {
      time: [undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }],
      hour: [undefined, { hour: '2-digit', minute: '2-digit' }],
      day: [undefined, { weekday: 'short', month: 'short', day: 'numeric' }],
      label: ['en-GB', { timeZoneName: 'short' }],
      parts: [
        'en-GB',
        {
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          hourCycle: 'h23',
        },
      ],
    };
    const [locale, o] = opts[kind];
    f = new Intl.DateTimeFormat(locale, { ...o, timeZone: tz });
    formats.set(key, f);
  }
  return f;
}

/** The time zone's short name on that date: "CET", "CEST", "UTC" (or "GMT+10" where none is known). */
export function tzLabel(tz: string, at: Date | number): string {
  if (tz === 'UTC') return 'UTC';
  return (
    format(tz, 'label')
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? tz
  );
}

/** The wall time of an instant in a time zone, as numbers. */
function wall(
  tz: string,
  at: number,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const n: Record<string, number> = {};
  for (const p of format(tz, 'parts').formatToParts(at))
    if (p.type !== 'literal') n[p.type] = Number(p.value);
  return { y: n.year!, mo: n.month!, d: n.day!, h: n.hour! % 24, mi: n.minute!, s: n.second! };
}

/** How far the time zone's wall clock is ahead of UTC at that instant, in ms. */
function offsetAt(tz: string, at: number): number {
  const w = wall(tz, at);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(at / 1000) * 1000;
}

const dayOf = (tz: string, d: Date) => {
  const w = wall(tz, d.getTime());
  return `${w.y}-${w.mo}-${w.d}`;
};

/** "Nov 27, 11:05 CET": an instant in the zone's market time. */
export function fmtTime(iso: string, zone?: string): string {
  const tz = marketZones.timeZone(zone);
  const d = new Date(iso);
  return `${format(tz, 'time').format(d)} ${tzLabel(tz, d)}`;
}

/** "Nov 27, 11:00" in a time zone, unlabelled (chart ticks; the axis says the label). */
export const fmtDayHour = (ms: number, tz = 'UTC'): string => format(tz, 'time').format(ms);

/** The hours of a window: "11:00 – 12:00 CET" (the end's date when it is another day). */
function hours(s: Date, e: Date, tz: string, startFmt: 'hour' | 'time'): string {
  const end = dayOf(tz, s) === dayOf(tz, e) ? format(tz, 'hour').format(e) : format(tz, 'time').format(e);
  const ls = tzLabel(tz, s);
  const le = tzLabel(tz, e);
  // a window across a daylight saving change says both names
  const from = format(tz, startFmt).format(s);
  return ls === le ? `${from} – ${end} ${le}` : `${from} ${ls} – ${end} ${le}`;
}

/** "Nov 27, 11:00 – 12:00 CET" in the zone's market time. */
export function fmtWindow(start: string, end: string, zone?: string): string {
  return hours(new Date(start), new Date(end), marketZones.timeZone(zone), 'time');
}

/** A delivery window as a day and the hours: ["Fri, Nov 27", "11:00 – 12:00 CET"]. */
export function windowParts(start: string, end: string, zone?: string): [string, string] {
  const tz = marketZones.timeZone(zone);
  const s = new Date(start);
  return [format(tz, 'day').format(s), hours(s, new Date(end), tz, 'hour')];
}

// --- the post form's wall times ------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant as a datetime-local value in the time zone ("2026-11-27T11:00"). */
export function toMarketInput(d: Date, tz: string): string {
  const w = wall(tz, d.getTime());
  return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

export type WallTime =
  | { at: Date; gap?: undefined; repeated?: [Date, Date] }
  | { at?: undefined; gap: true; repeated?: undefined }
  | undefined;

/**
 * A datetime-local value read as wall time in the time zone: the instant, `gap` when the clocks go
 * forward over it (it never happens there), undefined when empty or malformed. When the clocks go
 * back and the hour happens twice, `repeated` holds both instants (earlier first) and `at` the
 * earlier: a form must not take it silently, it asks for a time outside the repeated hour.
 */
export function fromMarketInput(value: string, tz: string): WallTime {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, hh, mi, ss] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, hh!, mi!, ss!);
  const back = new Date(asUtc);
  if (Number.isNaN(asUtc) || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d! || hh! > 23)
    return undefined;
  if (tz === 'UTC') return { at: back };
  // the offset in force just before and just after (a zone changes it at most once a day)
  const offsets = new Set([-1, 0, 1].map((k) => offsetAt(tz, asUtc + k * 86_400_000)));
  const fits = [...offsets]
    .map((o) => asUtc - o)
    .filter((t) => {
      const w = wall(tz, t);
      return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) === asUtc;
    })
    .sort((a, b) => a - b);
  if (fits.length === 0) return { gap: true };
  const at = new Date(fits[0]!);
  return fits.length > 1 ? { at, repeated: [at, new Date(fits[fits.length - 1]!)] } : { at };
}

// --- the slot grid -------------------------------------------------------------------------------

/**
 * An instant on the zone's grid of `slotMinutes` counted from UTC midnight (every slot length
 * divides a day, so that is the grid counted from the epoch): the nearest slot boundary, or the
 * one at or before / at or after it.
 */
export function onGrid(
  at: Date | number,
  slotMinutes: number,
  mode: 'round' | 'floor' | 'ceil' = 'round',
): Date {
  const step = slotMinutes * 60_000;
  const t = typeof at === 'number' ? at : at.getTime();
  return new Date(Math[mode](t / step) * step);
}

/** "14:00 CET" (with the date when it is not today in that time zone): a slot's start. */
export function fmtSlotStart(iso: string, zone?: string): string {
  const tz = marketZones.timeZone(zone);
  const d = new Date(iso);
  const today = dayOf(tz, new Date()) === dayOf(tz, d);
  return `${format(tz, today ? 'hour' : 'time').format(d)} ${tzLabel(tz, d)}`;
}

/**
 * The market's time zone, for what belongs to no one zone (a statement's period): the one the
 * configured zones share, else the first zone's; UTC before the zones are loaded.
 */
export function marketTimeZone(): string {
  const zones = marketZones.list();
  return zones[0]?.timeZone ?? 'UTC';
}

/** A day ("2026-03-01") as the instant its midnight is in `tz` (the first instant of it). */
export function dayStart(day: string, tz: string): Date | undefined {
  const at = fromMarketInput(`${day}T00:00`, tz);
  if (at?.at) return at.at;
  // a midnight the clocks skip: the day starts at 01:00
  return at?.gap ? fromMarketInput(`${day}T01:00`, tz)?.at : undefined;
}

/** "2026-03-01" plus `n` days, on the calendar (no time zone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** This month in `tz`: its first and its last day ("2026-03-01", "2026-03-31"). */
export function thisMonth(tz: string, now = new Date()): [string, string] {
  const today = toMarketInput(now, tz).slice(0, 10);
  const first = `${today.slice(0, 7)}-01`;
  const d = new Date(`${first}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return [first, addDays(d.toISOString().slice(0, 10), -1)];
}
