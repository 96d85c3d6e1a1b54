import type { Meter } from '../../domain/energy/meters.js';
import type { SlotShare } from '../../domain/energy/slots.js';
import { type MeterUse, slotKey } from '../../domain/energy/trading.js';
import { slotShares } from '../../domain/listing.js';
import type { Offer, Swap } from '../../domain/swap.js';
import type { Listing, ListingRepo, MeterRepo, SwapRepo } from '../../domain/unit-of-work.js';
import type { CommandStatements } from './command-statements.js';
import { writeListingUpdate } from './listing-repo.js';
import { lockMeterSlots, writeMeterSlots } from './meter-repo.js';
import { lockOpenOfListingExcept, lockSwapsOfListing, writeSwapUpdate } from './swap-repo.js';

/**
 * A command of a group asked for a row the group's statements did not lock, or for something a
 * group does not do (an insert): the group cannot run it, and its commands run again one by one.
 */
export class OutsideGroup extends Error {
  constructor(what: string) {
    super(`not available to a grouped command: ${what}`);
    this.name = 'OutsideGroup';
  }
}

const outside = (what: string) => Promise.reject(new OutsideGroup(what));

const byId = (x: Swap, y: Swap) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/** The group's rows at one moment, to go back to when one of its commands is refused. */
export interface LockedMark {
  listing: Listing;
  swaps: Map<string, Swap>;
  contracted: Map<string, bigint>;
}

/**
 * The rows a group of commands on one listing holds, locked by three statements: the listing with
 * the group's swaps (`FOR UPDATE OF l, s`, the listing first), then the listing's open swaps above
 * `floorWh`: the available volume minus all the group's swaps, so every open swap an accept of the
 * group could void; then the slot rows of the group's swaps' meters in the listing's slots, with
 * the meters share-locked, so the per-slot limits are checked inside the group. Kept up to date by
 * the group's writes, so each command sees the state the ones before it left, as it would in a
 * transaction of its own.
 */
export class LockedListing {
  private constructor(
    public listing: Listing,
    public swaps: Map<string, Swap>,
    readonly floorWh: bigint,
    readonly meters: Meter[],
    public contracted: Map<string, bigint>,
  ) {}

  /** Locks the rows of a group of commands on `swapIds` of `listingId`; undefined if none is its swap. */
  static async lock(
    statements: CommandStatements,
    listingId: string,
    swapIds: string[],
  ): Promise<LockedListing | undefined> {
    const locked = await lockSwapsOfListing(statements, listingId, swapIds);
    if (!locked) return undefined;
    const swaps = new Map(locked.swaps.map((s) => [s.id, s]));
    const floorWh = locked.listing.availableWh - locked.swaps.reduce((sum, s) => sum + s.volumeWh, 0n);
    for (const s of await lockOpenOfListingExcept(statements, listingId, floorWh, [...swaps.keys()]))
      swaps.set(s.id, s);
    const uses = new Map<string, MeterUse>();
    for (const s of locked.swaps) {
      if (s.sellerMeterId)
        uses.set(`${s.sellerMeterId}/export`, { meterId: s.sellerMeterId, direction: 'export' });
      if (s.buyerMeterId)
        uses.set(`${s.buyerMeterId}/import`, { meterId: s.buyerMeterId, direction: 'import' });
    }
    const starts = slotShares(locked.listing, 0n).map((share) => share.start);
    const slots =
      uses.size && locked.listing.meterId
        ? await lockMeterSlots(statements, [...uses.values()], starts)
        : { meters: [], contracted: new Map<string, bigint>() };
    return new LockedListing(locked.listing, swaps, floorWh, slots.meters, slots.contracted);
  }

  mark(): LockedMark {
    return { listing: this.listing, swaps: new Map(this.swaps), contracted: new Map(this.contracted) };
  }

  reset(mark: LockedMark): void {
    this.listing = mark.listing;
    this.swaps = new Map(mark.swaps);
    this.contracted = new Map(mark.contracted);
  }
}

/** The group's meters as a MeterRepo: the slot rows it locked; their updates go out with the group. */
export class GroupMeterRepo implements MeterRepo {
  constructor(
    private readonly rows: LockedListing,
    private readonly statements: CommandStatements,
  ) {}

  lockShared(): Promise<Meter | undefined> {
    return outside('meters.lockShared');
  }

  async lockSlots(uses: MeterUse[], starts: Date[]) {
    const contracted = new Map<string, bigint>();
    for (const u of uses) {
      for (const start of starts) {
        const key = slotKey(u.meterId, u.direction, start);
        const wh = this.rows.contracted.get(key);
        if (wh === undefined) return outside('meter slots the group did not lock');
        contracted.set(key, wh);
      }
    }
    const ids = new Set(uses.map((u) => u.meterId));
    return { meters: this.rows.meters.filter((m) => ids.has(m.id)), contracted };
  }

  async setSlots(use: MeterUse, totals: SlotShare[]): Promise<void> {
    for (const t of totals) {
      const key = slotKey(use.meterId, use.direction, t.start);
      if (!this.rows.contracted.has(key)) return outside('meter slots the group did not lock');
      this.rows.contracted.set(key, t.wh);
    }
    await writeMeterSlots(this.statements, use, totals);
  }
}

/** The group's listing as a ListingRepo: its one locked listing; its updates go out with the group. */
export class GroupListingRepo implements ListingRepo {
  constructor(
    private readonly rows: LockedListing,
    private readonly statements: CommandStatements,
  ) {}

  insert(): Promise<void> {
    return outside('listings.insert');
  }

  notifyMatches(): Promise<void> {
    return outside('listings.notifyMatches');
  }

  async lock(id: string): Promise<Listing | undefined> {
    if (id !== this.rows.listing.id) return outside('another listing');
    return this.rows.listing;
  }

  lockForProposal(): Promise<{ listing: Listing; hasOpen: boolean } | undefined> {
    return outside('listings.lockForProposal');
  }

  async update(listing: Listing): Promise<void> {
    if (listing.id !== this.rows.listing.id) return outside('another listing');
    this.rows.listing = listing;
    await writeListingUpdate(this.statements, listing);
  }

  lockGateClosed(): Promise<Listing[]> {
    return outside('listings.lockGateClosed');
  }
}

/** The group's swaps as a SwapRepo: those it locked; their updates go out with the group. */
export class GroupSwapRepo implements SwapRepo {
  constructor(
    private readonly rows: LockedListing,
    private readonly statements: CommandStatements,
  ) {}

  private locked(id: string): Swap | undefined {
    return this.rows.swaps.get(id);
  }

  insert(_swap: Swap, _offer: Offer): Promise<void> {
    return outside('swaps.insert');
  }

  async lock(id: string): Promise<Swap | undefined> {
    return this.locked(id) ?? outside('a swap the group did not lock');
  }

  async lockWithListing(id: string): Promise<{ listing: Listing; swap: Swap; meters: Meter[] } | undefined> {
    const swap = this.locked(id);
    if (!swap) return outside('a swap the group did not lock');
    const meters = this.rows.meters.filter((m) => m.id === swap.sellerMeterId || m.id === swap.buyerMeterId);
    return { listing: this.rows.listing, swap, meters };
  }

  async update(swap: Swap): Promise<void> {
    if (!this.locked(swap.id)) return outside('a swap the group did not lock');
    this.rows.swaps.set(swap.id, swap);
    await writeSwapUpdate(this.statements, swap);
  }

  addOffer(_offer: Offer): Promise<void> {
    return outside('swaps.addOffer');
  }

  async lockOpenOfListing(listingId: string, overWh = 0n, exceptId?: string): Promise<Swap[]> {
    // below the floor there may be open swaps the group did not lock
    if (listingId !== this.rows.listing.id || overWh < this.rows.floorWh)
      return outside('open swaps the group did not lock');
    return [...this.rows.swaps.values()]
      .filter((s) => s.status === 'open' && s.volumeWh > overWh && s.id !== exceptId)
      .sort(byId);
  }

  lockExpired(): Promise<Swap[]> {
    return outside('swaps.lockExpired');
  }
}
