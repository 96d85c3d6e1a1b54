// The operator's settlement report (GET /api/v1/operator/settlements?zone&from&to): one line per
// settled slot of a zone, with what the buyers paid and where it went, and the zero sum column
// (buyers pay = sellers receive + grid operator + platform, "0.00"). The period is picked as days in
// the zone's market time, at most 31 days. The hub's strings, in the reader's locale.
import { FieldMessages } from './field-messages.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import { addDays, dayStart, fmtTime, marketZones, thisMonth, toMarketInput } from './market-time.js';
import type { SettledSlotReport } from './market-types.js';
import { fillZoneSelect } from './operator-curtail.js';
import type { DashboardClient } from './session.js';
import { busy, byId, field, h, setContent } from './ui.js';

const MAX_DAYS = 31;

export class SettlementReport {
  private readonly form = byId<HTMLFormElement>('report-form');
  private readonly zone = field<HTMLSelectElement>(this.form, 'select[name=zone]');
  private readonly from = field<HTMLInputElement>(this.form, 'input[name=from]');
  private readonly to = field<HTMLInputElement>(this.form, 'input[name=to]');
  private readonly messages = new FieldMessages(this.form, field<HTMLElement>(this.form, '.form-error'));
  private readonly rows = byId<HTMLTableSectionElement>('report-rows');
  private readonly note = byId('report-note');

  constructor(private readonly client: DashboardClient) {
    marketZones.onChange(() => this.zonesChanged());
    this.zonesChanged();
    const show = field<HTMLButtonElement>(this.form, 'button[type=submit]');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        show,
        () => this.load(),
        (err) => this.messages.show(err),
      );
    });
  }

  private zonesChanged(): void {
    fillZoneSelect(this.zone);
    if (!this.from.value) {
      // this month up to today, in the zone's market time (a report covers at most 31 days)
      const tz = marketZones.timeZone(this.zone.value);
      this.from.value = thisMonth(tz)[0];
      this.to.value = toMarketInput(new Date(), tz).slice(0, 10);
    }
  }

  private async load(): Promise<void> {
    this.messages.clearAll();
    const zone = this.zone.value;
    if (!zone) {
      this.messages.set('zone', 'Choose a zone.');
      return;
    }
    const tz = marketZones.timeZone(zone);
    if (!this.from.value) return void this.messages.set('from', 'Pick the first day of the period.');
    if (!this.to.value) return void this.messages.set('to', 'Pick the last day of the period.');
    const from = dayStart(this.from.value, tz);
    const to = dayStart(addDays(this.to.value, 1), tz);
    if (!from || !to) return void this.messages.set('from', 'Pick the days of the period.');
    if (to <= from) return void this.messages.set('to', 'The last day cannot be before the first.');
    // a day of the market's time may be 25 hours long (daylight saving time ends)
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000 + 3_600_000)
      return void this.messages.set('to', `A report covers at most ${MAX_DAYS} days: pick a shorter period.`);
    const q = new URLSearchParams({ zone, from: from.toISOString(), to: to.toISOString() });
    const { items } = await this.client.rest<{ items: SettledSlotReport[] }>(
      'GET',
      `/api/v1/operator/settlements?${q}`,
    );
    this.render(items, zone);
  }

  private render(items: SettledSlotReport[], zone: string): void {
    this.note.textContent = `${items.length === 1 ? '1 settled slot' : `${items.length} settled slots`} in ${zone}. In every slot the buyers pay what the sellers, the grid operator and the platform receive: the sum is 0.00.`;
    const cell = (label: string, value: string, testid?: string) =>
      h('td', { class: 'num mono', 'data-label': label, 'data-testid': testid }, value);
    const rows = items.map((r) =>
      h(
        'tr',
        { 'data-testid': 'report-row', 'data-slot': r.slotStart },
        h('td', { 'data-label': 'Slot' }, fmtTime(r.slotStart, r.zone)),
        cell('Settled', fmtKwh(r.settledKwh), 'report-settled'),
        cell('Buyers pay', fmtDecimal(r.buyersPay), 'report-buyers-pay'),
        cell('Sellers receive', fmtDecimal(r.sellersReceive)),
        cell('Grid operator', fmtDecimal(r.gridOperatorReceives)),
        cell('Platform', fmtDecimal(r.platformReceives)),
        cell('Sum', fmtDecimal(r.sum), 'report-sum'),
      ),
    );
    if (rows.length === 0)
      rows.push(
        h('tr', {}, h('td', { colspan: 7, class: 'empty full' }, 'No settled slots in this period.')),
      );
    setContent(this.rows, ...rows);
  }
}
