// The post-listing form: which of the trader's active meters the energy leaves or enters (the
// listing's zone is the meter's, shown read-only), volume and price in the reader's locale (a
// decimal comma in de-DE), the delivery window on the zone's slot grid in its market time
// (labelled; snapped to the grid, counted from UTC midnight), converted exactly to UTC for the hub:
// a wall time the clocks skip (spring forward) is refused at its field. "All or none" makes the
// listing a block. With no active meter the form says so and links to adding one. Errors are said
// at their field; a price far from the market is questioned once before it is posted. After a post
// the form is reset for the next one, keeping side, type, meter and window.
import type { CommandArgs } from '../../src/client/index.js';
import { KWH_SCALE, PRICE_SCALE } from './decimal.js';
import { entry, hold } from './entry-gate.js';
import { FieldMessages } from './field-messages.js';
import { parseInput } from './locale.js';
import { farFromMarket } from './market-check.js';
import type { MarketPanel } from './market-panel.js';
import { fromMarketInput, marketZones, onGrid, toMarketInput, tzLabel } from './market-time.js';
import { type MeterStore, meterName } from './meters.js';
import { SendAgain } from './send-again.js';
import { busy, byId, capitalize, ENERGY_TYPES, field, h, setContent, toast } from './ui.js';

const MAX_SLOTS = 96;

/** Wires #post-form to the market it posts into and the meters it posts from. */
export function wirePostForm(market: MarketPanel, meters: MeterStore): void {
  const form = byId<HTMLFormElement>('post-form');
  const type = field<HTMLSelectElement>(form, 'select[name=energyType]');
  for (const t of ENERGY_TYPES) type.append(h('option', { value: t }, capitalize(t)));
  const meterSelect = field<HTMLSelectElement>(form, 'select[name=meterId]');
  const zoneOut = byId('post-zone');
  const noMeter = byId('post-no-meter');
  const start = field<HTMLInputElement>(form, 'input[name=deliveryStart]');
  const end = field<HTMLInputElement>(form, 'input[name=deliveryEnd]');
  const labels = form.querySelectorAll<HTMLElement>('.tz-label');
  const note = byId('market-time-note');
  const messages = new FieldMessages(form, field<HTMLElement>(form, '.form-error'));
  const submit = entry(field<HTMLButtonElement>(form, 'button[type=submit]'));

  /** the chosen meter's zone ('' before the meters are loaded, or with none) */
  const zoneOf = () => meters.get(meterSelect.value)?.zone ?? '';
  const slotOf = (zone: string) => marketZones.get(zone)?.slotMinutes ?? 60;
  /** the window was not edited: it follows the zone (the first slot trading is open for, in its market time) */
  let untouched = true;

  /** An input's wall time on the zone's grid (the nearest slot boundary); false when unreadable. */
  const snap = (input: HTMLInputElement, tz: string, slot: number): Date | undefined => {
    const w = fromMarketInput(input.value, tz);
    if (!w?.at) return undefined;
    const g = onGrid(w.at, slot);
    if (g.getTime() !== w.at.getTime()) input.value = toMarketInput(g, tz);
    return g;
  };
  /** Both ends on the grid, the end at least one slot after the start. */
  const snapWindow = () => {
    const zone = zoneOf();
    const tz = marketZones.timeZone(zone);
    const slot = slotOf(zone);
    const s = snap(start, tz, slot);
    const e = snap(end, tz, slot);
    if (s && e && e <= s) end.value = toMarketInput(new Date(s.getTime() + slot * 60_000), tz);
  };

  /** The first slot of `zone` still open for trading (its gate more than a minute away). */
  const proposedStart = (zone: string) =>
    onGrid(
      Date.now() + (marketZones.get(zone)?.gateLeadMinutes ?? 60) * 60_000 + 60_000,
      slotOf(zone),
      'ceil',
    );

  const showMarketTime = () => {
    const zone = zoneOf();
    const tz = marketZones.timeZone(zone);
    const z = marketZones.get(zone);
    const slot = slotOf(zone);
    for (const el of [start, end]) el.step = String(slot * 60);
    if (untouched) {
      const s = proposedStart(zone);
      start.value = toMarketInput(s, tz);
      end.value = toMarketInput(new Date(s.getTime() + slot * 60_000), tz);
    }
    const at = fromMarketInput(start.value, tz)?.at ?? new Date();
    // each field labelled from its own instant (a window may cross a change of the clocks)
    const endAt = fromMarketInput(end.value, tz)?.at ?? at;
    for (const el of labels) {
      const isEnd = el.closest('label')?.querySelector('input')?.name === 'deliveryEnd';
      el.textContent = tzLabel(tz, isEnd ? endAt : at);
    }
    zoneOut.textContent = zone || '—';
    const slots = (endAt.getTime() - at.getTime()) / (slot * 60_000);
    const grid = `Start and end snap to its ${slot}-minute slots${
      Number.isInteger(slots) && slots > 0
        ? ` (this window: ${slots === 1 ? '1 slot' : `${slots} slots`})`
        : ''
    }.`;
    note.textContent = !zone
      ? 'Delivery times are the meter zone’s market time.'
      : tz === 'UTC'
        ? `Delivery times are market time: UTC${z ? '' : ` (${zone} is not a configured zone)`}, whatever your clock. ${grid}`
        : `Delivery times are ${z!.id}'s market time: ${tz} (${tzLabel(tz, at)} on that date), whatever your clock. ${grid}`;
  };

  /** The active meters as options, the choice kept when it is still active. */
  const fillMeters = () => {
    const active = meters.active();
    const chosen = meterSelect.value;
    setContent(
      meterSelect,
      ...active.map((m) => h('option', { value: m.id }, `${meterName(m)} · ${m.zone}`)),
    );
    if (active.some((m) => m.id === chosen)) meterSelect.value = chosen;
    const none = meters.ready && active.length === 0;
    noMeter.hidden = !none;
    meterSelect.disabled = active.length === 0;
    hold(submit, none, 'post-no-meter');
    showMarketTime();
  };
  fillMeters();
  meters.onChange(fillMeters);
  marketZones.onChange(showMarketTime);
  meterSelect.addEventListener('change', () => {
    messages.clear('meterId');
    if (!untouched) snapWindow();
    showMarketTime();
  });
  for (const el of [start, end]) {
    el.addEventListener('input', () => {
      untouched = false;
      showMarketTime();
    });
    el.addEventListener('blur', () => {
      snapWindow();
      showMarketTime();
    });
  }
  byId('post-add-meter').addEventListener('click', (ev) => {
    ev.preventDefault();
    const first = byId('meter-form').querySelector<HTMLInputElement>('input');
    first?.scrollIntoView({ block: 'center' });
    first?.focus({ preventScroll: true });
  });
  /** the price the trader was warned about and submits again: posted without a second warning */
  let warnedPrice: string | undefined;
  /** a listing sent without an answer: sent again unchanged, it carries the same requestId */
  const again = new SendAgain();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    snapWindow();
    // the window is posted as shown: a proposed one that the clock has overtaken since (its gate
    // closed while the form stood open) moves to the next open slot, and the trader posts again
    // having seen it
    const shownAt = fromMarketInput(start.value, marketZones.timeZone(zoneOf()))?.at;
    if (untouched && shownAt && shownAt.getTime() !== proposedStart(zoneOf()).getTime()) {
      showMarketTime();
      messages.set(
        'deliveryStart',
        'The proposed window closed for trading while the form was open: it moved to the next open slot. Check it and post again.',
        'warn',
      );
      return;
    }
    showMarketTime();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    void busy(
      submit,
      async () => {
        messages.clearAll();
        const volume = parseInput(text('volumeKwh'), KWH_SCALE, 'volume');
        const price = parseInput(text('pricePerKwh'), PRICE_SCALE, 'price');
        const meter = meters.get(text('meterId'));
        const zone = meter?.zone ?? '';
        const tz = marketZones.timeZone(zone);
        const slot = slotOf(zone);
        const label = tzLabel(tz, fromMarketInput(text('deliveryStart'), tz)?.at ?? new Date());
        const startWall = fromMarketInput(text('deliveryStart'), tz);
        const endWall = fromMarketInput(text('deliveryEnd'), tz);
        const startAt = startWall?.at;
        const endAt = endWall?.at;
        let bad = false;
        const fail = (name: string, sentence: string) => {
          messages.set(name, sentence);
          bad = true;
        };
        if (meter?.status !== 'active')
          fail('meterId', 'Choose the meter the energy leaves (selling) or enters (buying).');
        if (volume.error) fail('volumeKwh', volume.error);
        else if (volume.value === '0.000') fail('volumeKwh', 'The volume must be more than 0 kWh.');
        if (price.error) fail('pricePerKwh', price.error);
        const gap = (value: string) =>
          `${value.replace('T', ' ')} does not exist in ${tz}: the clocks go forward over it. Pick a time before or after.`;
        const repeated = (value: string, [first, second]: [Date, Date]) =>
          `${value.replace('T', ' ')} happens twice in ${tz} (${tzLabel(tz, first)}, then ${tzLabel(tz, second)}): the clocks go back over it. Pick a time outside the repeated hour.`;
        if (startWall?.gap) fail('deliveryStart', gap(text('deliveryStart')));
        else if (startWall?.repeated)
          fail('deliveryStart', repeated(text('deliveryStart'), startWall.repeated));
        else if (!startAt) fail('deliveryStart', `Pick the delivery start (${label}).`);
        if (endWall?.gap) fail('deliveryEnd', gap(text('deliveryEnd')));
        else if (endWall?.repeated) fail('deliveryEnd', repeated(text('deliveryEnd'), endWall.repeated));
        else if (!endAt)
          fail('deliveryEnd', `Pick the delivery end (${tzLabel(tz, startAt ?? new Date())}).`);
        else if (startAt && endAt <= startAt) fail('deliveryEnd', 'The delivery must end after it starts.');
        else if (startAt && (endAt.getTime() - startAt.getTime()) / (slot * 60_000) > MAX_SLOTS)
          fail(
            'deliveryEnd',
            `A listing covers at most ${MAX_SLOTS} slots of ${slot} minutes: pick an earlier delivery end.`,
          );
        if (bad) return;
        const draft = {
          side: text('side'),
          energyType: text('energyType'),
          pricePerKwh: price.value!,
          deliveryStart: startAt!.toISOString(),
          deliveryEnd: endAt!.toISOString(),
        };
        const warning = farFromMarket(draft, market.active());
        if (warning && warnedPrice !== price.value) {
          warnedPrice = price.value;
          messages.set('pricePerKwh', warning, 'warn');
          return;
        }
        const description = text('description');
        const payload: CommandArgs<'listing:create'> = {
          ...draft,
          volumeKwh: volume.value!,
          meterId: meter!.id,
          ...(data.get('allOrNone') !== null ? { allOrNone: true } : {}),
          ...(description ? { description } : {}),
        };
        const listing = await market.desk.send(
          'listing:create',
          payload,
          (t) => {
            messages.general.textContent = t;
          },
          again,
        );
        warnedPrice = undefined;
        market.apply(listing);
        // a fresh form for the next listing, keeping side, type, meter and window
        const keep = ['side', 'energyType', 'meterId', 'deliveryStart', 'deliveryEnd'].map(
          (name) => [name, text(name)] as const,
        );
        form.reset();
        for (const [name, value] of keep) {
          const el = form.elements.namedItem(name);
          if (
            el instanceof RadioNodeList ||
            el instanceof HTMLInputElement ||
            el instanceof HTMLSelectElement
          )
            el.value = value;
        }
        toast({
          title: 'Listing posted',
          body: market.matches(listing) ? undefined : 'It is hidden by the market filter.',
          kind: 'success',
          timeoutMs: 4000,
        });
      },
      (err) => {
        const side = text('side');
        messages.show(err, undefined, {
          what: 'This listing',
          zone: zoneOf(),
          direction: (id) => (id === text('meterId') ? (side === 'supply' ? 'export' : 'import') : undefined),
        });
      },
    );
  });
  form.addEventListener('input', (ev) => {
    if ((ev.target as HTMLInputElement).name === 'pricePerKwh') warnedPrice = undefined;
  });
}
