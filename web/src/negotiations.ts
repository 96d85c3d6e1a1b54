// Negotiations: every swap of this trader as a card with its thread of rounds (GET /swaps/:id),
// whose turn it is, a countdown to expiresAt and one-click answers. Cards are keyed by swap id and
// only move forward (higher round, or closed), so replayed events never show a round twice.
import type { Offer, Swap } from '../../src/client/index.js';
import type { ListingDirectory } from './listing-directory.js';
import type { Page } from './page.js';
import type { DashboardClient } from './session.js';
import { SwapCard } from './swap-card.js';
import { byId, capitalize, shortId, toast } from './ui.js';

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
