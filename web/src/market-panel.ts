// The market panel: the first page from GET /api/v1/listings, then listing.* events from the feed.
// Rows are keyed by listing id and a row only ever moves to a higher `version`, so a replayed or
// repeated event, or a reload racing with live events, never shows a listing twice or goes back.
import type { Listing, Swap } from '../../src/client/index.js';
import type { ListingDirectory } from './listing-directory.js';
import { ListingRow } from './listing-row.js';
import type { Page } from './page.js';
import { wirePostForm } from './post-listing-form.js';
import { ProposeDialog } from './propose-dialog.js';
import type { DashboardClient } from './session.js';
import { busy, byId, capitalize, describeError, ENERGY_TYPES, field, h } from './ui.js';

type Side = Listing['side'];

export interface Filter {
  energyType: string;
  zone: string;
  side: '' | Side;
  /** only this trader's own listings */
  mine: boolean;
}

const ZONE = /^[A-Za-z0-9_-]{1,64}$/;

export interface MarketHooks {
  /** a swap was proposed from this dashboard */
  proposed(swap: Swap): void;
  /** the open swap this trader started on a listing, if any */
  openSwapOn(listingId: string): string | undefined;
  showSwap(swapId: string): void;
}

export class MarketPanel {
  private readonly rows = new Map<string, ListingRow>();
  private readonly tbody = byId<HTMLTableSectionElement>('market-rows');
  private readonly more = byId<HTMLButtonElement>('market-more');
  private readonly error = byId('market-error');
  private filter: Filter = { energyType: '', zone: '', side: '', mine: false };
  private nextCursor: string | null = null;
  private generation = 0;
  /** events seen while a reload is in flight, merged into its answer */
  private duringLoad: Map<string, Listing> | undefined;
  private readonly propose: ProposeDialog;

  constructor(
    readonly client: DashboardClient,
    private readonly directory: ListingDirectory,
    readonly hooks: MarketHooks,
  ) {
    this.wireFilters();
    wirePostForm(
      client,
      (l) => this.apply(l),
      (l) => this.matches(l),
    );
    this.propose = new ProposeDialog(client, hooks);
    this.more.addEventListener('click', () => busy(this.more, () => this.loadMore(), this.error));
  }

  // --- data ------------------------------------------------------------------------------------

  matches(l: Listing): boolean {
    const f = this.filter;
    return (
      (!f.energyType || l.energyType === f.energyType) &&
      (!f.zone || l.zone === f.zone) &&
      (!f.side || l.side === f.side) &&
      (!f.mine || l.ownerId === this.client.user.id)
    );
  }

  /** A listing from an event or an ack. */
  apply(l: Listing): void {
    this.directory.put(l);
    if (this.duringLoad) {
      const seen = this.duringLoad.get(l.id);
      if (!seen || seen.version < l.version) this.duringLoad.set(l.id, l);
    }
    const row = this.rows.get(l.id);
    if (row) {
      if (l.version > row.listing.version) row.update(l);
    } else if (l.status === 'active' && this.matches(l)) {
      this.insert(l, true);
    }
    this.updateCount();
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
      this.error.textContent = `Market not updated: ${describeError(err)}`;
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
        if (!next.has(id)) {
          row.tr.remove();
          this.rows.delete(id);
        }
      }
      for (const l of next.values()) {
        this.directory.put(l);
        const row = this.rows.get(l.id);
        if (!row) this.insert(l, false);
        else if (l.version >= row.listing.version) row.update(l);
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

  /** Newest first, as the hub pages them: (createdAt, id) descending. */
  private insert(l: Listing, fresh: boolean): void {
    const row = new ListingRow(l, this);
    this.rows.set(l.id, row);
    const key = (x: Listing) => `${x.createdAt}|${x.id}`;
    const k = key(l);
    let before: Element | null = null;
    for (const tr of this.tbody.children) {
      const other = this.rows.get((tr as HTMLElement).dataset.listingId ?? '');
      if (other && key(other.listing) < k) {
        before = tr;
        break;
      }
    }
    this.tbody.insertBefore(row.tr, before);
    if (fresh) row.tr.classList.add('fresh');
  }

  /** The negotiation state of a listing changed: Offer or View offer. */
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
    const apply = () => {
      const data = new FormData(form);
      const zone = String(data.get('zone') ?? '').trim();
      if (zone && !ZONE.test(zone)) {
        this.error.textContent = 'Zone: 1 to 64 letters, digits, _ or -';
        return;
      }
      this.error.textContent = '';
      const next: Filter = {
        energyType: String(data.get('energyType') ?? ''),
        zone,
        side: String(data.get('side') ?? '') as Filter['side'],
        mine: data.get('mine') !== null,
      };
      const f = this.filter;
      const same = (Object.keys(next) as (keyof Filter)[]).every((k) => next[k] === f[k]);
      if (same) return;
      this.filter = next;
      void this.resync();
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      apply();
    });
    form.addEventListener('change', apply);
  }

  // --- proposing -------------------------------------------------------------------------------

  openPropose(l: Listing): void {
    this.propose.open(l);
  }
}
