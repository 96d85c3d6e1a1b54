// The propose dialog: the first offer on a listing, with its volume, price and an optional note.
import type { Listing } from '../../src/client/index.js';
import { decimalPattern, isDecimal, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import type { MarketHooks } from './market-panel.js';
import type { DashboardClient } from './session.js';
import { busy, byId, capitalize, field, fmtWindow, toast } from './ui.js';

export class ProposeDialog {
  private proposing: Listing | undefined;

  constructor(
    private readonly client: DashboardClient,
    private readonly hooks: Pick<MarketHooks, 'proposed'>,
  ) {
    const dialog = byId<HTMLDialogElement>('propose-dialog');
    const form = byId<HTMLFormElement>('propose-form');
    const volume = field<HTMLInputElement>(form, 'input[name=volumeKwh]');
    const price = field<HTMLInputElement>(form, 'input[name=pricePerKwh]');
    volume.pattern = decimalPattern(KWH_SCALE);
    price.pattern = decimalPattern(PRICE_SCALE);
    const out = field<HTMLElement>(form, '.form-error');
    const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
    byId('propose-cancel').addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const listing = this.proposing;
      if (!listing) return;
      const data = new FormData(form);
      const text = (name: string) => String(data.get(name) ?? '').trim();
      void busy(
        submit,
        async () => {
          if (!isDecimal(text('volumeKwh'), KWH_SCALE))
            throw new Error('Volume: kWh with at most 3 decimals');
          if (!isDecimal(text('pricePerKwh'), PRICE_SCALE)) throw new Error('Price: at most 4 decimals');
          const note = text('note');
          const swap = await this.client.propose({
            listingId: listing.id,
            volumeKwh: text('volumeKwh'),
            pricePerKwh: text('pricePerKwh'),
            ...(note ? { note } : {}),
          });
          dialog.close();
          this.hooks.proposed(swap);
          toast({
            title: 'Offer sent',
            body: `Round 1 · ${swap.volumeKwh} kWh at ${swap.pricePerKwh}`,
            kind: 'info',
            timeoutMs: 4000,
          });
        },
        out,
      );
    });
  }

  open(l: Listing): void {
    const dialog = byId<HTMLDialogElement>('propose-dialog');
    const form = byId<HTMLFormElement>('propose-form');
    this.proposing = l;
    const verb = l.side === 'supply' ? 'Buy' : 'Sell';
    byId('propose-title').textContent = `${verb} ${l.energyType} energy`;
    byId('propose-summary').textContent =
      `${capitalize(l.energyType)} ${l.side} in ${l.zone} · delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd)} · ` +
      `${l.availableKwh} kWh available at ${l.pricePerKwh} ${l.currency}/kWh`;
    byId('propose-desc').textContent = l.description;
    field<HTMLInputElement>(form, 'input[name=volumeKwh]').value = l.availableKwh;
    field<HTMLInputElement>(form, 'input[name=pricePerKwh]').value = l.pricePerKwh;
    field<HTMLTextAreaElement>(form, 'textarea[name=note]').value = '';
    field(form, '.form-error').textContent = '';
    dialog.showModal();
    field<HTMLInputElement>(form, 'input[name=volumeKwh]').select();
  }
}
