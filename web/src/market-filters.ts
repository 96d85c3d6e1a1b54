// The market's filters and sort, kept across reloads: in the address (so a link or a return after
// login shows the same market) and in localStorage (so a fresh visit starts where the last ended).
// The stored copy names the trader it belongs to: another trader logging in on this browser starts
// from the defaults, not from the last one's filters ("mine only" would mean someone else).
// Zones match whatever their case: a typed zone is matched to a known one ("de-north" is DE-North);
// the known zones are offered in a datalist: the configured ones first (GET /api/v1/zones, with
// their names), then those seen in listings.
import type { Listing } from '../../src/client/index.js';
import { marketZones } from './market-time.js';
import type { Sort, SortKey } from './order-book.js';
import { byId, h } from './ui.js';

export interface Filter {
  energyType: string;
  zone: string;
  side: '' | Listing['side'];
  /** only this trader's own listings */
  mine: boolean;
}

const STORE = 'renex.marketView';
/** the built-in market's zones, offered until the configured ones are loaded */
const DEMO_ZONES = ['DE-North', 'DE-South', 'NL'];
export const ZONE = /^[A-Za-z0-9_-]{1,64}$/;

/** The configured zones and every zone seen, by lower case, and the datalist offering them. */
export class KnownZones {
  private readonly seen = new Map<string, string>();
  private readonly list = byId<HTMLDataListElement>('known-zones');

  constructor() {
    this.render();
    marketZones.onChange(() => this.render());
  }

  add(zone: string): void {
    const key = zone.toLowerCase();
    if (this.seen.has(key)) return;
    this.seen.set(key, zone);
    if (!marketZones.get(zone)) this.render();
  }

  private render(): void {
    const configured = marketZones.list();
    const fallback = marketZones.ready ? [] : DEMO_ZONES.filter((z) => !this.seen.has(z.toLowerCase()));
    const others = [...this.seen.values(), ...fallback]
      .filter((z) => !marketZones.get(z))
      .sort((a, b) => a.localeCompare(b));
    this.list.replaceChildren(
      // the browser shows the id (the value) with the name and the market time beside it
      ...configured.map((z) => h('option', { value: z.id, label: `${z.name} · ${z.timeZone}` })),
      ...others.map((z) => h('option', { value: z })),
    );
  }

  /** The known spelling of a zone typed in any case (the configured one first); as typed when unknown. */
  canonical(zone: string): string {
    const demo = marketZones.ready
      ? undefined
      : DEMO_ZONES.find((z) => z.toLowerCase() === zone.toLowerCase());
    return marketZones.get(zone)?.id ?? this.seen.get(zone.toLowerCase()) ?? demo ?? zone;
  }
}

const SORT_KEYS: SortKey[] = ['price', 'available', 'owner'];

/** This trader's stored filter and sort (nothing when they were stored for another trader). */
function stored(userId: string): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(STORE) ?? '{}') as { userId?: unknown; values?: unknown };
    if (v.userId !== userId || !v.values || typeof v.values !== 'object') return {};
    return Object.fromEntries(
      Object.entries(v.values as Record<string, unknown>).filter(([, x]) => typeof x === 'string'),
    ) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Filter and sort from the address, else from this trader's last visit, else the defaults. */
export function loadView(userId: string): { filter: Filter; sort: Sort } {
  const q = new URLSearchParams(location.search);
  const kept = stored(userId);
  const fromUrl = ['type', 'zone', 'side', 'mine', 'sort'].some((k) => q.has(k));
  const get = (k: string) => (fromUrl ? (q.get(k) ?? '') : (kept[k] ?? ''));
  const side = get('side');
  const [key, dir] = get('sort').split(':');
  return {
    filter: {
      energyType: get('type'),
      zone: ZONE.test(get('zone')) ? get('zone') : '',
      side: side === 'supply' || side === 'demand' ? side : '',
      mine: get('mine') === '1',
    },
    sort: {
      key: SORT_KEYS.includes(key as SortKey) ? (key as SortKey) : 'price',
      dir: dir === 'desc' ? -1 : 1,
    },
  };
}

/** Writes filter and sort to the address (replacing, not adding history) and to localStorage, for this trader. */
export function saveView(userId: string, filter: Filter, sort: Sort): void {
  const values: Record<string, string> = {};
  if (filter.energyType) values.type = filter.energyType;
  if (filter.zone) values.zone = filter.zone;
  if (filter.side) values.side = filter.side;
  if (filter.mine) values.mine = '1';
  if (sort.key !== 'price' || sort.dir !== 1) values.sort = `${sort.key}:${sort.dir === 1 ? 'asc' : 'desc'}`;
  localStorage.setItem(STORE, JSON.stringify({ userId, values }));
  const q = new URLSearchParams(values).toString();
  history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}${location.hash}`);
}

/** The address without the market's filters and sort (after a sign-out: they were that trader's). */
export function clearAddressView(): void {
  const q = new URLSearchParams(location.search);
  for (const k of ['type', 'zone', 'side', 'mine', 'sort']) q.delete(k);
  const rest = q.toString();
  history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}

/** Puts a filter into the form's fields. */
export function fillForm(form: HTMLFormElement, f: Filter): void {
  (form.elements.namedItem('energyType') as HTMLSelectElement).value = f.energyType;
  (form.elements.namedItem('zone') as HTMLInputElement).value = f.zone;
  (form.elements.namedItem('side') as HTMLSelectElement).value = f.side;
  (form.elements.namedItem('mine') as HTMLInputElement).checked = f.mine;
}
