// The tape: the market's latest trades, newest first. The first page comes from
// GET /api/v1/market/trades, then each `market.trade` of the feed is added live. Rows are keyed by
// the tape's id, so a trade both in the page and on the feed (a reload racing with live events)
// shows once; only the newest TAPE_ROWS are kept.
import { fmtDecimal } from './locale.js';
import { fmtTime, fmtWindow } from './market-time.js';
import type { TapeTrade } from './market-types.js';
import type { Page } from './page.js';
import type { DashboardClient } from './session.js';
import { byId, capitalize, h, setContent } from './ui.js';

/** How many trades the tape shows. */
export const TAPE_ROWS = 50;

/** newest first: by trade time, then id (the hub's own order) */
const newestFirst = (a: TapeTrade, b: TapeTrade) =>
  a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

export class Tape {
  private readonly body = byId<HTMLTableSectionElement>('tape-rows');
  private readonly empty = byId('tape-empty');
  private items: TapeTrade[] = [];
  private readonly fresh = new Set<string>();
  private generation = 0;
  /** trades seen on the feed while a page is loading, merged into its answer */
  private duringLoad: TapeTrade[] | undefined;

  constructor(private readonly client: DashboardClient) {}

  /** The first page again (after every (re)connect: what was missed meanwhile is in it). */
  async load(): Promise<void> {
    const gen = ++this.generation;
    this.duringLoad = [];
    try {
      const page = await this.client.rest<Page<TapeTrade>>('GET', `/api/v1/market/trades?limit=${TAPE_ROWS}`);
      if (gen !== this.generation) return;
      this.items = [];
      this.merge([...page.items, ...this.duringLoad]);
    } finally {
      if (gen === this.generation) this.duringLoad = undefined;
    }
  }

  /** A `market.trade` from the feed. */
  add(t: TapeTrade): void {
    this.duringLoad?.push(t);
    if (this.items.some((x) => x.id === t.id)) return;
    this.fresh.add(t.id);
    this.merge([t]);
  }

  private merge(trades: TapeTrade[]): void {
    const byId = new Map(this.items.map((t) => [t.id, t]));
    for (const t of trades) byId.set(t.id, t);
    this.items = [...byId.values()].sort(newestFirst).slice(0, TAPE_ROWS);
    this.render();
  }

  private render(): void {
    setContent(this.body, ...this.items.map((t) => this.row(t)));
    this.empty.hidden = this.items.length > 0;
    this.body.closest('table')!.dataset.count = String(this.items.length);
  }

  private row(t: TapeTrade): HTMLTableRowElement {
    const tr = h(
      'tr',
      { 'data-testid': 'tape-row', 'data-trade-id': t.id, class: this.fresh.has(t.id) ? 'fresh' : undefined },
      h('td', { 'data-label': 'Time', class: 'small tape-time' }, fmtTime(t.at, t.zone)),
      h(
        'td',
        { 'data-label': 'Market' },
        h(
          'span',
          { class: 'nowrap' },
          h('span', { class: `energy energy-${t.energyType}` }, capitalize(t.energyType)),
          ' ',
          h('span', { class: 'zone', 'data-testid': 'tape-zone' }, t.zone),
        ),
        h(
          'span',
          { class: 'block small muted', 'data-testid': 'tape-delivery' },
          fmtWindow(t.deliveryStart, t.deliveryEnd, t.zone),
        ),
      ),
      h(
        'td',
        { 'data-label': 'Volume (kWh)', class: 'num mono', 'data-testid': 'tape-volume' },
        fmtDecimal(t.volumeKwh),
      ),
      h(
        'td',
        { 'data-label': 'Price', class: 'num mono', 'data-testid': 'tape-price' },
        fmtDecimal(t.pricePerKwh),
      ),
    );
    // the highlight of a live trade fades once; later renders show it plain
    this.fresh.delete(t.id);
    return tr;
  }
}
