// My trades: GET /api/v1/trades as a table (with the counterparty's name), a chart of their prices
// by delivery period (price-chart.ts), and the CSV ledger. Times are in each trade's zone's market
// time (market-time.ts). Each trade shows its lifecycle (confirmed, curtailed, settled, cancelled;
// trade-lifecycle.ts), kept live by trade.curtailed and trade.settled, and under it, folded, the
// steps, the settlement's money from the trader's side and a chart of contracted against
// delivered kWh per slot (delivery-chart.ts).
import type { Trade } from '../../src/client/index.js';
import { deliveryChart } from './delivery-chart.js';
import { bottomLine, feeList } from './fee-lines.js';
import { downloadCsv } from './hub-fetch.js';
import { fmtDecimal, fmtKwh, fmtMoney } from './locale.js';
import { fmtTime, fmtWindow, marketZones } from './market-time.js';
import type { MarketTrade } from './market-types.js';
import type { Page } from './page.js';
import { PriceChart } from './price-chart.js';
import type { DashboardClient } from './session.js';
import { lifecycleBadge, lifecycleSteps, settledBottomLine, settlementList } from './trade-lifecycle.js';
import { badge, busy, byId, capitalize, h, setContent } from './ui.js';

const COLUMNS = 10;

export class Trades {
  private readonly tbody = byId<HTMLTableSectionElement>('trade-rows');
  private readonly error = byId('trades-error');
  private readonly chart = new PriceChart(byId('price-chart'), byId('price-chart-figure'));
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private shown: Trade[] | undefined;
  /** the trades whose details are unfolded (kept across renders) */
  private readonly unfolded = new Set<string>();
  /** the charts drawn, removed before each render */
  private charts: (() => void)[] = [];

  constructor(private readonly client: DashboardClient) {
    const download = byId<HTMLButtonElement>('download-csv');
    download.addEventListener('click', () => busy(download, () => this.download(), this.error));
    // the zones' market times arrived: what was shown in UTC is shown in them
    marketZones.onChange(() => this.shown && this.render(this.shown));
  }

  /**
   * A trade as a trade.curtailed or trade.settled event carries it (from this trader's side):
   * shown in place at once; one not shown yet is loaded.
   */
  apply(trade: Trade): void {
    const at = this.shown?.findIndex((t) => t.swapId === trade.swapId) ?? -1;
    if (!this.shown || at < 0) {
      this.schedule();
      return;
    }
    const next = [...this.shown];
    next[at] = trade;
    this.render(next);
    // a page being loaded may predate this event: load once more after it
    if (this.loading) this.again = true;
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
    for (const destroy of this.charts) destroy();
    this.charts = [];
    const rows = trades.flatMap((t) => [
      h(
        'tr',
        { 'data-testid': 'trade-row', 'data-swap-id': t.swapId, 'data-status': t.status },
        h('td', { 'data-label': 'Status' }, lifecycleBadge(t)),
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
      this.detailRow(t),
    ]);
    if (rows.length === 0)
      rows.push(h('tr', {}, h('td', { colspan: COLUMNS, class: 'empty full' }, 'No trades yet.')));
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

  /**
   * The trade's lifecycle and, once a slot settled, its money and a chart of contracted against
   * delivered kWh per slot: folded under the row (the chart drawn when unfolded).
   */
  private detailRow(t: Trade): HTMLTableRowElement {
    const settled = t.slots.some((s) => s.settledKwh !== null);
    const body = h('div', { class: 'trade-detail-body' }, lifecycleSteps(t), settlementList(t));
    const bottom = settledBottomLine(t);
    const box = h(
      'details',
      { class: 'trade-settlement', 'data-testid': 'trade-settlement' },
      h(
        'summary',
        {},
        settled ? 'Delivery and settlement' : 'Status',
        bottom ? h('span', { class: 'mono', 'data-testid': 'trade-settled-total' }, ` · ${bottom}`) : null,
      ),
      body,
    );
    let destroy: (() => void) | undefined;
    const unfold = () => {
      if (!settled || destroy) return;
      const chart = deliveryChart(t);
      body.append(chart.figure);
      destroy = chart.destroy;
      this.charts.push(chart.destroy);
    };
    box.addEventListener('toggle', () => {
      if (box.open) {
        this.unfolded.add(t.swapId);
        unfold();
      } else this.unfolded.delete(t.swapId);
    });
    if (this.unfolded.has(t.swapId)) {
      box.open = true;
      unfold();
    }
    return h(
      'tr',
      { class: 'trade-detail', 'data-testid': 'trade-detail', 'data-swap-id': t.swapId },
      h('td', { colspan: COLUMNS, class: 'full' }, box),
    );
  }

  /** The whole ledger as CSV, saved through a blob link. */
  private download(): Promise<void> {
    const stamp = new Date().toISOString().slice(0, 10);
    return downloadCsv(this.client, '/api/v1/trades', `renex-trades-${stamp}.csv`);
  }
}
