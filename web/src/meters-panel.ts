// The Meters panel: the trader's meters (GET /api/v1/meters) with their capacities and what each
// may trade per slot, a form to add one (POST /api/v1/meters, the zone chosen from the configured
// ones), retiring one after a confirmation (DELETE /api/v1/meters/:id; refused in words while it
// has active listings or unsettled trades), and the chosen meter's slots as a chart (meter-chart.ts).
import { confirmAction } from './confirm.js';
import { fromUnits, KWH_SCALE, toUnits } from './decimal.js';
import { FieldMessages, sentenceFor } from './field-messages.js';
import { fmtDecimal, parseInput } from './locale.js';
import { marketZones, onGrid, tzLabel } from './market-time.js';
import type { Meter } from './market-types.js';
import { MeterChart } from './meter-chart.js';
import { type MeterStore, meterName } from './meters.js';
import { badge, busy, byId, field, h, setContent, toast } from './ui.js';

/** the demo zones, offered until the configured ones are loaded */
const DEMO_ZONES = ['DE-North', 'DE-South', 'NL'];

/**
 * What a capacity may trade in one slot of its zone, exactly: kW x slot hours x capFactor, rounded
 * down to the Wh (as the hub computes it); undefined when the zone's profile is not known.
 */
export function slotLimit(capacityKw: string, zone: string): string | undefined {
  const z = marketZones.get(zone);
  const w = toUnits(capacityKw, KWH_SCALE);
  const cf = z?.capFactor;
  if (!z || w === undefined || !cf) return undefined;
  const scale = cf.split('.')[1]?.length ?? 0;
  const f = toUnits(cf, scale);
  if (f === undefined) return undefined;
  return fromUnits((w * BigInt(z.slotMinutes) * f) / (60n * 10n ** BigInt(scale)), KWH_SCALE);
}

export class MetersPanel {
  private readonly rows = byId<HTMLTableSectionElement>('meter-rows');
  private readonly error = byId('meters-error');
  private readonly form = byId<HTMLFormElement>('meter-form');
  private readonly zone = field<HTMLSelectElement>(this.form, 'select[name=zone]');
  private readonly messages = new FieldMessages(this.form, field<HTMLElement>(this.form, '.form-error'));
  private readonly figure = byId('meter-chart-figure');
  private readonly span = byId<HTMLSelectElement>('meter-chart-span');
  private readonly chart = new MeterChart(byId('meter-chart'), byId('meter-chart-summary'));
  /** the meter whose slots the chart shows */
  private shown: string | undefined;
  private generation = 0;

  constructor(private readonly store: MeterStore) {
    store.onChange(() => this.render());
    marketZones.onChange(() => {
      this.fillZones();
      this.render();
      void this.refresh();
    });
    this.fillZones();
    this.span.addEventListener('change', () => void this.refresh());
    const add = field<HTMLButtonElement>(this.form, 'button[type=submit]');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        add,
        () => this.add(),
        (err) =>
          this.messages.show(err, (code) =>
            code === 'CONFLICT'
              ? {
                  field: 'externalId',
                  text: 'This meter id is registered already: each metering point is registered once in the market.',
                }
              : undefined,
          ),
      );
    });
    this.render();
  }

  /** The configured zones (the demo ones until they are loaded), the choice kept. */
  private fillZones(): void {
    const chosen = this.zone.value;
    const zones = marketZones.list();
    const options = zones.length
      ? zones.map((z) => h('option', { value: z.id }, `${z.id} · ${z.name} (${z.timeZone})`))
      : DEMO_ZONES.map((id) => h('option', { value: id }, id));
    setContent(this.zone, ...options);
    if (chosen && [...this.zone.options].some((o) => o.value === chosen)) this.zone.value = chosen;
  }

  private async add(): Promise<void> {
    this.messages.clearAll();
    const data = new FormData(this.form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const externalId = text('externalId');
    const out = parseInput(text('exportCapacityKw') || '0', KWH_SCALE, 'export capacity');
    const inn = parseInput(text('importCapacityKw') || '0', KWH_SCALE, 'import capacity');
    let bad = false;
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(externalId)) {
      this.messages.set(
        'externalId',
        externalId
          ? 'A meter id is 1 to 64 letters, digits or the characters . _ : - (an EAN or MPAN, for example).'
          : 'Enter the meter id (its EAN or MPAN, for example).',
      );
      bad = true;
    }
    if (out.error) this.messages.set('exportCapacityKw', out.error);
    if (inn.error) this.messages.set('importCapacityKw', inn.error);
    if (!out.error && !inn.error && out.value === '0.000' && inn.value === '0.000') {
      this.messages.set('exportCapacityKw', 'Give the meter an export or an import capacity above 0 kW.');
      bad = true;
    }
    if (bad || out.error || inn.error) return;
    const label = text('label');
    const m = await this.store.add({
      externalId,
      zone: this.zone.value,
      exportCapacityKw: out.value!,
      importCapacityKw: inn.value!,
      ...(label ? { label } : {}),
    });
    const zone = this.zone.value;
    this.form.reset();
    this.zone.value = zone;
    (byId('add-meter-box') as HTMLDetailsElement).open = false;
    toast({ title: 'Meter added', body: `${meterName(m)} in ${m.zone}`, kind: 'success', timeoutMs: 4000 });
    this.show(m.id);
  }

  private render(): void {
    const all = this.store.all();
    const active = this.store.active().length;
    byId('meters-count').textContent = this.store.ready ? `${active} active` : '';
    if (this.store.ready && active === 0) (byId('add-meter-box') as HTMLDetailsElement).open = true;
    const rows = all.map((m) => this.row(m));
    if (rows.length === 0)
      rows.push(
        h(
          'tr',
          {},
          h(
            'td',
            { colspan: 5, class: 'empty full' },
            this.store.ready ? 'No meters yet: add the one you trade from.' : 'Loading…',
          ),
        ),
      );
    setContent(this.rows, ...rows);
    // the chart follows the meter it shows, else the first active one
    if (!this.shown || !this.store.get(this.shown)) {
      const first = this.store.active()[0];
      if (first) this.show(first.id);
    }
  }

  private capacity(kw: string, zone: string): HTMLElement {
    const limit = slotLimit(kw, zone);
    const slot = marketZones.get(zone)?.slotMinutes;
    return h(
      'span',
      {},
      `${fmtDecimal(kw)} kW`,
      limit ? h('span', { class: 'unit block' }, `limit ${fmtDecimal(limit)} kWh / ${slot}-min slot`) : null,
    );
  }

  private row(m: Meter): HTMLTableRowElement {
    const active = m.status === 'active';
    const name = meterName(m);
    const slotsButton = h(
      'button',
      {
        type: 'button',
        class: 'btn small',
        'data-testid': 'meter-show-slots',
        'aria-pressed': String(this.shown === m.id),
        'aria-label': `Show the slots of ${name}`,
      },
      'Slots',
    );
    slotsButton.addEventListener('click', () => this.show(m.id));
    const retire = h(
      'button',
      {
        type: 'button',
        class: 'btn small danger',
        'data-testid': 'meter-retire',
        'aria-label': `Retire ${name}`,
      },
      'Retire',
    );
    retire.addEventListener('click', () => void this.retire(m, retire));
    return h(
      'tr',
      {
        'data-testid': 'meter-row',
        'data-meter-id': m.id,
        'data-status': m.status,
        class: active ? '' : 'closed',
      },
      h(
        'td',
        { 'data-label': 'Meter' },
        h('strong', { 'data-testid': 'meter-name' }, m.label || m.externalId),
        m.label ? h('span', { class: 'unit block mono' }, m.externalId) : null,
        active ? null : badge('retired', 'Retired'),
      ),
      h('td', { 'data-label': 'Zone', 'data-testid': 'meter-zone-cell' }, m.zone),
      h('td', { class: 'num mono', 'data-label': 'Export' }, this.capacity(m.exportCapacityKw, m.zone)),
      h('td', { class: 'num mono', 'data-label': 'Import' }, this.capacity(m.importCapacityKw, m.zone)),
      h(
        'td',
        { class: 'actions-cell full' },
        active ? h('div', { class: 'own-actions' }, slotsButton, retire) : null,
      ),
    );
  }

  private async retire(m: Meter, button: HTMLButtonElement): Promise<void> {
    this.error.textContent = '';
    const ok = await confirmAction({
      title: 'Retire this meter?',
      body: `${meterName(m)} (${m.zone}) will no longer be offered for new listings or offers. This cannot be undone. A meter with active listings or unsettled trades cannot be retired.`,
      confirmLabel: 'Retire meter',
    });
    if (!ok) return;
    await busy(
      button,
      async () => {
        await this.store.retire(m.id);
        toast({ title: 'Meter retired', body: meterName(m), kind: 'info', timeoutMs: 4000 });
      },
      (err) => {
        const code = (err as { code?: string }).code;
        this.error.textContent =
          code === 'INVALID_STATE'
            ? `${meterName(m)} cannot be retired yet: it still has active listings or trades that are not settled. Cancel its listings and wait until its trades are settled, then retire it.`
            : sentenceFor(err);
      },
    );
  }

  /** Shows the slots of meter `id` in the chart. */
  show(id: string): void {
    this.shown = id;
    for (const b of this.rows.querySelectorAll<HTMLElement>('[data-testid="meter-show-slots"]'))
      b.setAttribute('aria-pressed', String(b.closest('tr')?.dataset.meterId === id));
    void this.refresh();
  }

  /** Reloads the shown meter's slots (after a trade, a change of window or of the zones). */
  async refresh(): Promise<void> {
    const m = this.shown ? this.store.get(this.shown) : undefined;
    this.figure.hidden = !m;
    if (!m) {
      this.chart.clear();
      return;
    }
    const gen = ++this.generation;
    const slot = marketZones.get(m.zone)?.slotMinutes ?? 60;
    const from = onGrid(Date.now(), slot, 'floor');
    const to = new Date(from.getTime() + Number(this.span.value) * 3_600_000);
    const tz = marketZones.timeZone(m.zone);
    byId('meter-chart-title').textContent = `${meterName(m)} · ${m.zone}`;
    byId('meter-chart-note').textContent =
      ` Contracted volume per ${slot}-minute slot against its limit, in ${m.zone}'s market time (${tzLabel(tz, from)}).`;
    this.figure.dataset.meterId = m.id;
    try {
      const slots = await this.store.slots(m.id, from, to);
      if (gen !== this.generation) return;
      this.error.textContent = '';
      this.chart.render(slots, m.zone, slot);
    } catch (err) {
      if (gen !== this.generation) return;
      this.chart.clear();
      this.error.textContent = `Slots not loaded: ${sentenceFor(err)}`;
    }
  }
}
