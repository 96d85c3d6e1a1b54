// The market's filters and sort, kept across reloads: in the address (so a link or a return after
// login shows the same market) and in localStorage (so a fresh visit starts where the last ended).
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

/** Filter and sort from the address, else from the last visit, else the defaults. */
export function loadView(): { filter: Filter; sort: Sort } {
  const q = new URLSearchParams(location.search);
  let stored: Record<string, string> = {};
  try {
    stored = JSON.parse(localStorage.getItem(STORE) ?? '{}');
  } catch {}
  const fromUrl = ['type', 'zone', 'side', 'mine', 'sort'].some((k) => q.has(k));
  const get = (k: string) => (fromUrl ? (q.get(k) ?? '') : (stored[k] ?? ''));
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

/** Writes filter and sort to the address (replacing, not adding history) and to localStorage. */
export function saveView(filter: Filter, sort: Sort): void {
  const values: Record<string, string> = {};
  if (filter.energyType) values.type = filter.energyType;
  if (filter.zone) values.zone = filter.zone;
  if (filter.side) values.side = filter.side;
  if (filter.mine) values.mine = '1';
  if (sort.key !== 'price' || sort.dir !== 1) values.sort = `${sort.key}:${sort.dir === 1 ? 'asc' : 'desc'}`;
  localStorage.setItem(STORE, JSON.stringify(values));
  const q = new URLSearchParams(values).toString();
  history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}${location.hash}`);
}

/** Puts a filter into the form's fields. */
export function fillForm(form: HTMLFormElement, f: Filter): void {
  (form.elements.namedItem('energyType') as HTMLSelectElement).value = f.energyType;
  (form.elements.namedItem('zone') as HTMLInputElement).value = f.zone;
  (form.elements.namedItem('side') as HTMLSelectElement).value = f.side;
  (form.elements.namedItem('mine') as HTMLInputElement).checked = f.mine;
}
