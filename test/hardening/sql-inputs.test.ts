// Inputs that PostgreSQL would refuse or alter (NUL, unpaired surrogates, ids beyond bigint) and
// JSON numbers that JSON.parse would round: each is VALIDATION_FAILED and changes nothing.
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Listing, Swap } from '../../src/client/index.js';
import { api, connectSocket, emitAck, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
/** raw sockets of alice and bob, for commands written by hand */
let aliceSocket: Socket;
let bobSocket: Socket;
let listing: Listing;
let swap: Swap;

/** A listing input on alice's meter: every command here is written by hand, so it names the meter. */
const aliceInput = (overrides: Parameters<typeof listingInput>[0] = {}) =>
  listingInput({ meterId: alice.meterId, ...overrides });

beforeAll(async () => {
  node = await startHub();
  alice = await trader(node.url, 'alice', false);
  bob = await trader(node.url, 'bob', false);
  aliceSocket = await connectSocket(node.url, { token: alice.session.accessToken });
  bobSocket = await connectSocket(node.url, { token: bob.session.accessToken });
  listing = await alice.rest<Listing>('POST', '/api/v1/listings', aliceInput({ volumeKwh: '50' }));
  const proposed = await emitAck(bobSocket, 'swap:propose', {
    requestId: crypto.randomUUID(),
    listingId: listing.id,
    meterId: bob.meterId,
    volumeKwh: '1',
    pricePerKwh: '0.1',
  });
  swap = proposed.data;
});
afterAll(async () => {
  aliceSocket?.close();
  bobSocket?.close();
  await node?.stop();
});

const NUL = 'solar \u0000 panel';
const LONE_HIGH = 'solar \uD800 panel';
const LONE_LOW = '\uDC00 panel';
const UNSTORABLE: [string, string, RegExp][] = [
  ['NUL', NUL, /NUL/],
  ['a lone high surrogate', LONE_HIGH, /surrogate/],
  ['a lone low surrogate', LONE_LOW, /surrogate/],
];

/** The one issue of a VALIDATION_FAILED answer (REST body or socket ack error). */
function expectIssue(error: any, path: string, message: RegExp) {
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error.details.issues).toEqual([{ path, message: expect.stringMatching(message) }]);
}

let ackId = 900_000;
/**
 * Sends a command whose JSON is written by hand, below socket.io-client's encoder (which would
 * print a JS number, already rounded): the Socket.IO packet `2<ackId>["<event>",<json>]` as an
 * engine.io message (`42...` on the wire), and resolves with the ack `3<ackId>[...]` the hub sends.
 */
function rawCommand(socket: Socket, event: string, json: string): Promise<any> {
  const id = ackId++;
  const engine = socket.io.engine;
  const prefix = `3${id}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 10_000);
    const onMessage = (data: unknown) => {
      if (typeof data !== 'string' || !data.startsWith(prefix) || data[prefix.length] !== '[') return;
      clearTimeout(timer);
      engine.off('message', onMessage);
      resolve(JSON.parse(data.slice(prefix.length))[0]);
    };
    engine.on('message', onMessage);
    engine.send(`2${id}${JSON.stringify([event]).slice(0, -1)},${json}]`);
  });
}

/** A listing as JSON text, volume and price written as given; with a requestId for the socket. */
const listingJson = (volume: string, price: string, socket = false) => {
  const { volumeKwh: _v, pricePerKwh: _p, ...rest } = aliceInput();
  const id = socket ? `"requestId":"${crypto.randomUUID()}",` : '';
  return `{${id}"volumeKwh":${volume},"pricePerKwh":${price},${JSON.stringify(rest).slice(1, -1)}}`;
};

const aliceListings = async () =>
  (
    await api(node.url, 'GET', '/api/v1/listings?owner=me&status=active,cancelled,filled,expired&limit=100', {
      token: alice.session.accessToken,
    })
  ).body.items as Listing[];

const swapNow = async () =>
  (await api(node.url, 'GET', `/api/v1/swaps/${swap.id}`, { token: bob.session.accessToken }))
    .body as Swap & {
    offers: unknown[];
  };

describe('text PostgreSQL cannot keep (NUL, unpaired surrogates) is VALIDATION_FAILED and changes nothing', () => {
  test.each(UNSTORABLE)(
    'a listing description with %s, through REST and the socket',
    async (_name, text, message) => {
      const before = (await aliceListings()).length;
      const rest = await api(node.url, 'POST', '/api/v1/listings', {
        token: alice.session.accessToken,
        body: aliceInput({ description: text }),
      });
      expect(rest.status).toBe(400);
      expectIssue(rest.body.error, 'description', message);
      const ack = await emitAck(aliceSocket, 'listing:create', {
        requestId: crypto.randomUUID(),
        ...aliceInput({ description: text }),
      });
      expect(ack.ok).toBe(false);
      expectIssue(ack.error, 'description', message);
      expect((await aliceListings()).length).toBe(before);
    },
  );

  test.each(UNSTORABLE)('a swap note with %s, on propose and counter', async (_name, text, message) => {
    const propose = await emitAck(aliceSocket, 'swap:propose', {
      requestId: crypto.randomUUID(),
      listingId: listing.id, // alice's own listing: the note is refused before any rule is looked at
      meterId: alice.meterId,
      volumeKwh: '1',
      pricePerKwh: '0.1',
      note: text,
    });
    expect(propose.ok).toBe(false);
    expectIssue(propose.error, 'note', message);
    const counter = await emitAck(aliceSocket, 'swap:counter', {
      requestId: crypto.randomUUID(),
      swapId: swap.id,
      round: 1,
      volumeKwh: '1',
      pricePerKwh: '0.2',
      note: text,
    });
    expect(counter.ok).toBe(false);
    expectIssue(counter.error, 'note', message);
    const now = await swapNow();
    expect(now).toMatchObject({ round: 1, status: 'open', pricePerKwh: '0.1000' });
    expect(now.offers).toHaveLength(1);
  });

  test.each(UNSTORABLE)('a display name and a new password with %s', async (_name, text, message) => {
    const email = uniqueEmail('nul');
    const name = await api(node.url, 'POST', '/api/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: text },
    });
    expect(name.status).toBe(400);
    expectIssue(name.body.error, 'displayName', message);
    const password = await api(node.url, 'POST', '/api/v1/auth/register', {
      body: { email, password: `${PASSWORD} ${text}`, displayName: 'Nul' },
    });
    expect(password.status).toBe(400);
    expectIssue(password.body.error, 'password', message);
    const login = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
    expect(login.status).toBe(401);
  });

  test('well-formed text around them is kept as sent', async () => {
    const text = 'wind \uD83C\uDF2C\uFE0F at night';
    const created = await alice.rest<Listing>('POST', '/api/v1/listings', aliceInput({ description: text }));
    expect(created.description).toBe(text);
    const stray = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      body: aliceInput({ description: `${text}\uDE00` }),
    });
    expect(stray.status).toBe(400);
  });
});

describe('ids and times beyond what the hub can hold are VALIDATION_FAILED', () => {
  test.each(['9999999999999999999', '9223372036854775808'])('GET /api/v1/events?after=%s', async (after) => {
    const res = await api(node.url, 'GET', `/api/v1/events?after=${after}`, {
      token: alice.session.accessToken,
    });
    expect(res.status).toBe(400);
    expectIssue(res.body.error, 'after', /at most 9223372036854775807/);
    const largest = await api(node.url, 'GET', '/api/v1/events?after=9223372036854775807', {
      token: alice.session.accessToken,
    });
    expect(largest.status).toBe(200);
    expect(largest.body).toEqual({ items: [], hasMore: false });
  });

  test('a delivery time past the year 9999 once its offset is applied, through REST and the socket', async () => {
    const before = (await aliceListings()).length;
    const late = aliceInput({ deliveryEnd: '9999-12-31T23:59:59-23:59' });
    const rest = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      body: late,
    });
    expect(rest.status).toBe(400);
    expectIssue(rest.body.error, 'deliveryEnd', /years 0001 to 9999/);
    const ack = await emitAck(aliceSocket, 'listing:create', { requestId: crypto.randomUUID(), ...late });
    expect(ack.ok).toBe(false);
    expectIssue(ack.error, 'deliveryEnd', /years 0001 to 9999/);
    expect((await aliceListings()).length).toBe(before);
  });
});

describe('times PostgreSQL has no year for never reach it', () => {
  const cursor = (at: string) =>
    Buffer.from(JSON.stringify([at, '00000000-0000-4000-8000-000000000000'])).toString('base64url');
  test.each([
    ['/listings?deliveryFrom=0000-01-01T00:00:00Z', 'deliveryFrom'],
    ['/listings?deliveryTo=0000-06-01T00:00:00Z', 'deliveryTo'],
    [`/listings?cursor=${cursor('0000-01-01T00:00:00Z')}`, 'cursor'],
    [`/swaps?cursor=${cursor('0000-01-01T00:00:00Z')}`, 'cursor'],
    [`/trades?cursor=${cursor('0000-01-01T00:00:00Z')}`, 'cursor'],
  ])('GET %s is VALIDATION_FAILED at %s, not a 500', async (path, field) => {
    const res = await api(node.url, 'GET', `/api/v1${path}`, { token: alice.session.accessToken });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(field);
  });
});

describe('JSON numbers are read from their text: more than 15 significant digits is VALIDATION_FAILED', () => {
  const DIGITS = /at most 15 significant digits; send it as a decimal string/;

  test.each([
    ['volumeKwh', '2.9999999999999999', '0.12'],
    ['volumeKwh', '12345678901234567', '0.12'],
    ['pricePerKwh', '10', '2.9999999999999999'],
    ['pricePerKwh', '10', '12345678901234567'],
  ])('REST POST /api/v1/listings with %s %s/%s written as a JSON number', async (field, volume, price) => {
    const before = (await aliceListings()).length;
    const res = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      headers: { 'content-type': 'application/json' },
      raw: listingJson(volume, price),
    });
    expect(res.status).toBe(400);
    expectIssue(res.body.error, field, DIGITS);
    expect((await aliceListings()).length).toBe(before);
  });

  test('REST: only the long number is refused; 12.5 and decimal strings read as before; bad JSON is still `body`', async () => {
    const mixed = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      headers: { 'content-type': 'application/json' },
      raw: listingJson('12.5', '0.1200000000000001'),
    });
    expect(mixed.status).toBe(400);
    expectIssue(mixed.body.error, 'pricePerKwh', DIGITS);
    const ok = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      headers: { 'content-type': 'application/json' },
      raw: listingJson('12.5', '0.12'),
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ volumeKwh: '12.500', pricePerKwh: '0.1200' });
    const str = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      headers: { 'content-type': 'application/json' },
      raw: listingJson('"2.9999999999999999"', '0.12'),
    });
    expect(str.status).toBe(400);
    expectIssue(str.body.error, 'volumeKwh', /at most 3 decimals/);
    const malformed = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      headers: { 'content-type': 'application/json' },
      raw: listingJson('12345678901234567', '0.12').slice(0, -1),
    });
    expect(malformed.status).toBe(400);
    expectIssue(malformed.body.error, 'body', /not valid JSON/);
  });

  test.each([
    ['volumeKwh', '2.9999999999999999', '0.12'],
    ['volumeKwh', '12345678901234567', '0.12'],
    ['pricePerKwh', '10', '2.9999999999999999'],
    ['pricePerKwh', '10', '12345678901234567'],
  ])('socket listing:create with %s %s/%s written as a JSON number', async (field, volume, price) => {
    const before = (await aliceListings()).length;
    const ack = await rawCommand(aliceSocket, 'listing:create', listingJson(volume, price, true));
    expect(ack.ok).toBe(false);
    expectIssue(ack.error, field, DIGITS);
    expect((await aliceListings()).length).toBe(before);
  });

  test('socket swap:counter and swap:accept: terms and round beyond 15 digits change nothing', async () => {
    const counter = await rawCommand(
      aliceSocket,
      'swap:counter',
      `{"requestId":"${crypto.randomUUID()}","swapId":"${swap.id}","round":1,"volumeKwh":0.99999999999999999,"pricePerKwh":0.2}`,
    );
    expect(counter.ok).toBe(false);
    expectIssue(counter.error, 'volumeKwh', DIGITS);
    // JSON.parse would make this round 1, the current one, and accept terms nobody confirmed
    const accept = await rawCommand(
      aliceSocket,
      'swap:accept',
      `{"requestId":"${crypto.randomUUID()}","swapId":"${swap.id}","round":1.0000000000000001}`,
    );
    expect(accept.ok).toBe(false);
    expect(accept.error.code).toBe('VALIDATION_FAILED');
    expect(accept.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['round']);
    const now = await swapNow();
    expect(now).toMatchObject({ status: 'open', round: 1, volumeKwh: '1.000', pricePerKwh: '0.1000' });
  });

  test('socket: only the long number is refused, 12.5 is accepted; a malformed packet closes only its connection', async () => {
    const mixed = await rawCommand(
      aliceSocket,
      'listing:create',
      listingJson('12.5', '0.1200000000000001', true),
    );
    expect(mixed.ok).toBe(false);
    expectIssue(mixed.error, 'pricePerKwh', DIGITS);
    const ack = await rawCommand(aliceSocket, 'listing:create', listingJson('12.5', '0.12', true));
    expect(ack).toMatchObject({ ok: true, data: { volumeKwh: '12.500', pricePerKwh: '0.1200' } });
    const victim = await connectSocket(node.url, { token: alice.session.accessToken });
    const closed = new Promise<string>((resolve) => victim.once('disconnect', resolve));
    victim.io.engine.send('2["listing:create",{"volumeKwh":12345678901234567');
    expect(await closed).toBe('transport close');
    victim.close();
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    const still = await emitAck(aliceSocket, 'feed:unsubscribe', {});
    expect(still).toEqual({ ok: true, data: {} });
  });
});
