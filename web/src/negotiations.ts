// Negotiations: every swap of this trader as a card with its thread of rounds (GET /swaps/:id),
// whose turn it is, a countdown to expiresAt and one-click answers. Cards are keyed by swap id and
// only move forward (higher round, or closed), so replayed events never show a round twice.
// The cards waiting for this trader's answer come first (soonest to expire first), counted in a
// badge in the top bar and the panel's heading; a toast about a swap goes once the swap moves on.
import type { Offer, Swap } from '../../src/client/index.js';
import type { CommandDesk } from './command-desk.js';
import type { ListingDirectory } from './listing-directory.js';
import { fmtKwh, fmtPrice } from './locale.js';
import { marketZones } from './market-time.js';
import type { Page } from './page.js';
import type { DashboardClient } from './session.js';
import { counterpartyName, SwapCard } from './swap-card.js';
import { byId, capitalize, dismissToast, shortId, toast } from './ui.js';

/** Open swaps loaded at most (pages of 100): a trader with more answers them as they come. */
const MAX_OPEN_PAGES = 10;

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

export class Negotiations {
  private readonly cards = new Map<string, SwapCard>();
  private readonly threadRequests = new Map<string, number>();
  private readonly openList = byId('swaps-open');
  private readonly closedList = byId('swaps-closed');
  readonly me: string;

  constructor(
    readonly client: DashboardClient,
    private readonly directory: ListingDirectory,
    readonly desk: CommandDesk,
    readonly hooks: NegotiationHooks,
  ) {
    this.me = client.user.id;
    byId('turn-badge').addEventListener('click', () => this.focusFirstTurn());
    directory.onChange((l) => {
      for (const card of this.cards.values()) if (card.swap.listingId === l.id) card.setListing(l);
    });
    // the zones' market times arrived: delivery windows shown in UTC are shown in them
    marketZones.onChange(() => {
      for (const card of this.cards.values()) card.render();
    });
  }

  /**
   * The latest swaps (open and closed) and every open one (an offer still to answer, and the count
   * of open offers a cancel or a lower volume voids, however many swaps came since), with their
   * threads.
   */
  async load(): Promise<void> {
    const [latest, open] = await Promise.all([
      this.client.rest<Page<Swap>>('GET', '/api/v1/swaps?limit=50'),
      this.allOpen(),
    ]);
    const swaps = [...latest.items, ...open.filter((s) => !latest.items.some((l) => l.id === s.id))];
    for (const s of swaps) this.upsert(s);
    // threads with rounds not shown yet, a few requests at a time
    const ids = swaps
      .map((s) => this.cards.get(s.id)!)
      .filter((card) => card.offers.length < card.swap.round)
      .map((card) => card.swap.id);
    const worker = async () => {
      for (let id = ids.shift(); id; id = ids.shift()) await this.refreshThread(id);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  /** Every open swap of this trader's, page by page (at most MAX_OPEN_PAGES of 100). */
  private async allOpen(): Promise<Swap[]> {
    const all: Swap[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < MAX_OPEN_PAGES; i++) {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: Page<Swap> = await this.client.rest<Page<Swap>>(
        'GET',
        `/api/v1/swaps?status=open&limit=100${q}`,
      );
      all.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return all;
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
      const mode = card.mode;
      card.swap = { ...swap, offers: undefined };
      if (offers && offers.length >= card.offers.length) card.offers = offers;
      card.render();
      if (mode !== card.mode) this.place(card);
      if (wasOpen && swap.status !== 'open') {
        // closed just now: keep it in sight
        (byId('swaps-history-box') as HTMLDetailsElement).open = true;
      }
    }
    // what a toast said about this swap (an offer waiting for an answer) is no longer true
    if (!card.myTurn) dismissToast(swap.id);
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
    const what = `${l ? `${capitalize(l.energyType)} · ${l.zone}` : `listing ${shortId(s.listingId)}`} with ${counterpartyName(s, this.me)}`;
    const terms = `${fmtKwh(s.volumeKwh)} at ${fmtPrice(s.pricePerKwh, l?.currency)}`;
    const review = { label: 'Review', run: () => this.focus(s.id) };
    const wasOpen = prev === undefined || prev.status === 'open';
    if ((type === 'swap.proposed' || type === 'swap.countered') && s.nextActorId === this.me) {
      toast({
        title: type === 'swap.proposed' ? 'New offer on your listing' : 'Counter-offer received',
        body: `${what}: ${terms} · round ${s.round}, your turn`,
        kind: 'offer',
        action: review,
        timeoutMs: 15_000,
        key: s.id,
      });
    } else if (type === 'swap.accepted' && prev?.status !== 'accepted') {
      toast({
        title: 'Trade done',
        body: `${what}: ${terms}`,
        kind: 'success',
        action: review,
        key: `${s.id}:done`,
      });
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

  /** Open offers on a listing of this trader's (they are its owner, the recipient of each). */
  openOffersOn(listingId: string): number {
    let n = 0;
    for (const card of this.cards.values()) {
      const s = card.swap;
      if (s.listingId === listingId && s.status === 'open' && s.recipientId === this.me) n++;
    }
    return n;
  }

  /** An answer this trader sent was committed: show it, refresh the thread. */
  answered(s: Swap): void {
    this.upsert(s);
    void this.refreshThread(s.id);
    if (s.status === 'accepted') this.hooks.accepted();
  }

  /** The first card waiting for this trader's answer, or the panel's heading when none is. */
  focusFirstTurn(): void {
    const first = this.openList.querySelector<HTMLElement>('.swap-card.your-turn');
    const target = first ?? byId('neg-title');
    target.scrollIntoView({ block: 'nearest' });
    target.focus({ preventScroll: true });
  }

  /** Focuses the card of swap `id`; false when there is no such card. */
  focus(id: string): boolean {
    const card = this.cards.get(id);
    if (!card) return false;
    if (card.swap.status !== 'open') (byId('swaps-history-box') as HTMLDetailsElement).open = true;
    card.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    card.el.focus({ preventScroll: true });
    return true;
  }

  /**
   * Open swaps waiting for this trader first, the soonest to expire first; then the others open,
   * newest first; closed ones by their last change, newest first.
   */
  private place(card: SwapCard): void {
    const open = card.swap.status === 'open';
    const list = open ? this.openList : this.closedList;
    const rank = (c: SwapCard): string =>
      !open ? invert(c.swap.updatedAt) : c.myTurn ? `0${c.swap.expiresAt}` : `1${invert(c.swap.createdAt)}`;
    const k = rank(card);
    let before: Element | null = null;
    for (const el of list.children) {
      const other = this.cards.get((el as HTMLElement).dataset.swapId ?? '');
      if (other && other !== card && rank(other) > k) {
        before = el;
        break;
      }
    }
    if (card.el.parentElement === list && card.el.nextElementSibling === before) return;
    const hadFocus = card.el.contains(document.activeElement)
      ? (document.activeElement as HTMLElement)
      : null;
    list.insertBefore(card.el, before);
    hadFocus?.focus({ preventScroll: true });
  }

  private updateCounts(): void {
    let open = 0;
    for (const card of this.cards.values()) if (card.swap.status === 'open') open++;
    const closed = this.cards.size - open;
    let mine = 0;
    for (const card of this.cards.values()) if (card.myTurn) mine++;
    byId('neg-count').textContent = `${open} open`;
    byId('swaps-empty').hidden = open > 0;
    byId('swaps-closed-count').textContent = `(${closed})`;
    const label = mine === 1 ? '1 waits for your answer' : `${mine} wait for your answer`;
    const badge = byId<HTMLButtonElement>('turn-badge');
    badge.hidden = mine === 0;
    badge.textContent = `Your turn: ${mine}`;
    badge.setAttribute('aria-label', `${label}: show the first`);
    const inPanel = byId('neg-turn-count');
    inPanel.hidden = mine === 0;
    inPanel.textContent = String(mine);
    inPanel.title = label;
    document.title = `${mine > 0 ? `(${mine}) ` : ''}RenEx Hub · Trading`;
  }
}

/** An ISO time mapped so that a later time sorts first as a string (digits complemented). */
const invert = (iso: string): string => iso.replace(/\d/g, (d) => String(9 - Number(d)));
