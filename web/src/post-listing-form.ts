// The post-listing form: volume and price in the reader's locale (a decimal comma in de-DE), the
// zone from the known ones (the configured first), the delivery window in that zone's market time
// (labelled; UTC for a zone not configured), converted exactly to UTC for the hub: a wall time the
// clocks skip (spring forward) is refused at its field. Errors are said at their field; a price far
// from the market is questioned once before it is posted. After a post the form is reset for the
// next one, keeping side, type, zone and window.
import { SendAgain } from './command-desk.js';
import { KWH_SCALE, PRICE_SCALE } from './decimal.js';
import { entry } from './entry-gate.js';
import { FieldMessages } from './field-messages.js';
import { parseInput } from './locale.js';
import { farFromMarket } from './market-check.js';
import type { MarketPanel } from './market-panel.js';
import { fromMarketInput, marketZones, toMarketInput, tzLabel } from './market-time.js';
import { busy, byId, capitalize, ENERGY_TYPES, field, h, toast } from './ui.js';

/** Wires #post-form to the market it posts into. */
export function wirePostForm(market: MarketPanel): void {
  const form = byId<HTMLFormElement>('post-form');
  const type = field<HTMLSelectElement>(form, 'select[name=energyType]');
  for (const t of ENERGY_TYPES) type.append(h('option', { value: t }, capitalize(t)));
  const start = field<HTMLInputElement>(form, 'input[name=deliveryStart]');
  const end = field<HTMLInputElement>(form, 'input[name=deliveryEnd]');
  const zoneInput = field<HTMLInputElement>(form, 'input[name=zone]');
  const labels = form.querySelectorAll<HTMLElement>('.tz-label');
  const note = byId('market-time-note');
  /** the window was not edited: it follows the zone (the hour after next, in its market time) */
  let untouched = true;
  const showMarketTime = () => {
    const zone = market.zones.canonical(zoneInput.value.trim());
    const tz = marketZones.timeZone(zone);
    if (untouched) {
      const s = new Date();
      s.setUTCMinutes(0, 0, 0);
      s.setUTCHours(s.getUTCHours() + 2);
      start.value = toMarketInput(s, tz);
      end.value = toMarketInput(new Date(s.getTime() + 3_600_000), tz);
    }
    const at = fromMarketInput(start.value, tz)?.at ?? new Date();
    // each field labelled from its own instant (a window may cross a change of the clocks)
    const endAt = fromMarketInput(end.value, tz)?.at ?? at;
    for (const el of labels) {
      const isEnd = el.closest('label')?.querySelector('input')?.name === 'deliveryEnd';
      el.textContent = tzLabel(tz, isEnd ? endAt : at);
    }
    note.textContent =
      tz === 'UTC'
        ? `Delivery times are market time: UTC${zone && !marketZones.get(zone) ? ` (${zone} is not a configured zone)` : ''}, whatever your clock.`
        : `Delivery times are ${marketZones.get(zone)!.id}'s market time: ${tz} (${tzLabel(tz, at)} on that date), whatever your clock.`;
  };
  showMarketTime();
  marketZones.onChange(showMarketTime);
  zoneInput.addEventListener('input', showMarketTime);
  for (const el of [start, end])
    el.addEventListener('input', () => {
      untouched = false;
      showMarketTime();
    });
  const messages = new FieldMessages(form, field<HTMLElement>(form, '.form-error'));
  const submit = entry(field<HTMLButtonElement>(form, 'button[type=submit]'));
  /** the price the trader was warned about and submits again: posted without a second warning */
  let warnedPrice: string | undefined;
  /** a listing sent without an answer: sent again unchanged, it carries the same requestId */
  const again = new SendAgain();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    void busy(
      submit,
      async () => {
        messages.clearAll();
        const volume = parseInput(text('volumeKwh'), KWH_SCALE, 'volume');
        const price = parseInput(text('pricePerKwh'), PRICE_SCALE, 'price');
        const zone = market.zones.canonical(text('zone'));
        const tz = marketZones.timeZone(zone);
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
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(zone))
          fail('zone', 'A zone is 1 to 64 letters, digits, "_" or "-", like DE-North.');
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
        const listing = await market.desk.send(
          'listing:create',
          { ...draft, volumeKwh: volume.value!, zone, ...(description ? { description } : {}) },
          (t) => {
            messages.general.textContent = t;
          },
          again,
        );
        warnedPrice = undefined;
        market.apply(listing);
        // a fresh form for the next listing, keeping side, type, zone and window
        const keep = ['side', 'energyType', 'deliveryStart', 'deliveryEnd'].map(
          (name) => [name, text(name)] as const,
        );
        form.reset();
        for (const [name, value] of [...keep, ['zone', zone] as const]) {
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
      (err) => messages.show(err),
    );
  });
  form.addEventListener('input', (ev) => {
    if ((ev.target as HTMLInputElement).name === 'pricePerKwh') warnedPrice = undefined;
  });
}
