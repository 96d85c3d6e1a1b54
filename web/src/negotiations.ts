// Negotiations: every swap of this trader as a card with its thread of rounds (GET /swaps/:id),
// whose turn it is, a countdown to expiresAt and one-click answers. Cards are keyed by swap id and
// only move forward (higher round, or closed), so replayed events never show a round twice.
import type { Listing, Offer, Swap } from '../../src/client/index.js';
import { decimalPattern, isDecimal, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import type { ListingDirectory, Page } from './market.js';
import type { DashboardClient } from './session.js';
import {
  badge,
  busy,
  byId,
  capitalize,
  fmtCountdown,
  fmtTime,
  fmtWindow,
  h,
  setContent,
  shortId,
  toast,
} from './ui.js';

export interface NegotiationHooks {
  /** the open swaps on a listing changed (for the market's Offer / View offer button) */
  changed(listingId: string): void;
  /** a swap of this trader was accepted */
  accepted(): void;
}

/** Whether `a` is the same as or later than `b`: a higher round, or closed after open. */
function notOlder(a: Swap, b: Swap): boolean {
  if (a.round !== b.round) return a.round > b.round;
  const aClosed = a.status !== 'open';
  if (aClosed !== (b.status !== 'open')) return aClosed;
  return a.updatedAt >= b.updatedAt;
}

const CLOSED_LABEL: Record<string, string> = {
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired without an answer',
  voided: 'Voided',
};

class SwapCard {
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

export class Negotiations {
  private readonly cards = new Map<string, SwapCard>();
  private readonly threadRequests = new Map<string, number>();
  private readonly openList = byId('swaps-open');
  private readonly closedList = byId('swaps-closed');
  readonly me: string;

  constructor(
    readonly client: DashboardClient,
    private readonly directory: ListingDirectory,
    readonly hooks: NegotiationHooks,
  ) {
    this.me = client.user.id;
    directory.onChange((l) => {
      for (const card of this.cards.values()) if (card.swap.listingId === l.id) card.setListing(l);
    });
  }

  /** The latest swaps (open and closed) with their threads. */
  async load(): Promise<void> {
    const page = await this.client.rest<Page<Swap>>('GET', '/api/v1/swaps?limit=50');
    for (const s of page.items) this.upsert(s);
    // threads with rounds not shown yet, a few requests at a time
    const ids = page.items
      .map((s) => this.cards.get(s.id)!)
      .filter((card) => card.offers.length < card.swap.round)
      .map((card) => card.swap.id);
    const worker = async () => {
      for (let id = ids.shift(); id; id = ids.shift()) await this.refreshThread(id);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  /** A swap from an ack, a page or an event; ignored when older than what is shown. */
  upsert(swap: Swap, offers?: Offer[]): SwapCard {
    let card = this.cards.get(swap.id);
    if (!card) {
      card = new SwapCard(swap, this);
      if (offers) {
        card.offers = offers;
        card.render();
      }
      this.cards.set(swap.id, card);
      const known = this.directory.peek(swap.listingId);
      if (known) card.setListing(known);
      else void this.directory.get(swap.listingId).then((l) => l && card!.setListing(l));
      this.place(card);
    } else {
      if (!notOlder(swap, card.swap)) return card;
      const wasOpen = card.swap.status === 'open';
      card.swap = { ...swap, offers: undefined };
      if (offers && offers.length >= card.offers.length) card.offers = offers;
      card.render();
      if (wasOpen !== (swap.status === 'open')) {
        this.place(card);
        // closed just now: keep it in sight
        if (wasOpen) (byId('swaps-history-box') as HTMLDetailsElement).open = true;
      }
    }
    this.hooks.changed(swap.listingId);
    this.updateCounts();
    return card;
  }

  /** Fetches the thread; only the latest request per swap is applied. */
  async refreshThread(id: string): Promise<void> {
    const n = (this.threadRequests.get(id) ?? 0) + 1;
    this.threadRequests.set(id, n);
    try {
      const full = await this.client.rest<Swap>('GET', `/api/v1/swaps/${encodeURIComponent(id)}`);
      if (this.threadRequests.get(id) !== n) return;
      const card = this.cards.get(id);
      if (card && !notOlder(full, card.swap)) return;
      this.upsert(full, full.offers ?? []);
    } catch {
      // the card keeps the terms from the event; the next event or reload fills the thread
    }
  }

  /** A swap.* event: update the card and tell the trader what the other side did. */
  onEvent(type: string, swap: Swap): void {
    const prev = this.cards.get(swap.id)?.swap;
    this.upsert(swap);
    void this.refreshThread(swap.id);
    this.notify(type, swap, prev);
  }

  private notify(type: string, s: Swap, prev: Swap | undefined): void {
    const l = this.directory.peek(s.listingId);
    const what = l ? `${capitalize(l.energyType)} · ${l.zone}` : `listing ${shortId(s.listingId)}`;
    const terms = `${s.volumeKwh} kWh at ${s.pricePerKwh} ${l?.currency ?? 'EUR'}/kWh`;
    const review = { label: 'Review', run: () => this.focus(s.id) };
    const wasOpen = prev === undefined || prev.status === 'open';
    if ((type === 'swap.proposed' || type === 'swap.countered') && s.nextActorId === this.me) {
      toast({
        title: type === 'swap.proposed' ? 'New offer on your listing' : 'Counter-offer received',
        body: `${what}: ${terms} · round ${s.round}, your turn`,
        kind: 'offer',
        action: review,
        timeoutMs: 15_000,
      });
    } else if (type === 'swap.accepted' && prev?.status !== 'accepted') {
      toast({ title: 'Trade done', body: `${what}: ${terms}`, kind: 'success', action: review });
    } else if (type === 'swap.rejected' && wasOpen && prev?.nextActorId !== this.me) {
      toast({ title: 'Your offer was rejected', body: what, kind: 'error', action: review });
    } else if (type === 'swap.withdrawn' && wasOpen && prev?.nextActorId === this.me) {
      toast({ title: 'Offer withdrawn by the counterparty', body: what, kind: 'info', action: review });
    } else if ((type === 'swap.expired' || type === 'swap.voided') && wasOpen) {
      toast({
        title: type === 'swap.expired' ? 'Negotiation expired' : 'Negotiation voided',
        body: s.reason ? `${what} (${s.reason.replaceAll('_', ' ')})` : what,
        kind: 'info',
        action: review,
      });
    }
  }

  openSwapOn(listingId: string): string | undefined {
    for (const card of this.cards.values()) {
      const s = card.swap;
      if (s.listingId === listingId && s.status === 'open' && s.initiatorId === this.me) return s.id;
    }
    return undefined;
  }

  focus(id: string): void {
    const card = this.cards.get(id);
    if (!card) return;
    if (card.swap.status !== 'open') (byId('swaps-history-box') as HTMLDetailsElement).open = true;
    card.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    card.el.focus({ preventScroll: true });
  }

  /** Open swaps by creation, newest first; closed ones by their last change, newest first. */
  private place(card: SwapCard): void {
    const open = card.swap.status === 'open';
    const list = open ? this.openList : this.closedList;
    const key = (s: Swap) => (open ? s.createdAt : s.updatedAt);
    const k = key(card.swap);
    let before: Element | null = null;
    for (const el of list.children) {
      const other = this.cards.get((el as HTMLElement).dataset.swapId ?? '');
      if (other && other !== card && key(other.swap) < k) {
        before = el;
        break;
      }
    }
    list.insertBefore(card.el, before);
  }

  private updateCounts(): void {
    let open = 0;
    for (const card of this.cards.values()) if (card.swap.status === 'open') open++;
    const closed = this.cards.size - open;
    byId('neg-count').textContent = `${open} open`;
    byId('swaps-empty').hidden = open > 0;
    byId('swaps-closed-count').textContent = `(${closed})`;
  }
}

/** "4.6000000" as "4.60": trailing zeros dropped, at least 2 decimals; exact, no rounding. */
export function trimZeros(value: string): string {
  const [int, frac = ''] = value.split('.');
  const kept = frac.replace(/0+$/, '').padEnd(2, '0');
  return `${int}.${kept}`;
}
