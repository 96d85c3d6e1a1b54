// My trades: GET /api/v1/trades as a table (with the counterparty's name), a chart of their prices
// by delivery period (price-chart.ts), and the CSV ledger. Times are in each trade's zone's market
// time (market-time.ts).
import type { Trade } from '../../src/client/index.js';
import { HubClientError } from '../../src/client/index.js';
import { bottomLine, feeList } from './fee-lines.js';
import { fmtDecimal, fmtKwh, fmtMoney } from './locale.js';
import { fmtTime, fmtWindow, marketZones } from './market-time.js';
import type { MarketTrade } from './market-types.js';
import type { Page } from './page.js';
import { PriceChart } from './price-chart.js';
import type { DashboardClient } from './session.js';
import { badge, busy, byId, capitalize, h, setContent } from './ui.js';

export class Trades {
  private readonly tbody = byId<HTMLTableSectionElement>('trade-rows');
  private readonly error = byId('trades-error');
  private readonly chart = new PriceChart(byId('price-chart'), byId('price-chart-figure'));
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private shown: Trade[] | undefined;

  constructor(private readonly client: DashboardClient) {
    const download = byId<HTMLButtonElement>('download-csv');
    download.addEventListener('click', () => busy(download, () => this.download(), this.error));
    // the zones' market times arrived: what was shown in UTC is shown in them
    marketZones.onChange(() => this.shown && this.render(this.shown));
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
    this.shown = trades;
    const rows = trades.map((t) =>
      h(
        'tr',
        { 'data-testid': 'trade-row', 'data-swap-id': t.swapId },
        h('td', { 'data-label': 'Accepted' }, fmtTime(t.acceptedAt, t.zone)),
        h('td', { 'data-label': 'Side' }, badge(t.side, t.side === 'buy' ? 'Buy' : 'Sell')),
        h('td', { 'data-label': 'Counterparty', 'data-testid': 'trade-counterparty' }, t.counterpartyName),
        h(
          'td',
          { 'data-label': 'Energy' },
          h('span', { class: `energy energy-${t.energyType}` }, capitalize(t.energyType)),
          h('span', { class: 'unit' }, t.zone),
        ),
        h(
          'td',
          { class: 'num mono', 'data-label': 'Volume', 'data-testid': 'trade-volume' },
          fmtKwh(t.volumeKwh),
        ),
        h(
          'td',
          { class: 'num mono', 'data-label': 'Price', 'data-testid': 'trade-price' },
          fmtDecimal(t.pricePerKwh),
        ),
        h('td', { class: 'num mono', 'data-label': 'Notional' }, fmtMoney(t.notional, t.currency)),
        this.feesCell(t),
        h(
          'td',
          { 'data-label': 'Delivery', class: 'full' },
          fmtWindow(t.deliveryStart, t.deliveryEnd, t.zone),
        ),
      ),
    );
    if (rows.length === 0)
      rows.push(h('tr', {}, h('td', { colspan: 9, class: 'empty full' }, 'No trades yet.')));
    setContent(this.tbody, ...rows);
    this.chart.render(trades);
  }

  /** What the trader paid or received with fees: the bottom line, the lines folded under it. */
  private feesCell(t: MarketTrade): HTMLTableCellElement {
    const fees = t.fees;
    const side = t.side === 'buy' ? 'buyer' : 'seller';
    return h(
      'td',
      { 'data-label': 'With fees', 'data-testid': 'trade-fees', class: 'trade-fees' },
      fees
        ? h(
            'details',
            { class: 'offer-fees' },
            h('summary', {}, bottomLine(fees, side, t.currency)),
            feeList(fees, side, t.currency, true),
          )
        : h('span', { class: 'muted' }, '—'),
    );
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
