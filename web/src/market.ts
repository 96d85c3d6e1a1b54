// The market: the first page from GET /api/v1/listings, then listing.* events from the feed.
// Rows are keyed by listing id and a row only ever moves to a higher `version`, so a replayed or
// repeated event, or a reload racing with live events, never shows a listing twice or goes back.
import type { Listing, Swap } from '../../src/client/index.js';
import { decimalPattern, isDecimal, KWH_SCALE, PRICE_SCALE, perMille } from './decimal.js';
import type { DashboardClient } from './session.js';
import {
  badge,
  busy,
  byId,
  capitalize,
  describeError,
  ENERGY_TYPES,
  field,
  fmtWindow,
  h,
  setContent,
  toast,
  windowParts,
} from './ui.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Side = Listing['side'];

export interface Filter {
  energyType: string;
  zone: string;
  side: '' | Side;
  /** only this trader's own listings */
  mine: boolean;
}

const ZONE = /^[A-Za-z0-9_-]{1,64}$/;

/** Listings by id from wherever they were seen, newest version kept; fetched when unknown. */
export class ListingDirectory {
  private readonly known = new Map<string, Listing>();
  private readonly fetching = new Map<string, Promise<Listing | undefined>>();
  private readonly listeners = new Set<(l: Listing) => void>();

  constructor(private readonly client: DashboardClient) {}

  put(l: Listing): void {
    const cur = this.known.get(l.id);
    if (cur && cur.version >= l.version) return;
    this.known.set(l.id, l);
    for (const fn of this.listeners) fn(l);
  }

  peek(id: string): Listing | undefined {
    return this.known.get(id);
  }

  get(id: string): Promise<Listing | undefined> {
    const known = this.known.get(id);
    if (known) return Promise.resolve(known);
    let p = this.fetching.get(id);
    if (!p) {
      p = this.client
        .rest<Listing>('GET', `/api/v1/listings/${encodeURIComponent(id)}`)
        .then((l) => {
          this.put(l);
          return this.known.get(id);
        })
        .catch(() => undefined)
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, p);
    }
    return p;
  }

  onChange(fn: (l: Listing) => void): void {
    this.listeners.add(fn);
  }
}

export interface MarketHooks {
  /** a swap was proposed from this dashboard */
  proposed(swap: Swap): void;
  /** the open swap this trader started on a listing, if any */
  openSwapOn(listingId: string): string | undefined;
  showSwap(swapId: string): void;
}

const sideLabel = (side: Side) => (side === 'supply' ? 'Supply' : 'Demand');

/** One listing's row; its buttons persist across updates so keyboard focus is kept. */
class ListingRow {
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
    private readonly market: Market,
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

export class Market {
  private readonly rows = new Map<string, ListingRow>();
  private readonly tbody = byId<HTMLTableSectionElement>('market-rows');
  private readonly more = byId<HTMLButtonElement>('market-more');
  private readonly error = byId('market-error');
  private filter: Filter = { energyType: '', zone: '', side: '', mine: false };
  private nextCursor: string | null = null;
  private generation = 0;
  /** events seen while a reload is in flight, merged into its answer */
  private duringLoad: Map<string, Listing> | undefined;
  private proposing: Listing | undefined;

  constructor(
    readonly client: DashboardClient,
    private readonly directory: ListingDirectory,
    readonly hooks: MarketHooks,
  ) {
    this.wireFilters();
    this.wirePostForm();
    this.wireProposeDialog();
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

  // --- posting ---------------------------------------------------------------------------------

  private wirePostForm(): void {
    const form = byId<HTMLFormElement>('post-form');
    const type = field<HTMLSelectElement>(form, 'select[name=energyType]');
    for (const t of ENERGY_TYPES) type.append(h('option', { value: t }, capitalize(t)));
    const volume = field<HTMLInputElement>(form, 'input[name=volumeKwh]');
    const price = field<HTMLInputElement>(form, 'input[name=pricePerKwh]');
    volume.pattern = decimalPattern(KWH_SCALE);
    price.pattern = decimalPattern(PRICE_SCALE);
    volume.title = 'kWh with at most 3 decimals';
    price.title = 'Price with at most 4 decimals';
    const start = field<HTMLInputElement>(form, 'input[name=deliveryStart]');
    const end = field<HTMLInputElement>(form, 'input[name=deliveryEnd]');
    const defaults = () => {
      const s = new Date();
      s.setMinutes(0, 0, 0);
      s.setHours(s.getHours() + 2);
      start.value = localInput(s);
      end.value = localInput(new Date(s.getTime() + 3_600_000));
    };
    defaults();
    const out = field<HTMLElement>(form, '.form-error');
    const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const text = (name: string) => String(data.get(name) ?? '').trim();
      void busy(
        submit,
        async () => {
          const startAt = new Date(text('deliveryStart'));
          const endAt = new Date(text('deliveryEnd'));
          if (Number.isNaN(startAt.getTime()) || Number.isNaN(endAt.getTime()))
            throw new Error('Pick the delivery window');
          if (endAt <= startAt) throw new Error('Delivery must end after it starts');
          const description = text('description');
          const listing = await this.client.createListing({
            side: text('side'),
            energyType: text('energyType'),
            volumeKwh: text('volumeKwh'),
            pricePerKwh: text('pricePerKwh'),
            deliveryStart: startAt.toISOString(),
            deliveryEnd: endAt.toISOString(),
            zone: text('zone'),
            ...(description ? { description } : {}),
          });
          this.apply(listing);
          // a fresh form for the next listing, keeping side, type, zone and window
          const keep = ['side', 'energyType', 'zone', 'deliveryStart', 'deliveryEnd'].map(
            (name) => [name, text(name)] as const,
          );
          form.reset();
          for (const [name, value] of keep) {
            const el = form.elements.namedItem(name);
            if (
              el instanceof RadioNodeList ||
              el instanceof HTMLInputElement ||
              el instanceof HTMLSelectElement
            )
              el.value = value;
          }
          toast({
            title: 'Listing posted',
            body: this.matches(listing) ? undefined : 'It is hidden by the market filter.',
            kind: 'success',
            timeoutMs: 4000,
          });
        },
        out,
      );
    });
  }

  // --- proposing -------------------------------------------------------------------------------

  private wireProposeDialog(): void {
    const dialog = byId<HTMLDialogElement>('propose-dialog');
    const form = byId<HTMLFormElement>('propose-form');
    const volume = field<HTMLInputElement>(form, 'input[name=volumeKwh]');
    const price = field<HTMLInputElement>(form, 'input[name=pricePerKwh]');
    volume.pattern = decimalPattern(KWH_SCALE);
    price.pattern = decimalPattern(PRICE_SCALE);
    const out = field<HTMLElement>(form, '.form-error');
    const submit = field<HTMLButtonElement>(form, 'button[type=submit]');
    byId('propose-cancel').addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const listing = this.proposing;
      if (!listing) return;
      const data = new FormData(form);
      const text = (name: string) => String(data.get(name) ?? '').trim();
      void busy(
        submit,
        async () => {
          if (!isDecimal(text('volumeKwh'), KWH_SCALE))
            throw new Error('Volume: kWh with at most 3 decimals');
          if (!isDecimal(text('pricePerKwh'), PRICE_SCALE)) throw new Error('Price: at most 4 decimals');
          const note = text('note');
          const swap = await this.client.propose({
            listingId: listing.id,
            volumeKwh: text('volumeKwh'),
            pricePerKwh: text('pricePerKwh'),
            ...(note ? { note } : {}),
          });
          dialog.close();
          this.hooks.proposed(swap);
          toast({
            title: 'Offer sent',
            body: `Round 1 · ${swap.volumeKwh} kWh at ${swap.pricePerKwh}`,
            kind: 'info',
            timeoutMs: 4000,
          });
        },
        out,
      );
    });
  }

  openPropose(l: Listing): void {
    const dialog = byId<HTMLDialogElement>('propose-dialog');
    const form = byId<HTMLFormElement>('propose-form');
    this.proposing = l;
    const verb = l.side === 'supply' ? 'Buy' : 'Sell';
    byId('propose-title').textContent = `${verb} ${l.energyType} energy`;
    byId('propose-summary').textContent =
      `${capitalize(l.energyType)} ${l.side} in ${l.zone} · delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd)} · ` +
      `${l.availableKwh} kWh available at ${l.pricePerKwh} ${l.currency}/kWh`;
    byId('propose-desc').textContent = l.description;
    field<HTMLInputElement>(form, 'input[name=volumeKwh]').value = l.availableKwh;
    field<HTMLInputElement>(form, 'input[name=pricePerKwh]').value = l.pricePerKwh;
    field<HTMLTextAreaElement>(form, 'textarea[name=note]').value = '';
    field(form, '.form-error').textContent = '';
    dialog.showModal();
    field<HTMLInputElement>(form, 'input[name=volumeKwh]').select();
  }
}

/** A Date as a datetime-local input value, in local time. */
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
