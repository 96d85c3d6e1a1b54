// The market panel: the first page from GET /api/v1/listings, then listing.* events from the feed,
// shown as an order book. Rows are keyed by listing id and a row only ever moves to a higher
// `version`, so a replayed or repeated event, or a reload racing with live events, never shows a
// listing twice or goes back. A listing that closes (filled, cancelled, expired) shows its status
// for a moment and leaves the book, live. Delivery periods are shown in each zone's market time.
import type { Listing, Swap } from '../../src/client/index.js';
import type { CommandDesk } from './command-desk.js';
import { sentenceFor } from './field-messages.js';
import type { ListingDirectory } from './listing-directory.js';
import { ListingRow } from './listing-row.js';
import { type Filter, fillForm, KnownZones, loadView, saveView, ZONE } from './market-filters.js';
import { marketZones } from './market-time.js';
import type { ListingMatched } from './market-types.js';
import type { MeterStore } from './meters.js';
import { OrderBook } from './order-book.js';
import type { Page } from './page.js';
import { wirePostForm } from './post-listing-form.js';
import { ProposeDialog, type ProposePrefill } from './propose-dialog.js';
import type { DashboardClient } from './session.js';
import { busy, byId, capitalize, ENERGY_TYPES, field, h } from './ui.js';

/** How long a closed listing stays in the book with its status before it leaves. */
const LINGER_MS = 2500;

export interface MarketHooks {
  /** a swap was proposed from this dashboard */
  proposed(swap: Swap): void;
  /** the open swap this trader started on a listing, if any */
  openSwapOn(listingId: string): string | undefined;
  /** how many open offers there are on this trader's own listing */
  openOffersOn(listingId: string): number;
  showSwap(swapId: string): void;
}

export class MarketPanel {
  private readonly rows = new Map<string, ListingRow>();
  private readonly more = byId<HTMLButtonElement>('market-more');
  private readonly error = byId('market-error');
  private readonly book: OrderBook;
  readonly zones = new KnownZones();
  private filter: Filter;
  private nextCursor: string | null = null;
  private generation = 0;
  /** events seen while a reload is in flight, merged into its answer */
  private duringLoad: Map<string, Listing> | undefined;
  private readonly propose: ProposeDialog;
  /** own listings a `listing.matched` named before their row was there */
  private readonly pendingMatches = new Set<string>();

  constructor(
    readonly client: DashboardClient,
    readonly directory: ListingDirectory,
    readonly desk: CommandDesk,
    readonly hooks: MarketHooks,
    readonly meters: MeterStore,
  ) {
    const view = loadView(client.user.id);
    this.filter = view.filter;
    this.book = new OrderBook(byId('market-book'), view.sort, (sort) =>
      saveView(client.user.id, this.filter, sort),
    );
    this.wireFilters();
    wirePostForm(this, meters);
    this.propose = new ProposeDialog(this);
    this.more.addEventListener('click', () => busy(this.more, () => this.loadMore(), this.error));
    marketZones.onChange(() => this.retime());
  }

  /** The zones' market times arrived: the rows (and their periods) are shown in them. */
  private retime(): void {
    for (const row of this.rows.values()) {
      row.update(row.listing);
      this.book.place(row);
    }
  }

  // --- data ------------------------------------------------------------------------------------

  matches(l: Listing): boolean {
    const f = this.filter;
    return (
      (!f.energyType || l.energyType === f.energyType) &&
      (!f.zone || l.zone.toLowerCase() === f.zone.toLowerCase()) &&
      (!f.side || l.side === f.side) &&
      (!f.mine || l.ownerId === this.client.user.id)
    );
  }

  /** The active listings in the book (for the market-price check of the post form). */
  active(): Listing[] {
    return [...this.rows.values()].map((r) => r.listing).filter((l) => l.status === 'active');
  }

  /** A listing from an event or an ack. */
  apply(l: Listing): void {
    this.directory.put(l);
    this.zones.add(l.zone);
    if (this.duringLoad) {
      const seen = this.duringLoad.get(l.id);
      if (!seen || seen.version < l.version) this.duringLoad.set(l.id, l);
    }
    const row = this.rows.get(l.id);
    if (row) {
      if (l.version > row.listing.version) this.update(row, l);
    } else if (l.status === 'active' && this.matches(l)) {
      this.insert(l, true);
    }
    this.updateCount();
  }

  private update(row: ListingRow, l: Listing): void {
    row.update(l);
    this.book.place(row);
    if (l.status !== 'active') this.linger(row);
  }

  /** A closed listing shows its status briefly, then leaves the book. */
  private linger(row: ListingRow): void {
    setTimeout(() => {
      if (this.rows.get(row.listing.id) !== row || row.listing.status === 'active') return;
      this.rows.delete(row.listing.id);
      this.book.remove(row);
      this.updateCount();
    }, LINGER_MS);
  }

  /** After every (re)connect: the feed subscription is new, and what was missed is reloaded. */
  async resync(): Promise<void> {
    this.error.textContent = '';
    try {
      const f = this.filter;
      await this.client.subscribeFeed({
        ...(f.energyType ? { energyTypes: [f.energyType] } : {}),
        ...(f.zone ? { zones: [f.zone] } : {}),
        ...(f.side ? { side: f.side } : {}),
      });
      await this.reload();
    } catch (err) {
      this.error.textContent = `Market not updated: ${sentenceFor(err)}`;
    }
  }

  private query(cursor?: string): string {
    const q = new URLSearchParams({ limit: '50' });
    if (this.filter.energyType) q.set('energyType', this.filter.energyType);
    if (this.filter.zone) q.set('zone', this.filter.zone);
    if (this.filter.side) q.set('side', this.filter.side);
    if (this.filter.mine) q.set('owner', 'me');
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  }

  private async reload(): Promise<void> {
    const gen = ++this.generation;
    this.duringLoad = new Map();
    try {
      const page = await this.client.rest<Page<Listing>>('GET', `/api/v1/listings?${this.query()}`);
      if (gen !== this.generation) return;
      const next = new Map(page.items.map((l) => [l.id, l]));
      for (const l of this.duringLoad.values()) {
        const r = next.get(l.id);
        if (r ? r.version < l.version : l.status === 'active' && this.matches(l)) next.set(l.id, l);
      }
      for (const [id, row] of this.rows) {
        const l = next.get(id);
        if (l?.status !== 'active') {
          this.book.remove(row);
          this.rows.delete(id);
        }
      }
      for (const l of next.values()) {
        this.directory.put(l);
        this.zones.add(l.zone);
        if (l.status !== 'active') continue;
        const row = this.rows.get(l.id);
        if (!row) this.insert(l, false);
        else if (l.version >= row.listing.version) this.update(row, l);
      }
      this.nextCursor = page.nextCursor;
    } finally {
      if (gen === this.generation) this.duringLoad = undefined;
      this.updateCount();
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    const gen = this.generation;
    const page = await this.client.rest<Page<Listing>>(
      'GET',
      `/api/v1/listings?${this.query(this.nextCursor)}`,
    );
    if (gen !== this.generation) return;
    for (const l of page.items) this.apply(l);
    this.nextCursor = page.nextCursor;
    this.updateCount();
  }

  private insert(l: Listing, fresh: boolean): void {
    const row = new ListingRow(l, this);
    this.rows.set(l.id, row);
    this.book.place(row);
    if (fresh) row.tr.classList.add('fresh');
    if (this.pendingMatches.delete(l.id)) row.matched();
  }

  /** The negotiation state of a listing changed: Offer or View offer, the open-offer count. */
  refreshActions(listingId?: string): void {
    if (listingId) this.rows.get(listingId)?.refreshActions();
    else for (const row of this.rows.values()) row.refreshActions();
  }

  private updateCount(): void {
    let active = 0;
    for (const row of this.rows.values()) if (row.listing.status === 'active') active++;
    byId('market-count').textContent = `${active} active${this.nextCursor ? '+' : ''}`;
    byId('market-empty').hidden = this.rows.size > 0;
    this.more.hidden = !this.nextCursor;
  }

  // --- filters ---------------------------------------------------------------------------------

  private wireFilters(): void {
    const form = byId<HTMLFormElement>('market-filters');
    const type = field<HTMLSelectElement>(form, 'select[name=energyType]');
    for (const t of ENERGY_TYPES) type.append(h('option', { value: t }, capitalize(t)));
    fillForm(form, this.filter);
    saveView(this.client.user.id, this.filter, this.book.current);
    const apply = () => {
      const data = new FormData(form);
      const typed = String(data.get('zone') ?? '').trim();
      if (typed && !ZONE.test(typed)) {
        this.error.textContent = 'Zone: 1 to 64 letters, digits, "_" or "-", like DE-North.';
        return;
      }
      this.error.textContent = '';
      const next: Filter = {
        energyType: String(data.get('energyType') ?? ''),
        zone: typed ? this.zones.canonical(typed) : '',
        side: String(data.get('side') ?? '') as Filter['side'],
        mine: data.get('mine') !== null,
      };
      const f = this.filter;
      const same = (Object.keys(next) as (keyof Filter)[]).every((k) => next[k] === f[k]);
      if (same) return;
      this.filter = next;
      saveView(this.client.user.id, next, this.book.current);
      void this.resync();
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      apply();
    });
    form.addEventListener('change', apply);
  }

  // --- proposing -------------------------------------------------------------------------------

  openPropose(l: Listing, prefill?: ProposePrefill): void {
    this.propose.open(l, prefill);
  }

  // --- matches ---------------------------------------------------------------------------------

  /**
   * `listing.matched`: a new listing crosses the price of the trader's own listing. A listing not
   * in the book yet (a reload in flight, a replay on reconnect) is told once it arrives.
   */
  matched(m: ListingMatched): void {
    const row = this.rows.get(m.listingId);
    if (row) row.matched();
    else this.pendingMatches.add(m.listingId);
  }
}
