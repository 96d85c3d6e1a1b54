import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClient, Listing } from '../../src/client/index.js';
import { api, marketView } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { BIG_METER, listingInput, registerMeter, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
/** each trader's meter in each zone the tests post in: one zone per test keeps their listings apart */
const meters = new Map<string, string>();
const ZONES = ['DE-South', 'NL', 'DE-North'];
beforeAll(async () => {
  node = await startHub();
  alice = await trader(node.url, 'alice', false);
  bob = await trader(node.url, 'bob', false);
  for (const c of [alice, bob]) {
    for (const zone of ZONES)
      meters.set(`${c.user.id} ${zone}`, (await registerMeter(c, { ...BIG_METER, zone })).id);
  }
});
afterAll(() => node?.stop());

/** POST /listings on `c`'s meter in the listing's zone. */
const post = (c: TestTrader, patch: Record<string, unknown> & { zone: string }) =>
  api<Listing>(node.url, 'POST', '/api/v1/listings', {
    token: c.session.accessToken,
    body: listingInput({ meterId: meters.get(`${c.user.id} ${patch.zone}`), ...patch } as never),
  });
const market = (c: HubClient, query: string) =>
  api<{ items: Listing[]; nextCursor: string | null }>(node.url, 'GET', `/api/v1/listings?${query}`, {
    token: c.session.accessToken,
  });

describe('GET /api/v1/listings', () => {
  test('pages newest first with no repeat and no gap while new listings arrive', async () => {
    const zone = 'DE-South';
    const before: string[] = [];
    for (let i = 0; i < 25; i++) before.push((await post(alice, { zone })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let arrivals = 0;
    do {
      const res = await market(bob, `zone=${zone}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((l) => l.id));
      cursor = res.body.nextCursor;
      // others keep posting while we page
      await Promise.all([post(alice, { zone }), post(bob, { zone })]);
      arrivals += 2;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...before].reverse());
    const all = await market(bob, `zone=${zone}&limit=100`);
    expect(all.body.items).toHaveLength(25 + arrivals);
  });

  test('several statuses: one order over them, pages with no repeat and no gap', async () => {
    const zone = 'DE-North';
    // 12 listings, every third cancelled: the two statuses interleave in time
    const made: { id: string; status: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const id = (await post(alice, { zone })).body.id;
      if (i % 3 === 0)
        await api(node.url, 'DELETE', `/api/v1/listings/${id}`, { token: alice.session.accessToken });
      made.push({ id, status: i % 3 === 0 ? 'cancelled' : 'active' });
    }
    const walk = async (query: string) => {
      const seen: { id: string; status: string }[] = [];
      let cursor: string | null = null;
      do {
        const res = await market(bob, `zone=${zone}&${query}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((l) => ({ id: l.id, status: l.status })));
        cursor = res.body.nextCursor;
      } while (cursor);
      return seen;
    };
    expect(await walk('status=cancelled,active')).toEqual([...made].reverse());
    expect(await walk('status=active,cancelled,cancelled')).toEqual([...made].reverse());
    expect(await walk('status=cancelled,expired')).toEqual(
      made.filter((l) => l.status === 'cancelled').reverse(),
    );
  });

  test('several statuses while listings change status: each listing once in every answer', async () => {
    const zone = 'DE-North';
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await post(alice, { zone, energyType: 'hydro' })).body.id);
    let cancelling = true;
    const cancels = (async () => {
      for (const id of ids)
        await api(node.url, 'DELETE', `/api/v1/listings/${id}`, { token: alice.session.accessToken });
      cancelling = false;
    })();
    const reader = async () => {
      for (let reads = 0; cancelling || reads === 0; reads++) {
        const res = await market(bob, `zone=${zone}&energyType=hydro&status=active,cancelled&limit=100`);
        expect(res.status).toBe(200);
        // a listing cancelled between the read of the active ones and of the cancelled ones would be
        // in both, or in neither had they been read the other way round
        expect(res.body.items.map((l) => l.id).sort()).toEqual([...ids].sort());
      }
    };
    await Promise.all([reader(), reader(), reader()]);
    await cancels;
  });

  test('filters: side, energy types, zones, prices, volume, delivery overlap, owner, status', async () => {
    const zone = 'NL';
    const day = Date.parse(listingInput().deliveryStart);
    const at = (h: number) => new Date(day + h * 3_600_000).toISOString();
    const made = {
      a: (
        await post(alice, { zone, energyType: 'solar', side: 'supply', pricePerKwh: '0.10', volumeKwh: '5' })
      ).body,
      b: (
        await post(alice, { zone, energyType: 'wind', side: 'demand', pricePerKwh: '0.20', volumeKwh: '50' })
      ).body,
      c: (
        await post(bob, {
          zone,
          energyType: 'hydro',
          side: 'supply',
          pricePerKwh: '0.30',
          volumeKwh: '500',
          deliveryStart: at(5),
          deliveryEnd: at(6),
        })
      ).body,
    };
    const ids = async (q: string) =>
      (await market(alice, `zone=${zone}&${q}`)).body.items.map((l) => l.id).sort();
    const expectIds = (...ls: Listing[]) => ls.map((l) => l.id).sort();
    expect(await ids('side=supply')).toEqual(expectIds(made.a, made.c));
    expect(await ids('energyType=solar,wind')).toEqual(expectIds(made.a, made.b));
    expect(await ids('minPrice=0.2')).toEqual(expectIds(made.b, made.c));
    expect(await ids('maxPrice=0.2&minPrice=0.15')).toEqual(expectIds(made.b));
    expect(await ids('minVolumeKwh=50')).toEqual(expectIds(made.b, made.c));
    expect(await ids(`deliveryFrom=${at(4)}&deliveryTo=${at(7)}`)).toEqual(expectIds(made.c));
    expect(await ids(`deliveryTo=${at(1)}`)).toEqual(expectIds(made.a, made.b));
    expect(await ids('owner=me')).toEqual(expectIds(made.a, made.b));
    await api(node.url, 'DELETE', `/api/v1/listings/${made.a.id}`, { token: alice.session.accessToken });
    expect(await ids('')).toEqual(expectIds(made.b, made.c));
    expect(await ids('status=cancelled')).toEqual(expectIds(made.a));
    expect(await ids('status=active,cancelled')).toEqual(expectIds(made.a, made.b, made.c));
    const one = await api(node.url, 'GET', `/api/v1/listings/${made.b.id}`, {
      token: bob.session.accessToken,
    });
    // another trader's read shows no meterId; the owner's shows the meter
    expect(one.body).toEqual(marketView(made.b));
    const own = await api(node.url, 'GET', `/api/v1/listings/${made.b.id}`, {
      token: alice.session.accessToken,
    });
    expect(own.body).toEqual(made.b);
    expect(made.b.meterId).toBe(meters.get(`${alice.user.id} NL`));
  });

  test.each([
    ['limit=0'],
    ['limit=101'],
    ['limit=abc'],
    ['cursor=garbage'],
    [`cursor=${Buffer.from('["x","y"]').toString('base64url')}`],
    ['energyType=coal'],
    ['side=both'],
    ['minPrice=0.12345'],
    ['deliveryFrom=yesterday'],
    ['owner=someone'],
    ['unknown=1'],
    ['status=open'],
  ])('bad query %s is 400 VALIDATION_FAILED', async (q) => {
    const res = await market(alice, q);
    expect(res.status).toBe(400);
    expect((res.body as any).error.code).toBe('VALIDATION_FAILED');
  });

  test('unknown and malformed ids', async () => {
    const missing = await api(node.url, 'GET', '/api/v1/listings/00000000-0000-4000-8000-000000000000', {
      token: alice.session.accessToken,
    });
    expect(missing.status).toBe(404);
    expect(
      (await api(node.url, 'GET', '/api/v1/listings/42', { token: alice.session.accessToken })).status,
    ).toBe(400);
    expect((await api(node.url, 'GET', '/api/v1/listings')).status).toBe(401);
  });
});
