import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClientError } from '../../src/client/index.js';
import { api, emitAck, marketView } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
beforeAll(async () => {
  node = await startHub();
  alice = await trader(node.url, 'alice');
  bob = await trader(node.url, 'bob');
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await node?.stop();
});

const count = async (sql: string) => {
  const [row] = await node.hub.db!.sequelize.query<{ n: string }>(sql, { type: QueryTypes.SELECT });
  return Number(row!.n);
};
const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as HubClientError;
  }
  throw new Error('expected a refusal');
};

describe('listing:create and POST /listings', () => {
  test('over the socket: the listing, its event to the owner, exact decimals', async () => {
    const events = recorder(alice);
    const listing = await alice.createListing(
      listingInput({ volumeKwh: 0.1, pricePerKwh: '0.1234', description: '<b>Sunny</b> & dry' }),
    );
    expect(listing).toMatchObject({
      ownerId: alice.user.id,
      side: 'supply',
      energyType: 'solar',
      volumeKwh: '0.100',
      availableKwh: '0.100',
      pricePerKwh: '0.1234',
      currency: 'EUR',
      zone: 'DE-North',
      description: 'Sunny & dry',
      status: 'active',
      version: 1,
      allOrNone: false,
      slots: [{ start: listing.deliveryStart, volumeKwh: '0.100' }],
      // the owner's answer names the meter; the market's event never does
      meterId: alice.meterId,
    });
    const created = await events.next('listing.created');
    expect(created.data).toEqual(marketView(listing));
    expect(created.data).not.toHaveProperty('meterId');
    expect(created.id).toMatch(/^\d+$/);
  });

  test('over REST: 201 and the same rules; decimals as strings or numbers stay exact', async () => {
    for (const [volume, expected] of [
      ['0.2', '0.200'],
      [0.3, '0.300'],
      ['123456.789', '123456.789'],
      [1e-3, '0.001'],
    ] as const) {
      const res = await api(node.url, 'POST', '/api/v1/listings', {
        token: bob.session.accessToken,
        body: listingInput({ volumeKwh: volume, pricePerKwh: 0.0001, meterId: bob.meterId }),
      });
      expect(res.status).toBe(201);
      expect(res.body.volumeKwh).toBe(expected);
      expect(res.body.pricePerKwh).toBe('0.0001');
      expect(res.body.meterId).toBe(bob.meterId);
    }
  });

  test.each([
    ['too many decimals of kWh', { volumeKwh: '1.0001' }, 'volumeKwh'],
    ['too many decimals of price', { pricePerKwh: 0.12345 }, 'pricePerKwh'],
    ['zero volume', { volumeKwh: 0 }, 'volumeKwh'],
    ['a negative price', { pricePerKwh: '-1' }, 'pricePerKwh'],
    ['an unknown energy type', { energyType: 'coal' }, 'energyType'],
    ['a bad zone', { zone: 'DE North!' }, 'zone'],
    ['an unknown field', { colour: 'green' }, ''],
    [
      'a delivery window backwards',
      { deliveryEnd: new Date(Date.now() + 3_600_000).toISOString() },
      'deliveryEnd',
    ],
    [
      'a delivery start in the past',
      { deliveryStart: new Date(Date.now() - 60_000).toISOString() },
      'deliveryStart',
    ],
    ['a wrong type', { volumeKwh: true }, 'volumeKwh'],
    ['a long description', { description: 'x'.repeat(501) }, 'description'],
  ])('refuses %s with VALIDATION_FAILED and changes nothing', async (_name, patch, path) => {
    const before = await count('SELECT count(*) AS n FROM listings');
    const e = await errorOf(alice.createListing(listingInput(patch as never)));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details?.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    const rest = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      body: listingInput({ meterId: alice.meterId, ...(patch as object) } as never),
    });
    expect(rest.status).toBe(400);
    expect(rest.body.error.code).toBe('VALIDATION_FAILED');
    expect(rest.body.error.details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path })]),
    );
    expect(await count('SELECT count(*) AS n FROM listings')).toBe(before);
  });

  test('a payload that is not an object', async () => {
    const socket = (alice as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
    for (const payload of ['a string', 42, null, [1, 2]]) {
      const ack = await emitAck(socket, 'listing:create', payload);
      expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    }
    const rest = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      body: [1],
    });
    expect(rest.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('listing:cancel and DELETE /listings/:id', () => {
  test('the owner cancels; twice is INVALID_STATE; another trader is FORBIDDEN; unknown is NOT_FOUND', async () => {
    const events = recorder(alice);
    const listing = await alice.createListing(listingInput());
    expect((await errorOf(bob.cancelListing(listing.id))).code).toBe('FORBIDDEN');
    const del = await api(node.url, 'DELETE', `/api/v1/listings/${listing.id}`, {
      token: bob.session.accessToken,
    });
    expect(del.status).toBe(403);

    const cancelled = await alice.cancelListing(listing.id);
    expect(cancelled).toMatchObject({ id: listing.id, status: 'cancelled', version: 2 });
    expect(
      (await events.next((e) => e.type === 'listing.closed' && (e.data as { id: string }).id === listing.id))
        .data,
    ).toEqual(marketView(cancelled));

    expect((await errorOf(alice.cancelListing(listing.id))).code).toBe('INVALID_STATE');
    const again = await api(node.url, 'DELETE', `/api/v1/listings/${listing.id}`, {
      token: alice.session.accessToken,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE');
    expect((await errorOf(alice.cancelListing(randomUUID()))).code).toBe('NOT_FOUND');
    expect(
      (await api(node.url, 'DELETE', '/api/v1/listings/not-a-uuid', { token: alice.session.accessToken }))
        .status,
    ).toBe(400);
  });

  test('over REST with the listing returned', async () => {
    const listing = await bob.createListing(listingInput());
    const res = await api(node.url, 'DELETE', `/api/v1/listings/${listing.id}`, {
      token: bob.session.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: listing.id, status: 'cancelled' });
    const got = await api(node.url, 'GET', `/api/v1/listings/${listing.id}`, {
      token: alice.session.accessToken,
    });
    expect(got.body.status).toBe('cancelled');
  });

  test('every committed change has its event', async () => {
    const listings = await count('SELECT count(*) AS n FROM listings');
    const created = await count(`SELECT count(*) AS n FROM events WHERE type = 'listing.created'`);
    const cancelled = await count(`SELECT count(*) AS n FROM listings WHERE status = 'cancelled'`);
    const closed = await count(`SELECT count(*) AS n FROM events WHERE type = 'listing.closed'`);
    expect(created).toBe(listings);
    expect(closed).toBe(cancelled);
  });
});
