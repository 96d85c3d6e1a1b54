// One row of the market table: how a listing is shown, and its Offer / View offer / Cancel button.
import type { Listing } from '../../src/client/index.js';
import { KWH_SCALE, perMille } from './decimal.js';
import type { MarketPanel } from './market-panel.js';
import { badge, busy, capitalize, h, setContent, windowParts } from './ui.js';

type Side = Listing['side'];

const sideLabel = (side: Side) => (side === 'supply' ? 'Supply' : 'Demand');

/** One listing's row; its buttons persist across updates so keyboard focus is kept. */
export class ListingRow {
  readonly tr: HTMLTableRowElement;
  private readonly kind = h('td', { 'data-label': 'Listing' });
  private readonly delivery = h('td', { 'data-label': 'Delivery' });
  private readonly price = h('td', { class: 'num', 'data-label': 'Price' });
  private readonly availText = h('div', { class: 'avail-text mono', 'data-testid': 'listing-available' });
  private readonly barFill = h('div', { class: 'bar-fill' });
  private readonly bar = h('div', { class: 'bar', role: 'img' }, this.barFill);
  private readonly desc = h('td', {
    class: 'desc',
    'data-label': 'Description',
    'data-testid': 'listing-description',
  });
  private readonly actions = h('td', { class: 'actions-cell' });
  private readonly offer: HTMLButtonElement;
  private readonly view: HTMLButtonElement;
  private readonly cancel: HTMLButtonElement;

  constructor(
    public listing: Listing,
    private readonly market: MarketPanel,
  ) {
    this.offer = h(
      'button',
      { type: 'button', class: 'btn small primary', 'data-testid': 'propose-button' },
      'Offer…',
    );
    this.offer.addEventListener('click', () => this.market.openPropose(this.listing));
    this.view = h(
      'button',
      { type: 'button', class: 'btn small', 'data-testid': 'view-offer-button' },
      'View offer',
    );
    this.view.addEventListener('click', () => {
      const swapId = this.market.hooks.openSwapOn(this.listing.id);
      if (swapId) this.market.hooks.showSwap(swapId);
    });
    this.cancel = h(
      'button',
      { type: 'button', class: 'btn small danger', 'data-testid': 'cancel-listing-button' },
      'Cancel',
    );
    this.cancel.addEventListener('click', () =>
      busy(this.cancel, async () =>
        this.market.apply(await this.market.client.cancelListing(this.listing.id)),
      ),
    );
    this.tr = h(
      'tr',
      { 'data-testid': 'listing-row', 'data-listing-id': listing.id },
      this.kind,
      this.delivery,
      this.price,
      h('td', { class: 'avail', 'data-label': 'Available' }, this.availText, this.bar),
      this.desc,
      this.actions,
    );
    this.update(listing);
  }

  update(l: Listing): void {
    this.listing = l;
    const mine = l.ownerId === this.market.client.user.id;
    const what = `${capitalize(l.energyType)} ${sideLabel(l.side).toLowerCase()} in ${l.zone}`;
    this.tr.dataset.status = l.status;
    this.tr.classList.toggle('closed', l.status !== 'active');
    setContent(
      this.kind,
      h('span', { class: `energy energy-${l.energyType}` }, capitalize(l.energyType)),
      mine ? ' ' : null,
      mine ? h('span', { class: 'chip', title: 'Your listing' }, 'yours') : null,
      h(
        'span',
        { class: 'block small' },
        h('span', { class: `side-${l.side}` }, sideLabel(l.side)),
        ' · ',
        h('span', { class: 'zone', 'data-testid': 'listing-zone' }, l.zone),
      ),
    );
    const [day, hours] = windowParts(l.deliveryStart, l.deliveryEnd);
    setContent(
      this.delivery,
      h('span', { class: 'nowrap' }, day),
      h('span', { class: 'muted small block' }, hours),
    );
    setContent(
      this.price,
      h('span', { class: 'mono' }, l.pricePerKwh),
      h('span', { class: 'unit block' }, `${l.currency}/kWh`),
    );
    this.availText.textContent = `${l.availableKwh} / ${l.volumeKwh} kWh`;
    const share = perMille(l.availableKwh, l.volumeKwh, KWH_SCALE);
    this.barFill.style.width = `${share / 10}%`;
    this.bar.setAttribute('aria-label', `${share / 10}% available`);
    this.desc.textContent = l.description || '—';
    this.offer.setAttribute('aria-label', `Make an offer: ${what}`);
    this.cancel.setAttribute('aria-label', `Cancel your listing: ${what}`);
    this.refreshActions();
  }

  refreshActions(): void {
    const l = this.listing;
    if (l.status !== 'active') {
      setContent(this.actions, badge(l.status));
      return;
    }
    const mine = l.ownerId === this.market.client.user.id;
    const open = !mine && this.market.hooks.openSwapOn(l.id);
    const want = mine ? this.cancel : open ? this.view : this.offer;
    if (this.actions.firstChild !== want || this.actions.childNodes.length !== 1)
      setContent(this.actions, want);
  }
}
