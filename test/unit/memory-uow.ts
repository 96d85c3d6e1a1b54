// A UnitOfWork in memory, for the domain's command handlers without a database: the rows as
// maps, locks as plain reads (one command at a time), the events emitted as a list.
import { defaultMarketProfile } from '../../src/domain/energy/market-config.js';
import { crosses, MAX_MATCH_NOTICES } from '../../src/domain/energy/matching.js';
import type { Meter } from '../../src/domain/energy/meters.js';
import type { SlotShare } from '../../src/domain/energy/slots.js';
import type { TapeEntry } from '../../src/domain/energy/tape.js';
import { slotKey } from '../../src/domain/energy/trading.js';
import type { EventDraft } from '../../src/domain/events.js';
import type { Offer } from '../../src/domain/swap.js';
import type { Listing, MarketRules, Swap, UnitOfWork } from '../../src/domain/unit-of-work.js';

export const RULES: MarketRules = { market: defaultMarketProfile(), offerTtlMs: 600_000, currency: 'EUR' };

export class MemoryStore {
  readonly listings = new Map<string, Listing>();
  readonly swaps = new Map<string, Swap>();
  readonly offers: Offer[] = [];
  readonly meters = new Map<string, Meter>();
  /** contracted Wh by `slotKey` */
  readonly contracted = new Map<string, bigint>();
  /** each accepted trade's slots, by swap id */
  readonly tradeSlots = new Map<string, SlotShare[]>();
  /** the public tape */
  readonly tape: TapeEntry[] = [];

  constructor(readonly rules: MarketRules = RULES) {}

  /** A unit of work at `now`; its events are pushed to `events`. */
  uow(now: Date, events: EventDraft[] = []): UnitOfWork {
    const { listings, swaps, offers, meters, contracted, tradeSlots, tape } = this;
    const byId = (x: Swap, y: Swap) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
    return {
      now,
      rules: this.rules,
      emit: (e) => void events.push(e),
      listings: {
        async insert(l) {
          listings.set(l.id, l);
        },
        async lock(id) {
          return listings.get(id);
        },
        async lockForProposal(id, proposerId, meterId) {
          const listing = listings.get(id);
          if (!listing) return undefined;
          const hasOpen = [...swaps.values()].some(
            (s) => s.listingId === id && s.initiatorId === proposerId && s.status === 'open',
          );
          return { listing, hasOpen, meter: meters.get(meterId) };
        },
        async update(l) {
          listings.set(l.id, l);
        },
        async notifyMatches(l, zones) {
          const crossing = [...listings.values()]
            .filter((e) => crosses(l, e, zones, now))
            .sort((x, y) =>
              x.priceE4 === y.priceE4 ? 0 : x.priceE4 < y.priceE4 === (l.side === 'demand') ? -1 : 1,
            )
            .slice(0, MAX_MATCH_NOTICES);
          for (const e of crossing) {
            events.push({
              type: 'listing.matched',
              data: { listingId: e.id, matchId: l.id },
              users: [e.ownerId],
            });
          }
        },
        async lockGateClosed(at, limit) {
          return [...listings.values()]
            .filter((l) => l.status === 'active' && l.gateClosesAt <= at)
            .sort((x, y) => x.gateClosesAt.getTime() - y.gateClosesAt.getTime())
            .slice(0, limit);
        },
      },
      swaps: {
        async insert(s, offer) {
          swaps.set(s.id, s);
          offers.push(offer);
        },
        async lock(id) {
          return swaps.get(id);
        },
        async lockWithListing(id) {
          const swap = swaps.get(id);
          const listing = swap && listings.get(swap.listingId);
          const own = [swap?.sellerMeterId, swap?.buyerMeterId].flatMap((m) => (m && meters.get(m)) || []);
          return swap && listing && { listing, swap, meters: own };
        },
        async update(s) {
          swaps.set(s.id, s);
        },
        async addOffer(o) {
          offers.push(o);
        },
        async lockOpenOfListing(listingId, overWh = 0n, exceptId) {
          return [...swaps.values()]
            .filter(
              (s) =>
                s.listingId === listingId && s.status === 'open' && s.volumeWh > overWh && s.id !== exceptId,
            )
            .sort(byId);
        },
        async lockExpired(at, limit) {
          return [...swaps.values()]
            .filter((s) => s.status === 'open' && s.expiresAt <= at)
            .sort((x, y) => x.expiresAt.getTime() - y.expiresAt.getTime())
            .slice(0, limit);
        },
      },
      meters: {
        async lockShared(id) {
          return meters.get(id);
        },
        async lockSlots(uses, starts) {
          const found = new Map<string, bigint>();
          for (const u of uses)
            for (const start of starts) {
              const key = slotKey(u.meterId, u.direction, start);
              found.set(key, contracted.get(key) ?? 0n);
            }
          return { meters: uses.flatMap((u) => meters.get(u.meterId) ?? []), contracted: found };
        },
        async setSlots(use, totals) {
          for (const t of totals) contracted.set(slotKey(use.meterId, use.direction, t.start), t.wh);
        },
      },
      trades: {
        async insertSlots(swapId, shares) {
          tradeSlots.set(swapId, shares);
        },
        async insertTape(entry, _listingId) {
          tape.push(entry);
        },
      },
    };
  }
}
