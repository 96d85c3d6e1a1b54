// The swap command handlers (src/domain/swap-commands.ts) on an in-memory UnitOfWork: no
// database, no server. What each command checks, writes and emits.
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, test } from 'vitest';
import type { Meter } from '../../src/domain/energy/meters.js';
import { HubError } from '../../src/domain/errors.js';
import type { EventDraft } from '../../src/domain/events.js';
import type { Listing } from '../../src/domain/listing.js';
import {
  accept,
  counter,
  expireOffers,
  propose,
  reject,
  voidOpenSwaps,
  withdraw,
} from '../../src/domain/swap-commands.js';
import { MemoryStore } from './memory-uow.js';

const T0 = new Date('2030-01-01T10:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const OWNER = 'owner';
/** a trader as a command gets them: the id and a display name */
const as = (id: string) => ({ id, name: `Trader ${id}` });
const terms = (kwh: number) => ({ volumeWh: BigInt(kwh * 1000), priceE4: 1000n });
/** each trader's meter: `m-<trader>` */
const meterOf = (trader: string) => `m-${trader}`;

/** A meter of `trader` in `zone`, capacities in W (default: large enough never to limit). */
function addMeter(
  trader: string,
  zone = 'DE-North',
  exportW = 1_000_000_000n,
  importW = 1_000_000_000n,
  id = meterOf(trader),
) {
  const meter: Meter = {
    id,
    ownerId: trader,
    externalId: `EXT-${id}`,
    zone,
    exportCapacityW: exportW,
    importCapacityW: importW,
    label: '',
    status: 'active',
    createdAt: T0,
    retiredAt: null,
  };
  store.meters.set(id, meter);
  return meter;
}

let store: MemoryStore;
let listing: Listing;
beforeEach(() => {
  store = new MemoryStore();
  addMeter(OWNER);
  for (const b of ['b1', 'b2', 'b3']) addMeter(b);
  listing = {
    id: randomUUID(),
    ownerId: OWNER,
    ownerName: `Trader ${OWNER}`,
    side: 'supply',
    energyType: 'solar',
    volumeWh: 10_000n,
    availableWh: 10_000n,
    priceE4: 1000n,
    currency: 'EUR',
    deliveryStart: later(86_400_000),
    deliveryEnd: later(90_000_000),
    zone: 'DE-North',
    description: '',
    status: 'active',
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    meterId: meterOf(OWNER),
    slotMinutes: 60,
    allOrNone: false,
    // trading closes a minute before delivery
    gateClosesAt: later(86_400_000 - 60_000),
  };
  store.listings.set(listing.id, listing);
});

/** runs `fn` as one command at `now`; its events, and its error code if refused */
async function command<R>(fn: (uow: ReturnType<MemoryStore['uow']>) => Promise<R>, now = T0) {
  const events: EventDraft[] = [];
  try {
    return { value: await fn(store.uow(now, events)), events, code: undefined };
  } catch (err) {
    if (!(err instanceof HubError)) throw err;
    return { value: undefined, events, code: err.code };
  }
}

const proposed = async (buyer: string, kwh: number) =>
  (await command((u) => propose(u, as(buyer), listing.id, meterOf(buyer), terms(kwh)))).value!;

describe('propose', () => {
  test('opens round 1 with the owner to answer, and tells both', async () => {
    const r = await command((u) => propose(u, as('b1'), listing.id, meterOf('b1'), terms(3)));
    expect(r.value).toMatchObject({ status: 'open', round: 1, listingId: listing.id });
    expect(store.swaps.get(r.value!.id)).toMatchObject({
      nextActorId: OWNER,
      buyerId: 'b1',
      sellerId: OWNER,
    });
    expect(store.offers).toHaveLength(1);
    expect(r.events.map((e) => [e.type, e.users])).toEqual([['swap.proposed', ['b1', OWNER]]]);
  });

  test.each([
    [
      'an unknown listing',
      () => propose(store.uow(T0), as('b1'), randomUUID(), meterOf('b1'), terms(1)),
      'NOT_FOUND',
    ],
    [
      'the own listing',
      () => propose(store.uow(T0), as(OWNER), listing.id, meterOf(OWNER), terms(1)),
      'SELF_SWAP',
    ],
    [
      'more than is available',
      () => propose(store.uow(T0), as('b1'), listing.id, meterOf('b1'), terms(11)),
      'INSUFFICIENT_VOLUME',
    ],
    [
      'past the gate closure',
      () => propose(store.uow(later(86_400_000 - 1000)), as('b1'), listing.id, meterOf('b1'), terms(1)),
      'INVALID_STATE',
    ],
  ])('refuses %s', async (_what, run, code) => {
    await expect(run()).rejects.toMatchObject({ code });
    expect(store.swaps.size).toBe(0);
  });

  test('a second open swap of one trader on a listing is CONFLICT', async () => {
    await proposed('b1', 1);
    expect((await command((u) => propose(u, as('b1'), listing.id, meterOf('b1'), terms(1)))).code).toBe(
      'CONFLICT',
    );
  });
});

describe('counter', () => {
  test('the next round with new terms, the turn handed over, an offer added', async () => {
    const s = await proposed('b1', 3);
    const r = await command((u) => counter(u, OWNER, s.id, 1, terms(2)), later(1000));
    expect(r.value).toMatchObject({ round: 2, volumeKwh: '2.000' });
    expect(store.swaps.get(s.id)).toMatchObject({ nextActorId: 'b1', volumeWh: 2000n });
    expect(store.offers).toHaveLength(2);
    expect(r.events.map((e) => e.type)).toEqual(['swap.countered']);
  });

  test('out of turn is refused and changes nothing', async () => {
    const s = await proposed('b1', 3);
    expect((await command((u) => counter(u, 'b1', s.id, 1, terms(2)))).code).toBe('NOT_YOUR_TURN');
    expect(store.swaps.get(s.id)).toMatchObject({ round: 1, volumeWh: 3000n });
  });

  test('the terms on the table again is VALIDATION_FAILED naming the fields, and changes nothing', async () => {
    const s = await proposed('b1', 3);
    const before = store.swaps.get(s.id);
    const uow = store.uow(later(1000));
    const err = await counter(uow, OWNER, s.id, 1, { ...terms(3), note: 'same again' }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.toJSON()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: {
        issues: [
          { path: 'pricePerKwh', message: 'A counter must change the price or the volume' },
          { path: 'volumeKwh', message: 'A counter must change the price or the volume' },
        ],
      },
    });
    expect(store.swaps.get(s.id)).toStrictEqual(before);
    expect(store.offers).toHaveLength(1);
    expect((await command((u) => counter(u, OWNER, s.id, 1, terms(3)))).events).toEqual([]);
  });

  test('turn and round are judged first; one changed field is a counter', async () => {
    const s = await proposed('b1', 3);
    expect((await command((u) => counter(u, 'b1', s.id, 1, terms(3)))).code).toBe('NOT_YOUR_TURN');
    expect((await command((u) => counter(u, OWNER, s.id, 2, terms(3)))).code).toBe('CONFLICT');
    const price = await command((u) => counter(u, OWNER, s.id, 1, { ...terms(3), priceE4: 1001n }));
    expect(price.value).toMatchObject({ round: 2, volumeKwh: '3.000', pricePerKwh: '0.1001' });
    const volume = await command((u) => counter(u, 'b1', s.id, 2, { ...terms(2), priceE4: 1001n }));
    expect(volume.value).toMatchObject({ round: 3, volumeKwh: '2.000', pricePerKwh: '0.1001' });
  });
});

describe('accept', () => {
  test('reduces the listing, accepts the swap, voids the open swaps that no longer fit', async () => {
    const big = await proposed('b1', 7);
    const fits = await proposed('b2', 3);
    const misfit = await proposed('b3', 4);
    const r = await command((u) => accept(u, OWNER, big.id, 1));
    expect(r.value).toMatchObject({ id: big.id, status: 'accepted' });
    expect(store.listings.get(listing.id)).toMatchObject({
      availableWh: 3000n,
      status: 'active',
      version: 2,
    });
    expect(store.swaps.get(fits.id)?.status).toBe('open');
    expect(store.swaps.get(misfit.id)).toMatchObject({
      status: 'voided',
      closeReason: 'insufficient_volume',
    });
    expect(r.events.map((e) => e.type)).toEqual([
      'swap.accepted',
      'listing.updated',
      'market.trade',
      'swap.voided',
    ]);
    // the tape's entry: the market's view of the trade, with an id of its own
    expect(store.tape).toEqual([
      expect.objectContaining({ zone: 'DE-North', volumeWh: 7000n, priceE4: 1000n }),
    ]);
    expect(store.tape[0]!.id).not.toBe(big.id);
  });

  test('the last volume fills the listing and voids the rest as listing_filled', async () => {
    const all = await proposed('b1', 10);
    const other = await proposed('b2', 1);
    const r = await command((u) => accept(u, OWNER, all.id, 1));
    expect(store.listings.get(listing.id)).toMatchObject({ availableWh: 0n, status: 'filled' });
    expect(store.swaps.get(other.id)).toMatchObject({ status: 'voided', closeReason: 'listing_filled' });
    expect(r.events.map((e) => e.type)).toEqual([
      'swap.accepted',
      'listing.closed',
      'market.trade',
      'swap.voided',
    ]);
  });

  test.each([
    ['by the proposer (not its turn)', 'b1', 1, 'NOT_YOUR_TURN'],
    ['of a past round', OWNER, 2, 'CONFLICT'],
  ])('refused %s, changing nothing', async (_what, actor, round, code) => {
    const s = await proposed('b1', 3);
    const r = await command((u) => accept(u, actor, s.id, round));
    expect(r.code).toBe(code);
    expect(r.events).toEqual([]);
    expect(store.listings.get(listing.id)?.availableWh).toBe(10_000n);
  });

  test('an unknown swap is NOT_FOUND', async () => {
    expect((await command((u) => accept(u, OWNER, randomUUID(), 1))).code).toBe('NOT_FOUND');
  });
});

describe('reject, withdraw, void, expire', () => {
  test('reject by the one whose turn it is; withdraw by the author of the latest offer', async () => {
    const a = await proposed('b1', 1);
    const b = await proposed('b2', 1);
    expect((await command((u) => reject(u, OWNER, a.id, 1))).value?.status).toBe('rejected');
    expect((await command((u) => withdraw(u, OWNER, b.id))).code).toBe('FORBIDDEN');
    expect((await command((u) => withdraw(u, 'b2', b.id))).value?.status).toBe('withdrawn');
  });

  test('voidOpenSwaps voids every open swap of a listing with the reason', async () => {
    const a = await proposed('b1', 1);
    const b = await proposed('b2', 2);
    const r = await command((u) => voidOpenSwaps(u, listing.id, 'listing_cancelled'));
    for (const s of [a, b])
      expect(store.swaps.get(s.id)).toMatchObject({ status: 'voided', closeReason: 'listing_cancelled' });
    expect(r.events.map((e) => e.type)).toEqual(['swap.voided', 'swap.voided']);
  });

  test('expireOffers expires the swaps past their deadline, at most `limit`', async () => {
    for (const b of ['b1', 'b2', 'b3']) await proposed(b, 1);
    const after = later(600_001);
    expect((await command((u) => expireOffers(u, 2), after)).value).toBe(2);
    expect((await command((u) => expireOffers(u, 2), after)).value).toBe(1);
    expect([...store.swaps.values()].every((s) => s.status === 'expired')).toBe(true);
  });
});
