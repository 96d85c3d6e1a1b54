// My trades: GET /api/v1/trades as a table, a uPlot price chart per energy type, and the CSV ledger.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { HubClientError } from '../../src/client/index.js';
import { trimZeros } from './decimal.js';
import type { Page } from './page.js';
import type { DashboardClient } from './session.js';
import {
  badge,
  busy,
  byId,
  capitalize,
  ENERGY_TYPES,
  fmtClock,
  fmtTime,
  fmtWindow,
  h,
  setContent,
} from './ui.js';

/** A trade as GET /api/v1/trades lists it (the client exports no type for it). */
export interface Trade {
  swapId: string;
  listingId: string;
  side: 'buy' | 'sell';
  counterpartyId: string;
  energyType: string;
  zone: string;
  volumeKwh: string;
  pricePerKwh: string;
  notional: string;
  currency?: string;
  deliveryStart: string;
  deliveryEnd: string;
  acceptedAt: string;
}

const COLORS: Record<string, string> = {
  solar: '#f5c518',
  wind: '#5ec8f2',
  hydro: '#4f7cff',
  biomass: '#7ccf62',
  geothermal: '#f0703a',
  other: '#b0b7c3',
};

const CHART_HEIGHT = 220;

export class Trades {
  private readonly tbody = byId<HTMLTableSectionElement>('trade-rows');
  private readonly chartBox = byId('price-chart');
  private readonly error = byId('trades-error');
  private chart: uPlot | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(private readonly client: DashboardClient) {
    const download = byId<HTMLButtonElement>('download-csv');
    download.addEventListener('click', () => busy(download, () => this.download(), this.error));
    new ResizeObserver(() => {
      if (this.chart) this.chart.setSize({ width: this.chartWidth(), height: CHART_HEIGHT });
    }).observe(this.chartBox);
  }

  /** Reloads soon; several events in a row cause one request. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 100);
  }

  /** One load at a time; a load asked for meanwhile runs after it. */
  async load(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const page = await this.client.rest<Page<Trade>>('GET', '/api/v1/trades?limit=100');
          this.error.textContent = '';
          this.render(page.items);
        } catch (err) {
          this.error.textContent = `Trades not loaded: ${err instanceof Error ? err.message : String(err)}`;
        }
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private render(trades: Trade[]): void {
    const rows = trades.map((t) =>
      h(
        'tr',
        { 'data-testid': 'trade-row', 'data-swap-id': t.swapId },
        h('td', { 'data-label': 'Time' }, fmtTime(t.acceptedAt)),
        h('td', { 'data-label': 'Side' }, badge(t.side, t.side === 'buy' ? 'Buy' : 'Sell')),
        h(
          'td',
          { 'data-label': 'Energy' },
          h('span', { class: `energy energy-${t.energyType}` }, capitalize(t.energyType)),
          h('span', { class: 'unit' }, t.zone),
        ),
        h(
          'td',
          { class: 'num mono', 'data-label': 'Volume', 'data-testid': 'trade-volume' },
          t.volumeKwh,
          h('span', { class: 'unit' }, 'kWh'),
        ),
        h('td', { class: 'num mono', 'data-label': 'Price', 'data-testid': 'trade-price' }, t.pricePerKwh),
        h(
          'td',
          { class: 'num mono', 'data-label': 'Notional' },
          trimZeros(t.notional),
          h('span', { class: 'unit' }, t.currency ?? 'EUR'),
        ),
        h('td', { 'data-label': 'Delivery', class: 'full' }, fmtWindow(t.deliveryStart, t.deliveryEnd)),
      ),
    );
    if (rows.length === 0)
      rows.push(h('tr', {}, h('td', { colspan: 7, class: 'empty full' }, 'No trades yet.')));
    setContent(this.tbody, ...rows);
    this.renderChart(trades);
  }

  private chartWidth(): number {
    return Math.max(200, this.chartBox.clientWidth);
  }

  /** One series per energy type over the time of the trades; prices become numbers only here. */
  private renderChart(trades: Trade[]): void {
    this.chart?.destroy();
    this.chart = undefined;
    byId('price-chart-figure').hidden = trades.length === 0;
    if (trades.length === 0) return;
    const sorted = [...trades].sort((a, b) => (a.acceptedAt < b.acceptedAt ? -1 : 1));
    const types = ENERGY_TYPES.filter((t) => sorted.some((x) => x.energyType === t));
    const xs = [...new Set(sorted.map((t) => new Date(t.acceptedAt).getTime() / 1000))];
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = types.map(() => xs.map((): number | null => null));
    for (const t of sorted) {
      const i = index.get(new Date(t.acceptedAt).getTime() / 1000)!;
      ys[types.indexOf(t.energyType as (typeof ENERGY_TYPES)[number])]![i] = Number.parseFloat(t.pricePerKwh);
    }
    const axis: uPlot.Axis = {
      stroke: '#8d9bb2',
      grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
      ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
    };
    const xAxis: uPlot.Axis = {
      ...axis,
      space: 70,
      incrs: [1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400, 604_800],
      values: (_u, splits) => splits.map((v) => fmtClock(v * 1000)),
    };
    const opts: uPlot.Options = {
      width: this.chartWidth(),
      height: CHART_HEIGHT,
      scales: {
        // at least a minute wide, so a burst of trades still gets time ticks (and one trade is centred:
        // uPlot's own padding of a single time point is off)
        x: {
          time: true,
          range: (_u, min, max) => {
            const mid = xs.length === 1 ? xs[0]! : (min + max) / 2;
            return xs.length === 1 || max - min < 60 ? [mid - 30, mid + 30] : [min, max];
          },
        },
      },
      axes: [xAxis, { ...axis, size: 56, values: (_u, splits) => splits.map((v) => v.toFixed(4)) }],
      series: [
        {},
        ...types.map(
          (t): uPlot.Series => ({
            label: capitalize(t),
            stroke: COLORS[t],
            width: 2,
            spanGaps: true,
            points: { show: true, size: 7, fill: COLORS[t] },
            value: (_u, v) => (v == null ? '—' : v.toFixed(4)),
          }),
        ),
      ],
    };
    this.chart = new uPlot(opts, [xs, ...ys], this.chartBox);
  }

  /** The whole ledger as CSV, saved through a blob link. */
  private async download(): Promise<void> {
    const get = () =>
      fetch('/api/v1/trades', {
        headers: { authorization: `Bearer ${this.client.session.accessToken}`, accept: 'text/csv' },
      });
    let res = await get();
    if (res.status === 401) {
      await this.client.refresh(); // most likely an expired access token; a dead login throws here
      res = await get();
    }
    if (!res.ok) {
      const body = await res.json().catch(() => undefined);
      const e = body?.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` };
      throw new HubClientError(e.code, e.message, e.details, res.status);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const stamp = new Date().toISOString().slice(0, 10);
    const link = h('a', { href: url, download: `renex-trades-${stamp}.csv`, hidden: true }, 'CSV');
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
