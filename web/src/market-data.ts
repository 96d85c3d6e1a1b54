// The market's data on the dashboard (issue 20): best supply and demand prices per zone and energy
// type with the last price and the day's VWAP and volume (GET /api/v1/market/summary), a price
// chart of one market (market-chart.ts) and the tape of the latest trades (tape.ts). Live: a
// `market.trade` goes to the tape and the chart at once; the summary is asked for again when a
// trade or a listing event arrives, at most once per SUMMARY_EVERY_MS (a busy market would
// otherwise ask the hub on every event).
import './market-data.css';
import type { EventEnvelope } from '../../src/client/index.js';
import { sentenceFor } from './field-messages.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import { MarketChart } from './market-chart.js';
import type { MarketSummary, TapeTrade } from './market-types.js';
import type { DashboardClient } from './session.js';
import { Tape } from './tape.js';
import { byId, capitalize, ENERGY_TYPES, h, setContent } from './ui.js';

/** The summary is asked for at most this often while events arrive. */
export const SUMMARY_EVERY_MS = 2000;

/** Runs `fn` at most once per `everyMs`: a call within that time runs once at its end. */
export class Throttle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = 0;

  constructor(
    private readonly fn: () => void,
    private readonly everyMs: number,
  ) {}

  schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.everyMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = Date.now();
      this.fn();
    }, wait);
  }
}

const price = (p: string | null) => (p === null ? '—' : fmtDecimal(p));

const typeOrder = (t: string) => {
  const i = (ENERGY_TYPES as readonly string[]).indexOf(t);
  return i < 0 ? ENERGY_TYPES.length : i;
};

export class MarketData {
  private readonly summaryBody = byId<HTMLTableSectionElement>('md-summary-rows');
  private readonly summaryEmpty = byId('md-summary-empty');
  private readonly error = byId('md-error');
  private readonly chart: MarketChart;
  private readonly tape: Tape;
  private readonly summaryRefresh = new Throttle(() => void this.loadSummary(), SUMMARY_EVERY_MS);
  private summaryGen = 0;

  constructor(private readonly client: DashboardClient) {
    this.chart = new MarketChart(client);
    this.tape = new Tape(client);
  }

  /** An event of the feed: trades go to the tape and the chart; the summary follows. */
  onEvent(e: EventEnvelope): void {
    if (e.type === 'market.trade') {
      const t = e.data as TapeTrade;
      this.tape.add(t);
      this.chart.add(t);
      this.summaryRefresh.schedule();
    } else if (e.type.startsWith('listing.') && e.type !== 'listing.matched') {
      this.summaryRefresh.schedule();
    }
  }

  /** After every (re)connect: what was missed meanwhile is in a fresh load of each part. */
  async resync(): Promise<void> {
    this.error.textContent = '';
    const tape = this.tape.load().catch((err) => {
      this.error.textContent = `Trades not loaded: ${sentenceFor(err)}`;
    });
    this.chart.reload();
    await Promise.all([tape, this.loadSummary()]);
  }

  private async loadSummary(): Promise<void> {
    const gen = ++this.summaryGen;
    try {
      const page = await this.client.rest<{ items: MarketSummary[] }>('GET', '/api/v1/market/summary');
      if (gen !== this.summaryGen) return;
      this.renderSummary(page.items);
    } catch (err) {
      if (gen === this.summaryGen) this.error.textContent = `Prices not loaded: ${sentenceFor(err)}`;
    }
  }

  private renderSummary(items: MarketSummary[]): void {
    const sorted = [...items].sort(
      (a, b) => a.zone.localeCompare(b.zone) || typeOrder(a.energyType) - typeOrder(b.energyType),
    );
    setContent(this.summaryBody, ...sorted.map((s) => this.summaryRow(s)));
    this.summaryEmpty.hidden = sorted.length > 0;
    this.chart.fillZones(sorted.map((s) => s.zone));
    // the chart opens on the first market with trades (in the hub's order of zones)
    const traded = items.find((s) => s.lastPrice !== null);
    this.chart.suggest(traded && { zone: traded.zone, energyType: traded.energyType });
  }

  private summaryRow(s: MarketSummary): HTMLTableRowElement {
    const market = `${capitalize(s.energyType)} in ${s.zone}`;
    return h(
      'tr',
      { 'data-testid': 'summary-row', 'data-zone': s.zone, 'data-energy-type': s.energyType },
      h(
        'th',
        { scope: 'row', 'data-label': 'Market' },
        h(
          'button',
          {
            type: 'button',
            class: 'link-button',
            'data-testid': 'summary-chart',
            'aria-label': `Chart the prices of ${market}`,
            onclick: () => this.chart.choose({ zone: s.zone, energyType: s.energyType }),
          },
          h('span', { class: `energy energy-${s.energyType}` }, capitalize(s.energyType)),
          ' ',
          h('span', { class: 'zone' }, s.zone),
        ),
      ),
      h(
        'td',
        { class: 'num mono', 'data-label': 'Best ask', 'data-testid': 'summary-best-supply' },
        price(s.bestSupplyPrice),
      ),
      h(
        'td',
        { class: 'num mono', 'data-label': 'Best bid', 'data-testid': 'summary-best-demand' },
        price(s.bestDemandPrice),
      ),
      h('td', { class: 'num mono', 'data-label': 'Last', 'data-testid': 'summary-last' }, price(s.lastPrice)),
      h(
        'td',
        { class: 'num mono', 'data-label': 'VWAP 24h', 'data-testid': 'summary-vwap' },
        price(s.vwap24h),
      ),
      h(
        'td',
        { class: 'num mono', 'data-label': 'Volume 24h', 'data-testid': 'summary-volume' },
        fmtKwh(s.volume24hKwh),
        h('span', { class: 'block small muted' }, s.trades24h === 1 ? '1 trade' : `${s.trades24h} trades`),
      ),
    );
  }
}
