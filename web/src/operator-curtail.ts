// The operator's curtailment (POST /api/v1/operator/curtailments): in each slot of a window not yet
// started, the trades of a zone (or of one meter) keep `factor` of their contracted volume. The
// window is read as wall time in the zone's market time (labelled), snapped to its slot grid and
// converted exactly to UTC; the factor is an exact decimal (0 to 1, at most 4 decimals).
import { compareDecimal } from './decimal.js';
import { FieldMessages } from './field-messages.js';
import { fmtDecimal, parseInput } from './locale.js';
import { fmtWindow, fromMarketInput, marketZones, onGrid, toMarketInput, tzLabel } from './market-time.js';
import type { DashboardClient } from './session.js';
import { busy, byId, field, h, setContent, toast } from './ui.js';

const FACTOR_SCALE = 4;

export const CURTAILMENT_REASONS = [
  ['GRID_OUTAGE', 'Grid outage'],
  ['CONGESTION', 'Congestion'],
  ['MAINTENANCE', 'Maintenance'],
  ['EMERGENCY', 'Emergency'],
  ['OTHER', 'Other'],
] as const;

/** The configured zones as options, the choice kept. */
export function fillZoneSelect(select: HTMLSelectElement): void {
  const chosen = select.value;
  setContent(
    select,
    ...marketZones.list().map((z) => h('option', { value: z.id }, `${z.id} · ${z.name} (${z.timeZone})`)),
  );
  if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

export class CurtailmentForm {
  /** the last body sent and its Idempotency-Key, until it is answered */
  private lastBody: string | undefined;
  private lastKey: string | undefined;
  private readonly form = byId<HTMLFormElement>('curtail-form');
  private readonly zone = field<HTMLSelectElement>(this.form, 'select[name=zone]');
  private readonly from = field<HTMLInputElement>(this.form, 'input[name=from]');
  private readonly to = field<HTMLInputElement>(this.form, 'input[name=to]');
  private readonly messages = new FieldMessages(this.form, field<HTMLElement>(this.form, '.form-error'));
  private readonly result = byId('curtail-result');
  /** whether the window was edited (else it follows the zone: its next slot) */
  private edited = false;

  constructor(private readonly client: DashboardClient) {
    setContent(
      field<HTMLSelectElement>(this.form, 'select[name=reason]'),
      ...CURTAILMENT_REASONS.map(([v, label]) => h('option', { value: v }, label)),
    );
    marketZones.onChange(() => this.zonesChanged());
    this.zonesChanged();
    this.zone.addEventListener('change', () => this.zoneChanged());
    for (const input of [this.from, this.to]) {
      input.addEventListener('input', () => {
        this.edited = true;
      });
      input.addEventListener('blur', () => this.snap(input));
    }
    const send = field<HTMLButtonElement>(this.form, 'button[type=submit]');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        send,
        () => this.send(),
        (err) => this.messages.show(err),
      );
    });
  }

  private zonesChanged(): void {
    fillZoneSelect(this.zone);
    this.zoneChanged();
  }

  private slotMinutes(): number {
    return marketZones.get(this.zone.value)?.slotMinutes ?? 60;
  }

  private tz(): string {
    return marketZones.timeZone(this.zone.value);
  }

  /** The labels name the zone's time; an unedited window is the zone's next slot. */
  private zoneChanged(): void {
    const tz = this.tz();
    for (const el of this.form.querySelectorAll('.tz-label')) el.textContent = tzLabel(tz, new Date());
    for (const input of [this.from, this.to]) input.step = String(this.slotMinutes() * 60);
    if (!this.edited) {
      const start = onGrid(Date.now(), this.slotMinutes(), 'ceil');
      this.from.value = toMarketInput(start, tz);
      this.to.value = toMarketInput(new Date(start.getTime() + this.slotMinutes() * 60_000), tz);
    } else {
      this.snap(this.from);
      this.snap(this.to);
    }
  }

  /** A field's wall time as an instant on the zone's grid, or undefined (said at the field). */
  private read(input: HTMLInputElement): Date | undefined {
    const wall = fromMarketInput(input.value, this.tz());
    if (!wall) {
      this.messages.set(input.name, 'Enter a date and time.');
      return undefined;
    }
    if (wall.gap) {
      this.messages.set(input.name, 'The clocks skip this hour in this zone: pick another time.');
      return undefined;
    }
    return onGrid(wall.at, this.slotMinutes());
  }

  private snap(input: HTMLInputElement): void {
    const wall = fromMarketInput(input.value, this.tz());
    if (!wall?.at) return;
    const snapped = toMarketInput(onGrid(wall.at, this.slotMinutes()), this.tz());
    if (snapped !== input.value) input.value = snapped;
  }

  private async send(): Promise<void> {
    this.messages.clearAll();
    this.result.textContent = '';
    const data = new FormData(this.form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const from = this.read(this.from);
    const to = this.read(this.to);
    const factor = parseInput(text('factor'), FACTOR_SCALE, 'factor');
    let bad = !from || !to;
    if (factor.error) {
      this.messages.set('factor', factor.error);
      bad = true;
    } else if (compareDecimal(factor.value!, '1', FACTOR_SCALE) === 1) {
      this.messages.set('factor', 'The factor is the share each trade keeps: from 0 to 1.');
      bad = true;
    }
    if (from && to && to <= from) {
      this.messages.set('to', 'The window must end after it starts.');
      bad = true;
    }
    if (bad) return;
    const meter = text('meterExternalId');
    const body = {
      zone: this.zone.value,
      ...(meter ? { meterExternalId: meter } : {}),
      from: from!.toISOString(),
      to: to!.toISOString(),
      reason: text('reason'),
      factor: factor.value!,
    };
    // the same body sent again (after an answer was lost) keeps its key: the hub applies it once
    const sent = JSON.stringify(body);
    if (sent !== this.lastBody) {
      this.lastBody = sent;
      this.lastKey = globalThis.crypto.randomUUID();
    }
    const { affectedTrades } = await this.client.rest<{ affectedTrades: number }>(
      'POST',
      '/api/v1/operator/curtailments',
      body,
      { 'idempotency-key': this.lastKey! },
    );
    // applied: the next one, even with the same fields, is another curtailment
    this.lastBody = undefined;
    const window = fmtWindow(body.from, body.to, body.zone);
    // "0.5000" as typed: "0.5" (the digits only trimmed, in the reader's locale)
    const kept = fmtDecimal(body.factor.replace(/\.?0+$/, ''));
    this.result.textContent = `${affectedTrades === 1 ? '1 trade' : `${affectedTrades} trades`} curtailed to ${kept} of their contracted volume in ${body.zone}${meter ? ` (meter ${meter})` : ''}, ${window}.`;
    toast({
      title: 'Curtailment applied',
      body: `${affectedTrades} trade${affectedTrades === 1 ? '' : 's'} affected`,
      kind: 'success',
      timeoutMs: 4000,
    });
  }
}
