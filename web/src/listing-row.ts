// One listing in the order book: who posts it, the price, what is left, and its buttons (Offer /
// View offer for others' listings; the open-offer count, Amend and Cancel on the trader's own).
import type { Listing } from '../../src/client/index.js';
import { AmendForm } from './amend-form.js';
import { confirmAction } from './confirm.js';
import { KWH_SCALE, perMille } from './decimal.js';
import { entry } from './entry-gate.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import type { MarketPanel } from './market-panel.js';
import { fmtWindow } from './market-time.js';
import { MatchPanel } from './suggestions.js';
import { badge, busy, capitalize, h, setContent } from './ui.js';

type Side = Listing['side'];

const sideLabel = (side: Side) => (side === 'supply' ? 'Supply' : 'Demand');

/** One listing's row; its buttons persist across updates so keyboard focus is kept. */
export class ListingRow {
  readonly tr: HTMLTableRowElement;
  private readonly kind = h('td', { 'data-label': 'Listing' });
  private readonly desc = h('span', {
    class: 'desc block small',
    'data-testid': 'listing-description',
  });
  private readonly price = h('td', { class: 'num', 'data-label': 'Price' });
  private readonly availText = h('div', { class: 'avail-text mono', 'data-testid': 'listing-available' });
  private readonly barFill = h('div', { class: 'bar-fill' });
  private readonly bar = h('div', { class: 'bar', role: 'img' }, this.barFill);
  private readonly actions = h('td', { class: 'actions-cell' });
  private readonly offers = h('span', { class: 'offers-count small', 'data-testid': 'listing-offers' });
  private readonly note = h('p', { class: 'form-error small', role: 'alert' });
  private readonly offer: HTMLButtonElement;
  private readonly view: HTMLButtonElement;
  private readonly cancel: HTMLButtonElement;
  private readonly amend: HTMLButtonElement;
  private readonly ownActions: HTMLElement;
  private amendForm: AmendForm | undefined;
  private readonly matchesButton: HTMLButtonElement;
  private readonly newMatch = h(
    'span',
    { class: 'chip new-match', 'data-testid': 'new-match', role: 'status', hidden: true },
    'new match',
  );
  private matches: MatchPanel | undefined;

  constructor(
    public listing: Listing,
    private readonly market: MarketPanel,
  ) {
    this.offer = entry(
      h('button', { type: 'button', class: 'btn small primary', 'data-testid': 'propose-button' }, 'Offer…'),
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
    this.cancel = entry(
      h(
        'button',
        { type: 'button', class: 'btn small danger', 'data-testid': 'cancel-listing-button' },
        'Cancel',
      ),
    );
    this.cancel.addEventListener('click', () => void this.cancelListing());
    this.amend = entry(
      h('button', { type: 'button', class: 'btn small', 'data-testid': 'amend-button' }, 'Amend'),
    );
    this.amend.addEventListener('click', () => this.openAmend());
    this.matchesButton = h(
      'button',
      {
        type: 'button',
        class: 'btn small',
        'data-testid': 'matches-button',
        'aria-expanded': 'false',
        'aria-controls': `matches-${listing.id}`,
      },
      'Matches',
    );
    this.matchesButton.addEventListener('click', () => this.toggleMatches());
    this.ownActions = h(
      'div',
      { class: 'own-actions' },
      this.offers,
      this.newMatch,
      this.matchesButton,
      this.amend,
      this.cancel,
    );
    this.tr = h(
      'tr',
      { 'data-testid': 'listing-row', 'data-listing-id': listing.id },
      this.kind,
      this.price,
      h('td', { class: 'avail', 'data-label': 'Available' }, this.availText, this.bar),
      this.actions,
    );
    this.update(listing);
  }

  get mine(): boolean {
    return this.listing.ownerId === this.market.client.user.id;
  }

  update(l: Listing): void {
    this.listing = l;
    const mine = this.mine;
    const what = `${capitalize(l.energyType)} ${sideLabel(l.side).toLowerCase()} in ${l.zone}, delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd, l.zone)}`;
    this.tr.dataset.status = l.status;
    this.tr.dataset.side = l.side;
    this.tr.classList.toggle('closed', l.status !== 'active');
    this.tr.classList.toggle('mine', mine);
    this.desc.textContent = l.description || '';
    setContent(
      this.kind,
      h('span', { class: `energy energy-${l.energyType}` }, capitalize(l.energyType)),
      ' ',
      mine
        ? h('span', { class: 'chip', title: 'Your listing' }, 'yours')
        : h('span', { class: 'owner', 'data-testid': 'listing-owner' }, l.ownerName),
      h(
        'span',
        { class: 'block small' },
        h('span', { class: 'zone', 'data-testid': 'listing-zone' }, l.zone),
      ),
      this.desc,
    );
    setContent(
      this.price,
      h('span', { class: 'mono', 'data-testid': 'listing-price' }, fmtDecimal(l.pricePerKwh)),
      h('span', { class: 'unit block' }, `${l.currency}/kWh`),
    );
    this.availText.textContent = `${fmtDecimal(l.availableKwh)} / ${fmtKwh(l.volumeKwh)}`;
    const share = perMille(l.availableKwh, l.volumeKwh, KWH_SCALE);
    this.barFill.style.width = `${share / 10}%`;
    this.bar.setAttribute('aria-label', `${share / 10}% available`);
    this.offer.setAttribute('aria-label', `Make an offer: ${what}`);
    this.cancel.setAttribute('aria-label', `Cancel your listing: ${what}`);
    this.amend.setAttribute('aria-label', `Amend price or volume of your listing: ${what}`);
    this.matchesButton.setAttribute('aria-label', `Matches for your listing: ${what}`);
    if (l.status !== 'active') {
      this.amendForm = undefined;
      this.closeMatches();
    } else {
      this.matches?.update(l);
      this.amendForm?.setListing(l);
    }
    this.refreshActions();
  }

  refreshActions(): void {
    const l = this.listing;
    if (l.status !== 'active') {
      setContent(this.actions, badge(l.status));
      return;
    }
    if (this.amendForm) return;
    if (this.mine) {
      const n = this.market.hooks.openOffersOn(l.id);
      this.offers.textContent = n === 1 ? '1 open offer' : `${n} open offers`;
      this.offers.dataset.count = String(n);
    }
    const open = !this.mine && this.market.hooks.openSwapOn(l.id);
    const want = this.mine ? this.ownActions : open ? this.view : this.offer;
    if (this.actions.firstChild !== want || this.actions.childNodes.length !== 2)
      setContent(this.actions, want, this.note);
  }

  /** The suggestions' row under this one while they are open (the order book moves it along). */
  get detail(): HTMLTableRowElement | undefined {
    return this.matches?.tr;
  }

  /** `listing.matched`: a new listing crosses this one's price; open suggestions are refreshed. */
  matched(): void {
    if (this.listing.status !== 'active') return;
    if (this.matches) void this.matches.load();
    else this.newMatch.hidden = false;
  }

  private toggleMatches(): void {
    if (this.matches) {
      this.closeMatches();
      return;
    }
    this.newMatch.hidden = true;
    this.matches = new MatchPanel(this.listing, this.market, `matches-${this.listing.id}`);
    this.tr.after(this.matches.tr);
    this.matchesButton.setAttribute('aria-expanded', 'true');
    void this.matches.load();
  }

  private closeMatches(): void {
    if (!this.matches) return;
    const hadFocus = this.matches.tr.contains(document.activeElement);
    this.matches.tr.remove();
    this.matches = undefined;
    this.matchesButton.setAttribute('aria-expanded', 'false');
    if (hadFocus && this.listing.status === 'active') this.matchesButton.focus();
  }

  /** Cancelling voids the open offers on the listing: the trader is asked first, with how many. */
  private async cancelListing(): Promise<void> {
    const n = this.market.hooks.openOffersOn(this.listing.id);
    if (n > 0) {
      const ok = await confirmAction({
        title: 'Cancel this listing?',
        body: `${n === 1 ? '1 open offer' : `${n} open offers`} on it will be voided, and the traders who made ${
          n === 1 ? 'it' : 'them'
        } are told. This cannot be undone.`,
        confirmLabel: `Cancel listing and void ${n === 1 ? '1 offer' : `${n} offers`}`,
      });
      if (!ok) return;
    }
    await busy(
      this.cancel,
      async () =>
        this.market.apply(
          await this.market.desk.send('listing:cancel', { listingId: this.listing.id }, (t) => {
            this.note.textContent = t;
          }),
        ),
      this.note,
    );
  }

  private openAmend(): void {
    this.amendForm = new AmendForm(this.listing, this.market, () => {
      this.amendForm = undefined;
      setContent(this.actions);
      this.refreshActions();
      this.amend.focus();
    });
    setContent(this.actions, this.amendForm.el);
    this.amendForm.focus();
  }
}
