// Amending an own listing in place (PROTOCOL v1.1 `listing:amend`): a new price, a new total
// volume, or both. Only what changed is sent. Lowering the volume may void open offers that no
// longer fit, so the trader is asked first when there are any.
import type { Listing } from '../../src/client/index.js';
import { confirmAction } from './confirm.js';
import { compareDecimal, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import { entry } from './entry-gate.js';
import { FieldMessages } from './field-messages.js';
import { parseInput, toInput } from './locale.js';
import type { MarketPanel } from './market-panel.js';
import { SendAgain } from './send-again.js';
import { busy, h } from './ui.js';

export class AmendForm {
  readonly el: HTMLFormElement;
  private readonly price: HTMLInputElement;
  private readonly volume: HTMLInputElement;
  /** an amendment sent without an answer, sent again unchanged with the same requestId */
  private readonly again = new SendAgain();

  constructor(
    private listing: Listing,
    private readonly market: MarketPanel,
    private readonly close: () => void,
  ) {
    this.price = h('input', {
      name: 'pricePerKwh',
      inputmode: 'decimal',
      autocomplete: 'off',
      value: toInput(listing.pricePerKwh),
      'data-testid': 'amend-price',
    });
    this.volume = h('input', {
      name: 'volumeKwh',
      inputmode: 'decimal',
      autocomplete: 'off',
      value: toInput(listing.volumeKwh),
      'data-testid': 'amend-volume',
    });
    const save = entry(
      h('button', { type: 'submit', class: 'btn small primary', 'data-testid': 'amend-save' }, 'Save'),
    );
    const back = h('button', { type: 'button', class: 'btn small ghost' }, 'Close');
    const general = h('p', { class: 'form-error small', role: 'alert' });
    this.el = h(
      'form',
      { class: 'amend-form', 'aria-label': 'Amend your listing', 'data-testid': 'amend-form' },
      h('label', {}, `New price per kWh (${listing.currency})`, this.price),
      h('label', {}, 'New total volume (kWh)', this.volume),
      h('div', { class: 'answer-row' }, save, back),
      general,
    );
    const messages = new FieldMessages(this.el, general);
    back.addEventListener('click', () => this.close());
    this.el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.close();
    });
    this.el.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        save,
        () => this.submit(messages, general),
        (err) => messages.show(err),
      );
    });
  }

  focus(): void {
    this.price.select();
  }

  /**
   * The listing changed while the form is open (another tab's amendment, an accept): what the form
   * compares with is the listing now, and a field the trader has not edited shows its new value.
   */
  setListing(l: Listing): void {
    const was = this.listing;
    this.listing = l;
    if (this.price.value === toInput(was.pricePerKwh)) this.price.value = toInput(l.pricePerKwh);
    if (this.volume.value === toInput(was.volumeKwh)) this.volume.value = toInput(l.volumeKwh);
  }

  private async submit(messages: FieldMessages, general: HTMLElement): Promise<void> {
    messages.clearAll();
    const l = this.listing;
    const price = parseInput(this.price.value, PRICE_SCALE, 'price');
    const volume = parseInput(this.volume.value, KWH_SCALE, 'volume');
    if (price.error) messages.set('pricePerKwh', price.error);
    if (volume.error) messages.set('volumeKwh', volume.error);
    if (price.error || volume.error) return;
    const newPrice = compareDecimal(price.value!, l.pricePerKwh, PRICE_SCALE) !== 0 ? price.value : undefined;
    const newVolume = compareDecimal(volume.value!, l.volumeKwh, KWH_SCALE) !== 0 ? volume.value : undefined;
    if (!newPrice && !newVolume) {
      general.textContent = 'Nothing changed: edit the price or the volume first.';
      return;
    }
    const offers = this.market.hooks.openOffersOn(l.id);
    if (newVolume && compareDecimal(newVolume, l.volumeKwh, KWH_SCALE) === -1 && offers > 0) {
      const ok = await confirmAction({
        title: 'Lower the volume?',
        body: `${offers === 1 ? '1 open offer' : `${offers} open offers`} on this listing: those that no longer fit the new available volume will be voided. This cannot be undone.`,
        confirmLabel: 'Lower the volume',
      });
      if (!ok) return;
    }
    const changes = { pricePerKwh: newPrice, volumeKwh: newVolume }; // only what changed is sent
    const amended = await this.market.desk.send(
      'listing:amend',
      { listingId: l.id, ...changes },
      (t) => {
        general.textContent = t;
      },
      this.again,
    );
    this.market.apply(amended);
    this.close();
  }
}
