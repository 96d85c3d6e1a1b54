// The energy market's rules in the commands (PROTOCOL-MARKET.md): meters, zones, step, tick and
// bounds, all-or-none, per-slot limits and fees, on an in-memory UnitOfWork (no database). The
// limits under concurrency, on real PostgreSQL and two nodes, are test/meters/limits.test.ts.
import { beforeEach, describe, expect, test } from 'vitest';
import type { Meter } from '../../src/domain/energy/meters.js';
import { slotKey } from '../../src/domain/energy/trading.js';
import { parseMarketConfig } from '../../src/domain/energy/zones.js';
import { HubError } from '../../src/domain/errors.js';
import type { Listing } from '../../src/domain/listing.js';
import { amendListing, createListing } from '../../src/domain/listing-commands.js';
import type { CreateListingInput } from '../../src/domain/schemas.js';
import { accept, counter, propose } from '../../src/domain/swap-commands.js';
import { MemoryStore, RULES } from './memory-uow.js';

const T0 = new Date('2030-01-01T10:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const as = (id: string) => ({ id, name: `Trader ${id}` });
const kwh = (n: string) => BigInt(Math.round(Number(n) * 1000)); // test literals only

let store: MemoryStore;

function addMeter(
  owner: string,
  zone: string,
  exportKw: number,
  importKw: number,
  id = `m-${owner}-${zone}`,
): Meter {
  const meter: Meter = {
    id,
    ownerId: owner,
    externalId: `EXT-${id}`,
    zone,
    exportCapacityW: BigInt(exportKw * 1000),
    importCapacityW: BigInt(importKw * 1000),
    label: '',
    status: 'active',
    createdAt: T0,
    retiredAt: null,
  };
  store.meters.set(id, meter);
  return meter;
}

const input = (meterId: string, over: Partial<CreateListingInput> = {}): CreateListingInput => ({
  side: 'supply',
  energyType: 'solar',
  volumeKwh: 10_000n,
  pricePerKwh: 1000n,
  deliveryStart: at(24),
  deliveryEnd: at(25),
  meterId,
  ...over,
});

async function refused(run: () => Promise<unknown>): Promise<HubError> {
  const err = await run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

const create = async (owner: string, meterId: string, over: Partial<CreateListingInput> = {}) => {
  const view = await createListing(store.uow(T0), as(owner), input(meterId, over));
  return store.listings.get(view.id)!;
};
const proposeOn = (l: Listing, buyer: string, meterId: string, volume: string, price = 1000n) =>
  propose(store.uow(T0), as(buyer), l.id, meterId, { volumeWh: kwh(volume), priceE4: price });

beforeEach(() => {
  store = new MemoryStore();
});

describe('listing:create with a meter', () => {
  test("the listing takes the meter's zone, its slot length and its gate; the owner sees the meter", async () => {
    const m = addMeter('alice', 'DE-North', 100, 0);
    const view = await createListing(store.uow(T0), as('alice'), input(m.id, { zone: 'de-north' }));
    expect(view).toMatchObject({ zone: 'DE-North', meterId: m.id, allOrNone: false });
    expect(view.slots).toEqual([{ start: at(24).toISOString(), volumeKwh: '10.000' }]);
    const stored = store.listings.get(view.id)!;
    expect(stored).toMatchObject({ slotMinutes: 60, meterId: m.id });
    // the default zone's gate lead is 60 minutes
    expect(stored.gateClosesAt).toEqual(at(23));
  });

  test('three slots share 10 kWh flat, the extra Wh to the earliest', async () => {
    const m = addMeter('alice', 'DE-North', 100, 0);
    const view = await createListing(store.uow(T0), as('alice'), input(m.id, { deliveryEnd: at(27) }));
    expect(view.slots.map((s) => s.volumeKwh)).toEqual(['3.334', '3.333', '3.333']);
  });

  test.each([
    ['a meter that does not exist', 'nope', 'meterId'],
    ["another trader's meter", 'm-bob-DE-North', 'meterId'],
  ])('refuses %s (VALIDATION_FAILED at meterId)', async (_what, meterId, path) => {
    addMeter('bob', 'DE-North', 100, 100);
    const err = await refused(() => createListing(store.uow(T0), as('alice'), input(meterId)));
    expect(err.toJSON()).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path }] } });
    expect(store.listings.size).toBe(0);
  });

  test('refuses a retired meter', async () => {
    const m = addMeter('alice', 'DE-North', 100, 100);
    store.meters.set(m.id, { ...m, status: 'retired', retiredAt: T0 });
    const err = await refused(() => createListing(store.uow(T0), as('alice'), input(m.id)));
    expect(err.toJSON()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'meterId', message: expect.stringContaining('retired') }] },
    });
  });

  test("a zone given must be the meter's; windows off the grid, inside the gate, too long: every issue at once", async () => {
    const m = addMeter('alice', 'DE-North', 100, 0);
    const err = await refused(() =>
      createListing(
        store.uow(T0),
        as('alice'),
        input(m.id, { zone: 'NL', deliveryStart: new Date(at(24).getTime() + 60_000), deliveryEnd: at(25) }),
      ),
    );
    expect((err.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      'zone',
      'deliveryStart',
    ]);
    const gate = await refused(() =>
      createListing(store.uow(T0), as('alice'), input(m.id, { deliveryStart: at(1), deliveryEnd: at(2) })),
    );
    expect(gate.toJSON()).toMatchObject({
      details: { issues: [{ path: 'deliveryStart', message: expect.stringContaining('60 minutes') }] },
    });
    const long = await refused(() =>
      createListing(
        store.uow(T0),
        as('alice'),
        input(m.id, { deliveryStart: at(24), deliveryEnd: at(24 + 97) }),
      ),
    );
    expect(long.toJSON()).toMatchObject({ details: { issues: [{ path: 'deliveryEnd' }] } });
  });

  test('a listing whose own slot share exceeds its meter limit is LIMIT_EXCEEDED at once', async () => {
    // 8 kW export x 1 h x capFactor 0.5 = 4.000 kWh per slot; 10 kWh over 2 slots is 5.000 each
    const m = addMeter('alice', 'DE-North', 8, 0);
    const err = await refused(() =>
      createListing(store.uow(T0), as('alice'), input(m.id, { deliveryEnd: at(26) })),
    );
    expect(err.toJSON()).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: {
        meterId: m.id,
        slotStart: at(24).toISOString(),
        limitKwh: '4.000',
        contractedKwh: '0.000',
        requestedKwh: '5.000',
      },
    });
    // a demand listing counts against the import capacity, which is 0 here
    const demand = await refused(() =>
      createListing(store.uow(T0), as('alice'), input(m.id, { side: 'demand', volumeKwh: 1n })),
    );
    expect(demand.code).toBe('LIMIT_EXCEEDED');
    expect(store.listings.size).toBe(0);
  });
});

describe('a zone with its own step, tick and bounds', () => {
  const parsed = parseMarketConfig({
    zones: [
      { id: 'A', minStepKwh: '0.100', priceTick: '0.0050', minPrice: '0.0500', maxPrice: '0.5000' },
      { id: 'B' },
      { id: 'Q', slotMinutes: 15 },
    ],
    interZoneWheelingPerKwh: { 'A->B': '0.0200' },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  const rules = { ...RULES, market: parsed.profile };

  test('volumes off the step and prices off the tick or out of bounds are VALIDATION_FAILED', async () => {
    store = new MemoryStore(rules);
    const m = addMeter('alice', 'A', 1000, 1000);
    const issues = async (over: Partial<CreateListingInput>) => {
      const err = await refused(() => createListing(store.uow(T0), as('alice'), input(m.id, over)));
      return (err.details as { issues: { path: string; message: string }[] }).issues;
    };
    expect(await issues({ volumeKwh: 10_050n })).toEqual([
      { path: 'volumeKwh', message: 'must be a multiple of 0.100 kWh (the step of zone A)' },
    ]);
    expect(await issues({ pricePerKwh: 1010n })).toEqual([
      { path: 'pricePerKwh', message: 'must be a multiple of 0.0050 (the tick of zone A)' },
    ]);
    expect(await issues({ pricePerKwh: 5050n })).toEqual([
      { path: 'pricePerKwh', message: 'must be from 0.0500 to 0.5000 (the bounds of zone A)' },
    ]);
    const ok = await createListing(
      store.uow(T0),
      as('alice'),
      input(m.id, { volumeKwh: 10_100n, pricePerKwh: 1050n }),
    );
    // a proposal and a counter follow the listing's zone too
    addMeter('bob', 'A', 1000, 1000);
    const listing = store.listings.get(ok.id)!;
    const off = await refused(() => proposeOn(listing, 'bob', 'm-bob-A', '1.05'));
    expect(off.toJSON()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'volumeKwh' }] },
    });
    const swap = await proposeOn(listing, 'bob', 'm-bob-A', '1.1');
    const tick = await refused(() =>
      counter(store.uow(T0), 'alice', swap.id, 1, { volumeWh: 1100n, priceE4: 1051n }),
    );
    expect(tick.toJSON()).toMatchObject({ details: { issues: [{ path: 'pricePerKwh' }] } });
    const amend = await refused(() => amendListing(store.uow(T0), 'alice', listing.id, { priceE4: 9000n }));
    expect(amend.toJSON()).toMatchObject({ details: { issues: [{ path: 'pricePerKwh' }] } });
  });

  test('a proposer in another zone: only with a wheeling link that way and the same slot length (ZONE_MISMATCH)', async () => {
    store = new MemoryStore(rules);
    const a = addMeter('alice', 'A', 1000, 1000);
    const supply = await create('alice', a.id, { pricePerKwh: 1000n });
    const demand = await create('alice', a.id, { side: 'demand', pricePerKwh: 1000n });
    addMeter('bob', 'B', 1000, 1000);
    addMeter('bob', 'Q', 1000, 1000);
    // A -> B has a charge: bob in B buys from alice in A
    const ok = await proposeOn(supply, 'bob', 'm-bob-B', '1');
    expect(ok).toMatchObject({ sellerMeterId: a.id, buyerMeterId: 'm-bob-B' });
    expect(ok.fees?.buyer.interZone).toBe('0.02');
    // B -> A has none: bob in B cannot sell to alice in A
    const back = await refused(() => proposeOn(demand, 'bob', 'm-bob-B', '1'));
    expect(back.toJSON()).toMatchObject({
      code: 'ZONE_MISMATCH',
      details: { sellerZone: 'B', buyerZone: 'A' },
    });
    // Q has 15-minute slots
    const grid = await refused(() => proposeOn(supply, 'bob', 'm-bob-Q', '1'));
    expect(grid.code).toBe('ZONE_MISMATCH');
    expect(store.swaps.size).toBe(1);
  });
});

describe('fees on swaps and offers', () => {
  test('worked example within one zone and across zones, exact in cents', async () => {
    const m = addMeter('alice', 'DE-North', 1000, 1000);
    const l = await create('alice', m.id, { volumeKwh: 300_000n });
    addMeter('bob', 'DE-North', 1000, 1000);
    addMeter('carol', 'NL', 1000, 1000);
    // 3 kWh at 0.1000: energy 0.30; buyer wheeling 3 x 0.025 = 0.075 -> 0.08 (half-even);
    // seller wheeling 3 x 0.03 = 0.09; platform 1 % of 0.30 = 0.003 (under the cap 3 x 0.0042)
    // -> 0.00 each side. Buyer pays 0.38, seller receives 0.21, the grid 0.17, the platform 0.
    const within = await proposeOn(l, 'bob', 'm-bob-DE-North', '3');
    expect(within.fees).toEqual({
      energyNotional: '0.30',
      buyer: { wheeling: '0.08', interZone: '0.00', platform: '0.00', total: '0.08' },
      seller: { wheeling: '0.09', platform: '0.00', total: '0.09' },
      buyerPays: '0.38',
      sellerReceives: '0.21',
      gridOperatorReceives: '0.17',
      platformReceives: '0.00',
    });
    // carol in NL: DE-North -> NL charges 0.0200/kWh to the buyer: 0.06 more, to the grid
    const across = await proposeOn(l, 'carol', 'm-carol-NL', '3');
    expect(across.fees).toMatchObject({
      buyer: { wheeling: '0.08', interZone: '0.06', platform: '0.00', total: '0.14' },
      buyerPays: '0.44',
      sellerReceives: '0.21',
      gridOperatorReceives: '0.23',
    });
    // a counter carries the fees of its own terms, and so does its offer; 200 kWh at 0.5000:
    // energy 100.00; platform min(1.00, 200 x 0.0042 = 0.84) = 0.84 each side
    const c = await counter(store.uow(T0), 'alice', within.id, 1, { volumeWh: 200_000n, priceE4: 5000n });
    expect(c.fees).toMatchObject({
      energyNotional: '100.00',
      buyer: { wheeling: '5.00', platform: '0.84', total: '5.84' },
      seller: { wheeling: '6.00', platform: '0.84', total: '6.84' },
      buyerPays: '105.84',
      sellerReceives: '93.16',
      gridOperatorReceives: '11.00',
      platformReceives: '1.68',
    });
    expect(store.offers.map((o) => o.fees?.buyerPays)).toEqual(['0.38', '0.44', '105.84']);
  });
});

describe('per-slot limits at accept', () => {
  test("two listings in one slot: the second accept would take the buyer's meter over its limit", async () => {
    // bob imports at most 8 kW x 1 h x 0.5 = 4.000 kWh per slot
    const a = addMeter('alice', 'DE-North', 1000, 0);
    const c = addMeter('carol', 'DE-North', 1000, 0);
    const b = addMeter('bob', 'DE-North', 0, 8);
    const first = await create('alice', a.id);
    const second = await create('carol', c.id);
    const s1 = await proposeOn(first, 'bob', b.id, '3');
    const s2 = await proposeOn(second, 'bob', b.id, '2');
    await accept(store.uow(T0), 'alice', s1.id, 1);
    expect(store.contracted.get(slotKey(b.id, 'import', at(24)))).toBe(3000n);
    expect(store.contracted.get(slotKey(a.id, 'export', at(24)))).toBe(3000n);
    const err = await refused(() => accept(store.uow(T0), 'carol', s2.id, 1));
    expect(err.toJSON()).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: {
        meterId: b.id,
        slotStart: at(24).toISOString(),
        limitKwh: '4.000',
        contractedKwh: '3.000',
        requestedKwh: '2.000',
      },
    });
    // nothing changed (the in-memory store has no rollback: the refusal comes before any write)
    expect(store.swaps.get(s2.id)?.status).toBe('open');
    expect(store.listings.get(second.id)?.availableWh).toBe(10_000n);
    expect(store.contracted.get(slotKey(c.id, 'export', at(24))) ?? 0n).toBe(0n);
    expect(store.contracted.get(slotKey(b.id, 'import', at(24)))).toBe(3000n);
  });

  test("a proposal whose own share exceeds the proposer's limit is refused at once", async () => {
    const a = addMeter('alice', 'DE-North', 1000, 0);
    const b = addMeter('bob', 'DE-North', 0, 8);
    const l = await create('alice', a.id);
    const err = await refused(() => proposeOn(l, 'bob', b.id, '5'));
    expect(err.toJSON()).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { meterId: b.id, requestedKwh: '5.000' },
    });
    const s = await proposeOn(l, 'bob', b.id, '4');
    const up = await refused(() =>
      counter(store.uow(T0), 'alice', s.id, 1, { volumeWh: 4500n, priceE4: 1000n }),
    );
    expect(up.code).toBe('LIMIT_EXCEEDED');
  });

  test('a trade over three slots reserves its flat shares in each', async () => {
    const a = addMeter('alice', 'DE-North', 1000, 0);
    const b = addMeter('bob', 'DE-North', 0, 1000);
    const l = await create('alice', a.id, { deliveryEnd: at(27) });
    const s = await proposeOn(l, 'bob', b.id, '1');
    await accept(store.uow(T0), 'alice', s.id, 1);
    expect([24, 25, 26].map((h) => store.contracted.get(slotKey(b.id, 'import', at(h))))).toEqual([
      334n,
      333n,
      333n,
    ]);
  });

  test('a meter retired after the proposal: the accept is INVALID_STATE', async () => {
    const a = addMeter('alice', 'DE-North', 1000, 0);
    const b = addMeter('bob', 'DE-North', 0, 1000);
    const l = await create('alice', a.id);
    const s = await proposeOn(l, 'bob', b.id, '1');
    store.meters.set(b.id, { ...b, status: 'retired', retiredAt: T0 });
    const err = await refused(() => accept(store.uow(T0), 'alice', s.id, 1));
    expect(err.toJSON()).toMatchObject({ code: 'INVALID_STATE', details: { meterId: b.id } });
  });
});

describe('all or none', () => {
  test('a swap must take the whole available volume', async () => {
    const a = addMeter('alice', 'DE-North', 1000, 0);
    addMeter('bob', 'DE-North', 0, 1000);
    const l = await create('alice', a.id, { allOrNone: true });
    const part = await refused(() => proposeOn(l, 'bob', 'm-bob-DE-North', '3'));
    expect(part.toJSON()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'volumeKwh', message: 'must be the whole 10.000 kWh available' }] },
    });
    const whole = await proposeOn(l, 'bob', 'm-bob-DE-North', '10');
    await accept(store.uow(T0), 'alice', whole.id, 1);
    expect(store.listings.get(l.id)).toMatchObject({ status: 'filled', availableWh: 0n });
  });
});

describe('a market configuration changed under live listings and swaps', () => {
  const profile = (config: unknown) => {
    const parsed = parseMarketConfig(config);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.profile;
  };
  const linked = profile({
    zones: [{ id: 'A' }, { id: 'B' }],
    interZoneWheelingPerKwh: { 'A->B': '0.0200' },
  });
  const unlinked = profile({ zones: [{ id: 'A' }, { id: 'B' }] });
  const withoutB = profile({ zones: [{ id: 'A' }] });

  test('a wheeling link removed: the counter and the accept of a cross-zone swap are ZONE_MISMATCH', async () => {
    store = new MemoryStore({ ...RULES, market: linked });
    const a = addMeter('alice', 'A', 1000, 0);
    const b = addMeter('bob', 'B', 0, 1000);
    const l = await create('alice', a.id);
    const s = await proposeOn(l, 'bob', b.id, '1');
    const after = new MemoryStore({ ...RULES, market: unlinked });
    Object.assign(after, {
      listings: store.listings,
      swaps: store.swaps,
      meters: store.meters,
      offers: store.offers,
    });
    const c = await refused(() =>
      counter(after.uow(T0), 'alice', s.id, 1, { volumeWh: 2000n, priceE4: 1000n }),
    );
    expect(c.code).toBe('ZONE_MISMATCH');
    const x = await refused(() => accept(after.uow(T0), 'alice', s.id, 1));
    expect(x.code).toBe('ZONE_MISMATCH');
    expect(store.swaps.get(s.id)?.status).toBe('open');
  });

  test('a meter whose zone left the market cannot be named: VALIDATION_FAILED at meterId', async () => {
    store = new MemoryStore({ ...RULES, market: withoutB });
    const a = addMeter('alice', 'A', 1000, 1000);
    const b = addMeter('bob', 'B', 1000, 1000);
    const l = await create('alice', a.id);
    for (const run of [
      () => createListing(store.uow(T0), as('bob'), input(b.id)),
      () => proposeOn(l, 'bob', b.id, '1'),
    ]) {
      const err = await refused(run);
      expect(err.toJSON()).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [{ path: 'meterId' }] },
      });
    }
  });

  test('the limit of a listing posted on 60-minute slots stays a 60-minute limit', async () => {
    // posted in a zone of hourly slots; the zone then moves to 15 minutes (the hub refuses to
    // start so while the listing lives, test/meters/regrid-startup.test.ts; here the rule itself)
    const hourly = profile({ zones: [{ id: 'A' }] });
    const quarterly = profile({ zones: [{ id: 'A', slotMinutes: 15 }] });
    store = new MemoryStore({ ...RULES, market: hourly });
    // 8 kW: 4.000 kWh per hour, 1.000 per quarter hour
    const a = addMeter('alice', 'A', 8, 0);
    const b = addMeter('bob', 'A', 0, 1000);
    const l = await create('alice', a.id, { volumeKwh: 4000n });
    const s = await proposeOn(l, 'bob', b.id, '3');
    const after = new MemoryStore({ ...RULES, market: quarterly });
    Object.assign(after, {
      listings: store.listings,
      swaps: store.swaps,
      meters: store.meters,
      offers: store.offers,
      contracted: store.contracted,
    });
    await accept(after.uow(T0), 'alice', s.id, 1);
    expect(store.contracted.get(slotKey(a.id, 'export', at(24)))).toBe(3000n);
  });
});

describe('amending an all-or-none listing', () => {
  test('voids every open swap that is no longer for the whole available volume', async () => {
    const a = addMeter('alice', 'DE-North', 1000, 0);
    addMeter('bob', 'DE-North', 0, 1000);
    const l = await create('alice', a.id, { allOrNone: true });
    const s = await proposeOn(l, 'bob', 'm-bob-DE-North', '10');
    await amendListing(store.uow(T0), 'alice', l.id, { volumeWh: 12_000n });
    expect(store.swaps.get(s.id)).toMatchObject({ status: 'voided', closeReason: 'listing_amended' });
  });
});
