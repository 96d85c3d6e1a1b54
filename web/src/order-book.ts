// The market as an order book: listings grouped by delivery period (soonest first), each period
// with supply and demand on their own sides, best price first (supply: lowest ask; demand: highest
// bid), equal prices in posting order (price-time priority). Columns sort; the choice is shared by
// every period and kept with the filters. Prices are compared as exact decimals, never floats.
// A period is shown in its zones' market time: listings of one period whose zones show it alike
// ("Mon, Nov 30 · 13:00 – 14:00 CET") share a group; those shown otherwise (UTC) have their own.
import type { Listing } from '../../src/client/index.js';
import { compareDecimal, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import type { ListingRow } from './listing-row.js';
import { fmtDecimal } from './locale.js';
import { windowParts } from './market-time.js';
import { h, setContent } from './ui.js';

export type SortKey = 'price' | 'available' | 'owner';
export interface Sort {
  key: SortKey;
  /** 1: the natural order (best price first, most available first, A to Z); -1 reversed */
  dir: 1 | -1;
}

const COLUMNS: { key?: SortKey; label: string; num?: boolean }[] = [
  { key: 'owner', label: 'Listing · owner' },
  { key: 'price', label: 'Price', num: true },
  { key: 'available', label: 'Available' },
  { label: 'Actions' },
];

const SIDE_TITLE = {
  supply: 'Supply: sellers, lowest ask first',
  demand: 'Demand: buyers, highest bid first',
};

/** The order of two listings of one side under `sort`; ties by posting time, then id. */
export function compareListings(a: Listing, b: Listing, sort: Sort): number {
  let c = 0;
  if (sort.key === 'price') {
    c = compareDecimal(a.pricePerKwh, b.pricePerKwh, PRICE_SCALE) ?? 0;
    if (a.side === 'demand') c = -c; // the best bid is the highest
  } else if (sort.key === 'available') {
    c = -(compareDecimal(a.availableKwh, b.availableKwh, KWH_SCALE) ?? 0);
  } else {
    c = a.ownerName.localeCompare(b.ownerName, undefined, { sensitivity: 'base' });
  }
  c *= sort.dir;
  if (c === 0) c = a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;
  return c;
}

/** A listing's period as its heading in market time, and its key: ISO start first, so keys sort by time. */
function periodOf(l: Listing): { key: string; day: string; hours: string } {
  const [day, hours] = windowParts(l.deliveryStart, l.deliveryEnd, l.zone);
  return { key: `${l.deliveryStart}|${l.deliveryEnd}|${hours}`, day, hours };
}

/** One delivery period: its heading with the best prices, and a table per side. */
class Period {
  readonly el: HTMLElement;
  readonly rows = new Set<ListingRow>();
  private readonly best = h('span', { class: 'best small', 'data-testid': 'period-best' });
  readonly bodies: Record<Listing['side'], HTMLTableSectionElement>;
  private readonly heads: HTMLTableCellElement[] = [];

  constructor(
    readonly key: string,
    day: string,
    hours: string,
    private readonly book: OrderBook,
  ) {
    this.bodies = { supply: h('tbody', {}), demand: h('tbody', {}) };
    const table = (side: Listing['side']) =>
      h(
        'table',
        { class: `grid book book-${side}`, 'data-testid': `book-${side}` },
        h('caption', { class: 'side-caption' }, SIDE_TITLE[side]),
        h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => this.head(c)))),
        this.bodies[side],
      );
    this.el = h(
      'section',
      {
        class: 'period',
        'data-testid': 'period-group',
        'data-period': key,
        'aria-label': `Delivery ${day} ${hours}`,
      },
      h('h3', { class: 'period-head' }, h('span', {}, `${day} · ${hours}`), this.best),
      h('div', { class: 'book-sides' }, table('supply'), table('demand')),
    );
  }

  private head(c: (typeof COLUMNS)[number]): HTMLTableCellElement {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : undefined });
    if (!c.key) {
      th.append(h('span', { class: 'sr-only' }, c.label));
      return th;
    }
    const key = c.key;
    th.dataset.sort = key;
    th.append(
      h(
        'button',
        { type: 'button', class: 'sort', 'data-testid': `sort-${key}`, onclick: () => this.book.sortBy(key) },
        c.label,
      ),
    );
    this.heads.push(th);
    return th;
  }

  /** aria-sort on the sorted column; the others none. */
  markSort(sort: Sort): void {
    for (const th of this.heads) {
      const table = th.closest('table');
      const demand = table?.classList.contains('book-demand');
      let dir: string = 'none';
      if (th.dataset.sort === sort.key) {
        // what the eye sees: price ascending on supply in the natural order, descending on demand
        const natural = sort.key === 'price' ? (demand ? -1 : 1) : sort.key === 'available' ? -1 : 1;
        dir = natural * sort.dir === 1 ? 'ascending' : 'descending';
      }
      th.setAttribute('aria-sort', dir);
    }
  }

  /** "Best ask 0.1100 · best bid 0.0900 EUR/kWh" from the active rows. */
  updateBest(): void {
    let ask: Listing | undefined;
    let bid: Listing | undefined;
    for (const r of this.rows) {
      const l = r.listing;
      if (l.status !== 'active') continue;
      if (
        l.side === 'supply' &&
        (!ask || (compareDecimal(l.pricePerKwh, ask.pricePerKwh, PRICE_SCALE) ?? 0) < 0)
      )
        ask = l;
      if (
        l.side === 'demand' &&
        (!bid || (compareDecimal(l.pricePerKwh, bid.pricePerKwh, PRICE_SCALE) ?? 0) > 0)
      )
        bid = l;
    }
    const cur = (ask ?? bid)?.currency ?? '';
    setContent(
      this.best,
      ask ? `Best ask ${fmtDecimal(ask.pricePerKwh)}` : 'No ask',
      ' · ',
      bid ? `best bid ${fmtDecimal(bid.pricePerKwh)}` : 'no bid',
      cur ? ` ${cur}/kWh` : '',
    );
    for (const side of ['supply', 'demand'] as const) {
      const body = this.bodies[side];
      const empty = body.querySelector('.empty-side');
      const hasRows = body.querySelector('[data-testid="listing-row"]') !== null;
      if (!hasRows && !empty)
        body.append(
          h(
            'tr',
            { class: 'empty-side' },
            h('td', { colspan: 4, class: 'empty full' }, `No ${side} for this period.`),
          ),
        );
      else if (hasRows && empty) empty.remove();
    }
  }
}

export class OrderBook {
  private readonly periods = new Map<string, Period>();
  /** the row of each table row element, to compare while finding a row's place */
  private readonly byTr = new WeakMap<Element, ListingRow>();
  /** the period each row is placed in (its key may change when the zones' market times arrive) */
  private readonly placed = new WeakMap<ListingRow, Period>();

  constructor(
    private readonly root: HTMLElement,
    private sort: Sort,
    private readonly sorted: (sort: Sort) => void,
  ) {}

  get current(): Sort {
    return this.sort;
  }

  /** Adds a row, or moves it to its place after its price or volume changed. */
  place(row: ListingRow): void {
    const l = row.listing;
    const { key, day, hours } = periodOf(l);
    // moving a row takes keyboard focus away from its buttons: it is given back
    const inRow = row.tr.contains(document.activeElement) || row.detail?.contains(document.activeElement);
    const focused = inRow ? (document.activeElement as HTMLElement) : null;
    const was = this.placed.get(row);
    if (was && was.key !== key) this.remove(row);
    let period = this.periods.get(key);
    if (!period) {
      period = new Period(key, day, hours, this);
      period.markSort(this.sort);
      this.periods.set(key, period);
      let before: Element | null = null;
      for (const el of this.root.children) {
        if (((el as HTMLElement).dataset.period ?? '') > key) {
          before = el;
          break;
        }
      }
      this.root.insertBefore(period.el, before);
    }
    period.rows.add(row);
    this.placed.set(row, period);
    this.byTr.set(row.tr, row);
    const body = period.bodies[l.side];
    let before: Element | null = null;
    for (const tr of body.children) {
      const other = this.byTr.get(tr);
      if (other && other !== row && compareListings(l, other.listing, this.sort) < 0) {
        before = tr;
        break;
      }
    }
    // only move when the place changed; the row's suggestions (suggestions.ts) stay right under it
    const last = row.detail ?? row.tr;
    if (row.tr.parentElement !== body || (before !== row.tr && last.nextElementSibling !== before)) {
      body.insertBefore(row.tr, before);
      if (row.detail) row.tr.after(row.detail);
      if (focused && document.activeElement !== focused) focused.focus({ preventScroll: true });
    }
    period.updateBest();
  }

  remove(row: ListingRow): void {
    const period = this.placed.get(row);
    row.tr.remove();
    row.detail?.remove();
    if (!period) return;
    this.placed.delete(row);
    period.rows.delete(row);
    if (period.rows.size === 0) {
      period.el.remove();
      this.periods.delete(period.key);
    } else period.updateBest();
  }

  sortBy(key: SortKey): void {
    this.sort = { key, dir: this.sort.key === key ? (this.sort.dir === 1 ? -1 : 1) : 1 };
    for (const period of this.periods.values()) {
      period.markSort(this.sort);
      for (const row of period.rows) this.place(row);
    }
    this.sorted(this.sort);
  }
}
