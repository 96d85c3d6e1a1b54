// One negotiation as a card: the terms on the table, whose turn it is, a countdown to expiresAt,
// the thread of rounds, and the answers (counter, accept, reject, withdraw) when they apply.
import type { Listing, Offer, Swap } from '../../src/client/index.js';
import { decimalPattern, isDecimal, KWH_SCALE, PRICE_SCALE, trimZeros } from './decimal.js';
import type { Negotiations } from './negotiations.js';
import { badge, busy, capitalize, fmtCountdown, fmtTime, fmtWindow, h, setContent, shortId } from './ui.js';

const CLOSED_LABEL: Record<string, string> = {
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired without an answer',
  voided: 'Voided',
};

export class SwapCard {
  readonly el: HTMLElement;
  swap: Swap;
  offers: Offer[] = [];
  private listing: Listing | undefined;
  private readonly title = h('span', { class: 'swap-title' });
  private readonly status = h('span', {});
  private readonly meta = h('p', { class: 'swap-meta' });
  private readonly terms = h('div', { class: 'swap-terms', 'data-testid': 'swap-terms' });
  private readonly turn = h('p', { class: 'turn', 'data-testid': 'swap-turn' });
  private readonly thread = h('ol', {
    class: 'thread',
    'data-testid': 'swap-thread',
    'aria-label': 'Rounds',
  });
  private readonly actions = h('div', { class: 'swap-actions' });
  private readonly counterForm: HTMLFormElement;
  private readonly volume: HTMLInputElement;
  private readonly price: HTMLInputElement;
  private readonly note: HTMLInputElement;
  private readonly accept: HTMLButtonElement;
  private readonly reject: HTMLButtonElement;
  private readonly withdraw: HTMLButtonElement;
  private readonly error = h('p', { class: 'form-error', role: 'alert' });
  private termsRound = 0;
  private mode = '';
  private readonly answerRow: HTMLElement;
  private readonly withdrawRow: HTMLElement;

  constructor(
    swap: Swap,
    private readonly owner: Negotiations,
  ) {
    this.swap = swap;
    const c = owner.client;
    this.volume = h('input', {
      name: 'volumeKwh',
      inputmode: 'decimal',
      required: true,
      pattern: decimalPattern(KWH_SCALE),
      'data-testid': 'counter-volume',
    });
    this.price = h('input', {
      name: 'pricePerKwh',
      inputmode: 'decimal',
      required: true,
      pattern: decimalPattern(PRICE_SCALE),
      'data-testid': 'counter-price',
    });
    this.note = h('input', {
      name: 'note',
      maxlength: 500,
      'data-testid': 'counter-note',
      autocomplete: 'off',
    });
    const counterButton = h(
      'button',
      { type: 'submit', class: 'btn', 'data-testid': 'counter-button' },
      'Counter',
    );
    this.counterForm = h(
      'form',
      { class: 'counter-form', 'aria-label': 'Counter-offer' },
      h('label', {}, 'Volume (kWh)', this.volume),
      h('label', {}, 'Price per kWh', this.price),
      h('label', { class: 'note-field' }, 'Note', this.note),
      counterButton,
    );
    this.counterForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void busy(
        counterButton,
        async () => {
          const volumeKwh = this.volume.value.trim();
          const pricePerKwh = this.price.value.trim();
          if (!isDecimal(volumeKwh, KWH_SCALE)) throw new Error('Volume: kWh with at most 3 decimals');
          if (!isDecimal(pricePerKwh, PRICE_SCALE)) throw new Error('Price: at most 4 decimals');
          const note = this.note.value.trim();
          const s = await c.counter({
            swapId: this.swap.id,
            round: this.swap.round,
            volumeKwh,
            pricePerKwh,
            ...(note ? { note } : {}),
          });
          this.note.value = '';
          this.owner.upsert(s);
          this.owner.refreshThread(s.id);
        },
        this.error,
      );
    });
    this.accept = h(
      'button',
      { type: 'button', class: 'btn primary', 'data-testid': 'accept-button' },
      'Accept',
    );
    this.reject = h(
      'button',
      { type: 'button', class: 'btn danger', 'data-testid': 'reject-button' },
      'Reject',
    );
    this.withdraw = h(
      'button',
      { type: 'button', class: 'btn', 'data-testid': 'withdraw-button' },
      'Withdraw offer',
    );
    const act = (button: HTMLButtonElement, run: () => Promise<Swap>) =>
      button.addEventListener('click', () =>
        busy(
          button,
          async () => {
            const s = await run();
            this.owner.upsert(s);
            this.owner.refreshThread(s.id);
            if (s.status === 'accepted') this.owner.hooks.accepted();
          },
          this.error,
        ),
      );
    act(this.accept, () => c.accept(this.swap.id, this.swap.round));
    act(this.reject, () => c.reject(this.swap.id, this.swap.round));
    act(this.withdraw, () => c.withdraw(this.swap.id));
    this.answerRow = h('div', { class: 'answer-row' }, this.accept, this.reject);
    this.withdrawRow = h('div', { class: 'answer-row' }, this.withdraw);

    this.el = h(
      'article',
      { class: 'swap-card', 'data-testid': 'swap-card', 'data-swap-id': swap.id, tabindex: -1 },
      h('div', { class: 'swap-head' }, this.title, this.status),
      this.meta,
      this.terms,
      this.turn,
      this.thread,
      this.actions,
      this.error,
    );
    this.render();
  }

  setListing(l: Listing): void {
    this.listing = l;
    this.render();
  }

  private get currency(): string {
    return this.listing?.currency ?? 'EUR';
  }

  render(): void {
    const s = this.swap;
    const me = this.owner.me;
    const open = s.status === 'open';
    const myTurn = open && s.nextActorId === me;
    const buying = s.buyerId === me;
    const other = s.initiatorId === me ? s.recipientId : s.initiatorId;
    const l = this.listing;
    this.el.dataset.status = s.status;
    this.el.dataset.round = String(s.round);
    this.el.classList.toggle('your-turn', myTurn);
    this.el.classList.toggle('their-turn', open && !myTurn);
    this.el.setAttribute(
      'aria-label',
      `${buying ? 'Buying' : 'Selling'}, ${s.status}${myTurn ? ', your turn' : ''}`,
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
    this.meta.textContent = [
      l ? `Delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd)}` : null,
      `with trader ${shortId(other)}`,
      s.initiatorId === me ? 'you proposed' : 'on your listing',
    ]
      .filter(Boolean)
      .join(' · ');
    setContent(
      this.terms,
      h('span', { class: 'muted' }, open ? 'Terms on the table: ' : 'Last terms: '),
      `${s.volumeKwh} kWh @ ${s.pricePerKwh} ${this.currency}/kWh`,
    );

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
      this.turn.textContent = `Trade done${s.acceptedAt ? ` ${fmtTime(s.acceptedAt)}` : ''}${
        s.notional ? ` · notional ${trimZeros(s.notional)} ${this.currency}` : ''
      }`;
      this.turn.className = 'turn';
    } else {
      const reason = s.reason ? ` (${s.reason.replaceAll('_', ' ')})` : '';
      this.turn.textContent = `${CLOSED_LABEL[s.status] ?? s.status}${reason}`;
      this.turn.className = 'turn muted';
    }

    // the counter inputs start from the terms on the table, once per round
    if (this.termsRound !== s.round) {
      this.termsRound = s.round;
      this.volume.value = s.volumeKwh;
      this.price.value = s.pricePerKwh;
    }
    // the controls are swapped only when the turn changes, so typing and focus survive updates
    const mode = myTurn ? 'mine' : open ? 'theirs' : 'closed';
    if (mode !== this.mode) {
      const hadFocus = this.actions.contains(document.activeElement);
      this.mode = mode;
      if (mode === 'mine') setContent(this.actions, this.counterForm, this.answerRow);
      else if (mode === 'theirs') setContent(this.actions, this.withdrawRow);
      else setContent(this.actions);
      if (hadFocus) this.el.focus({ preventScroll: true });
    }
    this.accept.setAttribute('aria-label', `Accept ${s.volumeKwh} kWh at ${s.pricePerKwh}`);

    this.renderThread();
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
        h('span', { class: 'mono' }, `${o.volumeKwh} kWh @ ${o.pricePerKwh}`),
        h('time', { datetime: o.createdAt }, fmtTime(o.createdAt)),
        o.note ? h('span', { class: 'note', 'data-testid': 'offer-note' }, o.note) : null,
      ),
    );
    setContent(this.thread, ...items);
    this.thread.hidden = items.length === 0;
  }
}
