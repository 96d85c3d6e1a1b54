// The post-listing form: validates the delivery window, creates the listing, and resets the
// form for the next one while keeping side, type, zone and window.
import type { Listing } from '../../src/client/index.js';
import { decimalPattern, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import type { DashboardClient } from './session.js';
import { busy, byId, capitalize, ENERGY_TYPES, field, h, toast } from './ui.js';

/** Wires #post-form; `posted` gets each created listing, `matches` says if the filter shows it. */
export function wirePostForm(
  client: DashboardClient,
  posted: (l: Listing) => void,
  matches: (l: Listing) => boolean,
): void {
  const form = byId<HTMLFormElement>('post-form');
  const type = field<HTMLSelectElement>(form, 'select[name=energyType]');
  for (const t of ENERGY_TYPES) type.append(h('option', { value: t }, capitalize(t)));
  const volume = field<HTMLInputElement>(form, 'input[name=volumeKwh]');
  const price = field<HTMLInputElement>(form, 'input[name=pricePerKwh]');
  volume.pattern = decimalPattern(KWH_SCALE);
  price.pattern = decimalPattern(PRICE_SCALE);
  volume.title = 'kWh with at most 3 decimals';
  price.title = 'Price with at most 4 decimals';
  const start = field<HTMLInputElement>(form, 'input[name=deliveryStart]');
  const end = field<HTMLInputElement>(form, 'input[name=deliveryEnd]');
  const defaults = () => {
    const s = new Date();
    s.setMinutes(0, 0, 0);
    s.setHours(s.getHours() + 2);
    start.value = localInput(s);
    end.value = localInput(new Date(s.getTime() + 3_600_000));
  };
  defaults();
  const out = field<HTMLElement>(form, '.form-error');
  const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    void busy(
      submit,
      async () => {
        const startAt = new Date(text('deliveryStart'));
        const endAt = new Date(text('deliveryEnd'));
        if (Number.isNaN(startAt.getTime()) || Number.isNaN(endAt.getTime()))
          throw new Error('Pick the delivery window');
        if (endAt <= startAt) throw new Error('Delivery must end after it starts');
        const description = text('description');
        const listing = await client.createListing({
          side: text('side'),
          energyType: text('energyType'),
          volumeKwh: text('volumeKwh'),
          pricePerKwh: text('pricePerKwh'),
          deliveryStart: startAt.toISOString(),
          deliveryEnd: endAt.toISOString(),
          zone: text('zone'),
          ...(description ? { description } : {}),
        });
        posted(listing);
        // a fresh form for the next listing, keeping side, type, zone and window
        const keep = ['side', 'energyType', 'zone', 'deliveryStart', 'deliveryEnd'].map(
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
          body: matches(listing) ? undefined : 'It is hidden by the market filter.',
          kind: 'success',
          timeoutMs: 4000,
        });
      },
      out,
    );
  });
}

/** A Date as a datetime-local input value, in local time. */
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
