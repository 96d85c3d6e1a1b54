// One negotiation as a card: the terms on the table, with whom (by name), whose turn it is, a
// countdown to expiresAt, the thread of rounds, and the answers (swap-answer.ts) when they apply.
import type { Listing, Offer, Swap } from '../../src/client/index.js';
import { bottomLine, type FeeSide, feeList } from './fee-lines.js';
import { fmtDecimal, fmtKwh, fmtMoney, fmtPrice } from './locale.js';
import { fmtTime, fmtWindow } from './market-time.js';
import type { MarketOffer, MarketSwap } from './market-types.js';
import type { Negotiations } from './negotiations.js';
import { SwapAnswer } from './swap-answer.js';
import { badge, capitalize, fmtCountdown, h, setContent, shortId } from './ui.js';

const CLOSED_LABEL: Record<string, string> = {
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired without an answer',
  voided: 'Voided',
};

/** The other party's display name (PROTOCOL v1.1 `initiatorName` / `recipientName`). */
export const counterpartyName = (s: Swap, me: string): string =>
  s.initiatorId === me ? s.recipientName : s.initiatorName;

export type Mode = 'mine' | 'theirs' | 'closed';

export class SwapCard {
  readonly el: HTMLElement;
  swap: Swap;
  offers: Offer[] = [];
  mode: Mode | '' = '';
  private listing: Listing | undefined;
  private readonly title = h('span', { class: 'swap-title' });
  private readonly status = h('span', {});
  private readonly meta = h('p', { class: 'swap-meta' });
  private readonly terms = h('div', { class: 'swap-terms', 'data-testid': 'swap-terms' });
  /** what the viewer pays or receives on the terms on the table, line by line */
  private readonly fees = h('div', { class: 'swap-fees', 'data-testid': 'swap-fees' });
  /** the rounds whose fee lines the trader opened (kept across re-renders) */
  private readonly openFees = new Set<number>();
  private readonly turn = h('p', { class: 'turn', 'data-testid': 'swap-turn' });
  private readonly thread = h('ol', {
    class: 'thread',
    'data-testid': 'swap-thread',
    'aria-label': 'Rounds',
  });
  private readonly actions = h('div', { class: 'swap-actions' });
  private readonly answer: SwapAnswer;

  constructor(
    swap: Swap,
    private readonly owner: Negotiations,
  ) {
    this.swap = swap;
    this.answer = new SwapAnswer(
      () => this.swap,
      () => this.currency,
      owner,
      () => this.listing?.zone,
    );
    this.el = h(
      'article',
      { class: 'swap-card', 'data-testid': 'swap-card', 'data-swap-id': swap.id, tabindex: -1 },
      h('div', { class: 'swap-head' }, this.title, this.status),
      this.meta,
      this.terms,
      this.fees,
      this.turn,
      this.actions,
      this.answer.error,
      this.thread,
    );
    this.render();
  }

  setListing(l: Listing): void {
    this.listing = l;
    this.render();
  }

  /** the listing's currency; unknown (undefined) until the listing is fetched */
  private get currency(): string | undefined {
    return this.listing?.currency;
  }

  get myTurn(): boolean {
    return this.swap.status === 'open' && this.swap.nextActorId === this.owner.me;
  }

  render(): void {
    const s = this.swap;
    const me = this.owner.me;
    const open = s.status === 'open';
    const myTurn = this.myTurn;
    const buying = s.buyerId === me;
    const who = counterpartyName(s, me);
    const l = this.listing;
    this.el.dataset.status = s.status;
    this.el.dataset.round = String(s.round);
    this.el.classList.toggle('your-turn', myTurn);
    this.el.classList.toggle('their-turn', open && !myTurn);
    this.el.setAttribute(
      'aria-label',
      `${buying ? 'Buying from' : 'Selling to'} ${who}, ${s.status}${myTurn ? ', your turn' : ''}`,
    );

    setContent(
      this.title,
      buying ? 'Buying ' : 'Selling ',
      l
        ? h('span', { class: `energy energy-${l.energyType}` }, capitalize(l.energyType))
        : `listing ${shortId(s.listingId)}`,
      l ? ` · ${l.zone}` : null,
    );
    setContent(this.status, badge(s.status));
    setContent(
      this.meta,
      l ? `Delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd, l.zone)} · ` : '',
      buying ? 'from ' : 'to ',
      h('strong', { class: 'counterparty', 'data-testid': 'swap-counterparty' }, who),
      s.initiatorId === me ? ' · you proposed' : ' · on your listing',
    );
    setContent(
      this.terms,
      h('span', { class: 'muted' }, open ? 'Terms on the table: ' : 'Last terms: '),
      `${fmtKwh(s.volumeKwh)} @ ${fmtPrice(s.pricePerKwh, this.currency)}`,
    );

    this.renderFees();

    if (open) {
      setContent(
        this.turn,
        myTurn ? 'Your turn' : 'Waiting for the counterparty',
        ' · expires in ',
        h(
          'span',
          { class: 'countdown', 'data-expires': s.expiresAt, 'data-testid': 'swap-countdown' },
          fmtCountdown(s.expiresAt),
        ),
      );
      this.turn.className = `turn ${myTurn ? 'mine' : 'theirs'}`;
    } else if (s.status === 'accepted') {
      this.turn.textContent = `Trade done${s.acceptedAt ? ` ${fmtTime(s.acceptedAt, l?.zone)}` : ''}${
        s.notional ? ` · notional ${fmtMoney(s.notional, this.currency)}` : ''
      }`;
      this.turn.className = 'turn';
    } else {
      const reason = s.reason ? ` (${s.reason.replaceAll('_', ' ')})` : '';
      this.turn.textContent = `${CLOSED_LABEL[s.status] ?? s.status}${reason}`;
      this.turn.className = 'turn muted';
    }

    this.answer.render(s);
    // the controls are swapped only when the turn changes, so typing and focus survive updates
    const mode: Mode = myTurn ? 'mine' : open ? 'theirs' : 'closed';
    if (mode !== this.mode) {
      const hadFocus = this.actions.contains(document.activeElement);
      this.mode = mode;
      if (mode === 'mine') setContent(this.actions, this.answer.counterForm, this.answer.answerRow);
      else if (mode === 'theirs') setContent(this.actions, this.answer.withdrawRow);
      else setContent(this.actions);
      if (hadFocus) this.el.focus({ preventScroll: true });
    }
    this.renderThread();
  }

  /** The viewer's side of a swap's money flows. */
  private get side(): FeeSide {
    return this.swap.buyerId === this.owner.me ? 'buyer' : 'seller';
  }

  private renderFees(): void {
    const fees = (this.swap as MarketSwap).fees;
    this.fees.hidden = !fees;
    if (!fees) {
      setContent(this.fees);
      return;
    }
    setContent(
      this.fees,
      h(
        'p',
        { class: 'muted small' },
        this.swap.status === 'open' ? 'With fees, on the terms on the table:' : 'With fees:',
      ),
      feeList(fees, this.side, this.currency),
    );
  }

  /** An offer's fee lines, folded under its bottom line ("You pay 9.54 EUR"). */
  private offerFees(o: MarketOffer): HTMLElement | null {
    if (!o.fees) return null;
    const box = h(
      'details',
      { class: 'offer-fees', 'data-testid': 'offer-fees', open: this.openFees.has(o.round) },
      h('summary', {}, bottomLine(o.fees, this.side, this.currency)),
      feeList(o.fees, this.side, this.currency, true),
    );
    box.addEventListener('toggle', () => {
      if (box.open) this.openFees.add(o.round);
      else this.openFees.delete(o.round);
    });
    return box;
  }

  private renderThread(): void {
    const me = this.owner.me;
    const offers = this.offers;
    const items = offers.map((o, i) =>
      h(
        'li',
        {
          'data-testid': 'offer-round',
          'data-round': o.round,
          class: i === offers.length - 1 ? 'latest' : undefined,
        },
        h('span', { class: 'round' }, `R${o.round}`),
        h(
          'span',
          { class: `author ${o.authorId === me ? 'me' : 'them'}` },
          o.authorId === me ? 'You' : 'Them',
        ),
        h('span', { class: 'mono' }, `${fmtKwh(o.volumeKwh)} @ ${fmtDecimal(o.pricePerKwh)}`),
        h('time', { datetime: o.createdAt }, fmtTime(o.createdAt, this.listing?.zone)),
        o.note ? h('span', { class: 'note', 'data-testid': 'offer-note' }, o.note) : null,
        this.offerFees(o),
      ),
    );
    setContent(this.thread, ...items);
    this.thread.hidden = items.length === 0;
  }
}
