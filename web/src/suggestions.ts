// Match suggestions on one of the trader's own active listings: GET /api/v1/listings/:id/matches
// lists the active listings of the other side that could trade with it (same energy type,
// overlapping window, this zone or one linked by wheeling), best landed price first. Each has a
// Propose button opening the offer dialog prefilled: the trader's own listing's meter, the match's
// price, and the most both listings can trade (the match's whole volume when it is all-or-none).
// Shown in a row under the listing's own row, which the order book moves along with it.
import type { Listing } from '../../src/client/index.js';
import { entry } from './entry-gate.js';
import { sentenceFor } from './field-messages.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import type { MarketPanel } from './market-panel.js';
import { fmtWindow } from './market-time.js';
import type { ListingMatch } from './market-types.js';
import { prefillFor } from './match-prefill.js';
import { busy, capitalize, h, setContent } from './ui.js';

/** How many suggestions are asked for. */
const MATCH_LIMIT = 10;

/** A listing without the suggestion's extra field, as the market shows listings. */
function asListing(m: ListingMatch): Listing {
  const { landedPricePerKwh: _landed, ...l } = m;
  return l;
}

export class MatchPanel {
  readonly tr: HTMLTableRowElement;
  private readonly status = h('p', { class: 'muted small', 'data-testid': 'matches-status', role: 'status' });
  private readonly list = h('ul', { class: 'matches-list', 'data-testid': 'matches-list' });
  private readonly refreshButton = h(
    'button',
    { type: 'button', class: 'btn small ghost', 'data-testid': 'matches-refresh' },
    'Refresh',
  );
  private generation = 0;

  constructor(
    private own: Listing,
    private readonly market: MarketPanel,
    readonly id: string,
  ) {
    const title = h('strong', { class: 'small' }, `Matches for your ${own.side} listing`);
    this.refreshButton.addEventListener('click', () => void busy(this.refreshButton, () => this.load()));
    this.tr = h(
      'tr',
      { class: 'matches-row', 'data-testid': 'matches-row', 'data-listing-id': own.id },
      h(
        'td',
        { colspan: 4 },
        h(
          'section',
          {
            class: 'matches',
            id,
            'aria-label': `Matches for your ${own.side} listing`,
            'data-testid': 'matches',
          },
          h('div', { class: 'matches-head' }, title, this.refreshButton),
          this.status,
          this.list,
        ),
      ),
    );
  }

  /** The own listing changed (less available, a new price): the prefill follows. */
  update(own: Listing): void {
    this.own = own;
  }

  async load(): Promise<void> {
    const gen = ++this.generation;
    this.status.textContent = 'Looking for matches…';
    try {
      // the owner's own view names the listing's meter (the market's events do not)
      const own = this.own.meterId
        ? this.own
        : await this.market.client.rest<Listing>(
            'GET',
            `/api/v1/listings/${encodeURIComponent(this.own.id)}`,
          );
      if (own.meterId) this.own = { ...this.own, meterId: own.meterId };
      const page = await this.market.client.rest<{ items: ListingMatch[] }>(
        'GET',
        `/api/v1/listings/${encodeURIComponent(this.own.id)}/matches?limit=${MATCH_LIMIT}`,
      );
      if (gen !== this.generation) return;
      for (const m of page.items) this.market.directory.put(asListing(m));
      this.render(page.items);
    } catch (err) {
      if (gen !== this.generation) return;
      this.status.textContent = `Matches not loaded: ${sentenceFor(err)}`;
    }
  }

  private render(items: ListingMatch[]): void {
    this.status.textContent =
      items.length === 0
        ? 'No active listing matches this one now.'
        : `${items.length === 1 ? '1 match' : `${items.length} matches`}, best landed price first (with the fees you would pay or bear).`;
    setContent(this.list, ...items.map((m) => this.item(m)));
  }

  private item(m: ListingMatch): HTMLLIElement {
    const verb = m.side === 'supply' ? 'Buy' : 'Sell';
    const what = `${capitalize(m.energyType)} ${m.side} by ${m.ownerName} in ${m.zone}, delivery ${fmtWindow(m.deliveryStart, m.deliveryEnd, m.zone)}`;
    const propose = entry(
      h(
        'button',
        {
          type: 'button',
          class: 'btn small primary',
          'data-testid': 'match-propose',
          'aria-label': `Propose: ${verb.toLowerCase()} from ${what}`,
        },
        'Propose…',
      ),
    );
    propose.addEventListener('click', () => {
      const own = this.own;
      // the listing as it is now (its events keep the directory current), not as the matches loaded
      const now = this.market.directory.peek(m.id);
      const current: ListingMatch = now && now.version > m.version ? { ...m, ...now } : m;
      if (current.status !== 'active') {
        this.status.textContent = `This listing is ${current.status} now: refresh the matches.`;
        return;
      }
      this.market.openPropose(asListing(current), { ...prefillFor(own, current), meterId: own.meterId });
    });
    return h(
      'li',
      { class: 'match', 'data-testid': 'match-row', 'data-listing-id': m.id },
      h(
        'div',
        {},
        h(
          'div',
          { class: 'match-terms' },
          h('span', { class: 'owner', 'data-testid': 'match-owner' }, m.ownerName),
          h('span', { class: 'zone', 'data-testid': 'match-zone' }, m.zone),
          h('span', { class: 'small' }, fmtWindow(m.deliveryStart, m.deliveryEnd, m.zone)),
        ),
        h(
          'div',
          { class: 'match-terms small' },
          h(
            'span',
            {},
            'Price ',
            h('span', { class: 'mono', 'data-testid': 'match-price' }, fmtDecimal(m.pricePerKwh)),
            ` ${m.currency}/kWh`,
          ),
          h(
            'span',
            {},
            'landed ',
            h('span', { class: 'mono', 'data-testid': 'match-landed' }, fmtDecimal(m.landedPricePerKwh)),
          ),
          h(
            'span',
            {},
            h('span', { class: 'mono', 'data-testid': 'match-available' }, fmtKwh(m.availableKwh)),
            m.allOrNone ? ' · all or none' : ' available',
          ),
        ),
      ),
      propose,
    );
  }
}
