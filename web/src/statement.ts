// The statement (GET /api/v1/statements?from&to): the trader's settled trade slots in a period, one
// line each from the trader's side, and the totals, as the hub computes them (its strings, in the
// reader's locale; nothing is added up here). The period is picked as days in the market's time
// (this month by default), at most 93 days; "Download CSV" asks the same period as text/csv.
import { FieldMessages } from './field-messages.js';
import { downloadCsv } from './hub-fetch.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import {
  addDays,
  dayStart,
  fmtTime,
  marketTimeZone,
  marketZones,
  thisMonth,
  tzLabel,
} from './market-time.js';
import type { Statement, StatementLine } from './market-types.js';
import type { DashboardClient } from './session.js';
import { badge, busy, byId, capitalize, field, h, setContent } from './ui.js';

const MAX_DAYS = 93;

/** The period of the form as instants, or the sentence saying what is wrong with it. */
type Period = { from: Date; to: Date; fromDay: string; toDay: string } | { error: string; field: string };

export class StatementPanel {
  private readonly form = byId<HTMLFormElement>('statement-form');
  private readonly fromInput = field<HTMLInputElement>(this.form, 'input[name=from]');
  private readonly toInput = field<HTMLInputElement>(this.form, 'input[name=to]');
  private readonly messages = new FieldMessages(this.form, field<HTMLElement>(this.form, '.form-error'));
  private readonly rows = byId<HTMLTableSectionElement>('statement-rows');
  private readonly totals = byId('statement-totals');
  private readonly note = byId('statement-note');
  private timer: ReturnType<typeof setTimeout> | undefined;
  private generation = 0;
  /** whether the trader picked the period (else it follows this month once the zones are known) */
  private picked = false;

  constructor(private readonly client: DashboardClient) {
    this.setMonth();
    marketZones.onChange(() => {
      if (!this.picked) this.setMonth();
      void this.load();
    });
    const show = field<HTMLButtonElement>(this.form, 'button[type=submit]');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.picked = true;
      void busy(
        show,
        () => this.load(true),
        (err) => this.messages.show(err),
      );
    });
    const csv = byId<HTMLButtonElement>('statement-csv');
    csv.addEventListener('click', () =>
      busy(
        csv,
        () => this.download(),
        (err) => this.messages.show(err),
      ),
    );
  }

  private setMonth(): void {
    const [first, last] = thisMonth(marketTimeZone());
    this.fromInput.value = first;
    this.toInput.value = last;
  }

  private period(): Period {
    const tz = marketTimeZone();
    const fromDay = this.fromInput.value;
    const toDay = this.toInput.value;
    if (!fromDay) return { field: 'from', error: 'Pick the first day of the period.' };
    if (!toDay) return { field: 'to', error: 'Pick the last day of the period.' };
    const from = dayStart(fromDay, tz);
    const to = dayStart(addDays(toDay, 1), tz);
    if (!from || !to) return { field: 'from', error: 'Pick the days of the period.' };
    if (to <= from) return { field: 'to', error: 'The last day cannot be before the first.' };
    // a day of the market's time may be 25 hours long (daylight saving time ends)
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000 + 3_600_000)
      return { field: 'to', error: `A statement covers at most ${MAX_DAYS} days: pick a shorter period.` };
    return { from, to, fromDay, toDay };
  }

  private query(p: { from: Date; to: Date }): string {
    return `/api/v1/statements?from=${encodeURIComponent(p.from.toISOString())}&to=${encodeURIComponent(p.to.toISOString())}`;
  }

  /** Reloads soon (a trade settled); several in a row cause one request. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 300);
  }

  /** Loads the form's period; `rethrow` hands a refusal to the caller (the form's button). */
  async load(rethrow = false): Promise<void> {
    this.messages.clearAll();
    const p = this.period();
    if ('error' in p) {
      this.messages.set(p.field, p.error);
      return;
    }
    const gen = ++this.generation;
    try {
      const st = await this.client.rest<Statement>('GET', this.query(p));
      if (gen !== this.generation) return;
      this.render(st, p.from, p.to);
    } catch (err) {
      if (gen !== this.generation) return;
      if (rethrow) throw err;
      this.messages.show(err);
    }
  }

  private render(st: Statement, from: Date, to: Date): void {
    const tz = marketTimeZone();
    const currencies = [...new Set(st.items.map((l) => l.currency))];
    const currency = currencies.length === 1 ? currencies[0] : undefined;
    const money = (v: string, c = currency) => `${fmtDecimal(v)}${c ? ` ${c}` : ''}`;
    this.note.textContent = `${st.items.length === 1 ? '1 settled slot' : `${st.items.length} settled slots`} delivered from ${fmtTime(from.toISOString(), zoneOfTz(tz))} to ${fmtTime(to.toISOString(), zoneOfTz(tz))} (market time, ${tzLabel(tz, from)}).`;
    const rows = st.items.map((l) => this.row(l, money));
    if (rows.length === 0)
      rows.push(
        h('tr', {}, h('td', { colspan: 10, class: 'empty full' }, 'Nothing settled in this period.')),
      );
    setContent(this.rows, ...rows);
    const t = st.totals;
    const line = (key: string, label: string, value: string) =>
      h(
        'div',
        { class: 'fee-line', 'data-testid': `statement-total-${key}` },
        h('dt', {}, label),
        ' ',
        h('dd', { class: 'mono' }, value),
      );
    setContent(
      this.totals,
      line('bought', 'Bought', fmtKwh(t.boughtKwh)),
      line('sold', 'Sold', fmtKwh(t.soldKwh)),
      line('paid', 'Paid', money(t.paid)),
      line('received', 'Received', money(t.received)),
      line('fees', 'Fees', money(t.fees)),
      line('deviations', 'Deviations', money(t.deviations)),
    );
  }

  private row(l: StatementLine, money: (v: string, c?: string) => string): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-testid': 'statement-row', 'data-swap-id': l.swapId },
      h('td', { 'data-label': 'Slot' }, fmtTime(l.slotStart, l.zone)),
      h('td', { 'data-label': 'Side' }, badge(l.side, l.side === 'buy' ? 'Buy' : 'Sell')),
      h('td', { 'data-label': 'Counterparty' }, l.counterpartyName),
      h(
        'td',
        { 'data-label': 'Energy' },
        h('span', { class: `energy energy-${l.energyType}` }, capitalize(l.energyType)),
        h('span', { class: 'unit' }, l.zone),
      ),
      h('td', { class: 'num mono', 'data-label': 'Settled' }, fmtKwh(l.settledKwh)),
      h('td', { class: 'num mono', 'data-label': 'Price' }, fmtDecimal(l.pricePerKwh)),
      h('td', { class: 'num mono', 'data-label': 'Energy amount' }, money(l.energy, l.currency)),
      h('td', { class: 'num mono', 'data-label': 'Fees' }, money(l.fees, l.currency)),
      h('td', { class: 'num mono', 'data-label': 'Deviation' }, money(l.deviation, l.currency)),
      h(
        'td',
        {
          class: 'num mono',
          'data-label': l.side === 'buy' ? 'Paid' : 'Received',
          'data-testid': 'statement-amount',
        },
        money(l.amount, l.currency),
      ),
    );
  }

  private async download(): Promise<void> {
    this.messages.clearAll();
    const p = this.period();
    if ('error' in p) {
      this.messages.set(p.field, p.error);
      return;
    }
    await downloadCsv(this.client, this.query(p), `renex-statement-${p.fromDay}-to-${p.toDay}.csv`);
  }
}

/** A configured zone in time zone `tz` (to label times in it), if any. */
const zoneOfTz = (tz: string): string | undefined => marketZones.list().find((z) => z.timeZone === tz)?.id;
