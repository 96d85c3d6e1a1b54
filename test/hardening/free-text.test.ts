// Free text (description, note, display name) is stored as plain text by one rule
// (src/domain/text.ts): entities decoded and markup removed until nothing changes, control and
// bidirectional characters refused. Through REST and the socket, on a real hub.
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Listing, Swap } from '../../src/client/index.js';
import { api, connectSocket, emitAck, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
let aliceSocket: Socket;
let bobSocket: Socket;

beforeAll(async () => {
  node = await startHub({ env: { AUTH_REGISTER_PER_IP_PER_HOUR: '1000', AUTH_RATE_IP_PER_MINUTE: '1000' } });
  alice = await trader(node.url, 'alice', false);
  bob = await trader(node.url, 'bob', false);
  aliceSocket = await connectSocket(node.url, { token: alice.session.accessToken });
  bobSocket = await connectSocket(node.url, { token: bob.session.accessToken });
});
afterAll(async () => {
  aliceSocket?.close();
  bobSocket?.close();
  await node?.stop();
});

/** What an HTML parser reads as markup: `<` before a letter, `!`, `/` or `?`. */
const MARKUP = /<[A-Za-z!/?]/;

/** [name, input, what is stored] */
const CLEANED: [string, string, string][] = [
  ['an entity-encoded img tag', 'Offer &lt;img src=x onerror=alert(1)&gt; ends', 'Offer  ends'],
  ['a double-encoded img tag', 'Offer &amp;lt;img src=x onerror=alert(1)&amp;gt; ends', 'Offer  ends'],
  [
    'a triple-encoded script',
    'Offer &amp;amp;lt;script&amp;amp;gt;alert(1)&amp;amp;lt;/script&amp;amp;gt; ends',
    'Offer  ends',
  ],
  ['a script with its content', '<script>alert(1)</script>Sunny', 'Sunny'],
  ['an img with onerror', 'Sunny <img src=x onerror=alert(1)>day', 'Sunny day'],
  ['a tag split around a script', '<<script>script>alert(1)<</script>/script>Sunny', 'Sunny'],
  [
    'an encoded tag inside a raw-text element',
    '<title>&lt;img src=x onerror=alert(1)&gt;</title>Sunny',
    'Sunny',
  ],
  ['a lone < before a space', 'a < b', 'a < b'],
  ['comparisons written as entities', '5 &lt; 6 &amp; 7 &gt; 2', '5 < 6 & 7 > 2'],
  ['a heart and a bold name', '&lt;3 from <b>Ann</b>', '<3 from Ann'],
  ['tab and line feed', 'line one\n\tline two', 'line one\n\tline two'],
  ['CR LF', 'one\r\ntwo', 'one\ntwo'],
  ['padding', '  \n padded\t ', 'padded'],
];

/** [name, input, message] refused in description and note */
const REFUSED: [string, string, RegExp][] = [
  ['BEL', 'ring \u0007 ring', /control character U\+0007/],
  ['an ANSI escape', '\u001B[31mred', /control character U\+001B/],
  ['a lone CR', 'one\rtwo', /carriage return/],
  ['DEL', 'x\u007Fy', /control character U\+007F/],
  ['a C1 control (NEL)', 'x\u0085y', /control character U\+0085/],
  ['a line separator', 'x\u2028y', /separator U\+2028/],
  ['a right-to-left override', 'invoice\u202Egpj.exe', /bidirectional control U\+202E/],
  ['a first-strong isolate', 'x\u2068y', /bidirectional control U\+2068/],
  ['a control written as an entity', 'x&#7;y', /U\+0007, written as an entity/],
  ['an override written as an entity', 'x&#x202E;y', /U\+202E, written as an entity/],
  ['an override in a double-encoded entity', 'x&amp;#x202E;y', /U\+202E, written as an entity/],
  ['markup no removal can take out', 'x</>y', /must not contain markup/],
];

/** The one issue of a VALIDATION_FAILED answer (REST body or socket ack error). */
function expectIssue(error: any, path: string, message: RegExp) {
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error.details.issues).toEqual([{ path, message: expect.stringMatching(message) }]);
}

const restListing = (description: string) =>
  api(node.url, 'POST', '/api/v1/listings', {
    token: alice.session.accessToken,
    body: listingInput({ description, meterId: alice.meterId }),
  });

const socketListing = (description: string) =>
  emitAck(aliceSocket, 'listing:create', {
    requestId: crypto.randomUUID(),
    ...listingInput({ description, meterId: alice.meterId }),
  });

const getListing = async (id: string) =>
  (await api<Listing>(node.url, 'GET', `/api/v1/listings/${id}`, { token: bob.session.accessToken })).body;

const getSwap = async (id: string) =>
  (
    await api<Swap & { offers: { note: string }[] }>(node.url, 'GET', `/api/v1/swaps/${id}`, {
      token: bob.session.accessToken,
    })
  ).body;

const register = (displayName: string) =>
  api(node.url, 'POST', '/api/v1/auth/register', {
    body: { email: uniqueEmail('name'), password: PASSWORD, displayName },
  });

describe('description: stored as plain text, the same through REST and the socket', () => {
  test.each(CLEANED)('%s', async (_name, input, stored) => {
    const rest = await restListing(input);
    expect(rest.status).toBe(201);
    expect(rest.body.description).toBe(stored);
    expect((await getListing(rest.body.id)).description).toBe(stored);

    const ack = await socketListing(input);
    expect(ack.ok).toBe(true);
    expect(ack.data.description).toBe(stored);
    expect((await getListing(ack.data.id)).description).toBe(stored);
    expect(stored).not.toMatch(MARKUP);

    // saving the stored text again stores it unchanged
    const again = await restListing(stored);
    expect(again.status).toBe(201);
    expect(again.body.description).toBe(stored);
  });

  test.each(REFUSED)('%s is VALIDATION_FAILED and creates nothing', async (_name, input, message) => {
    const before = await api(node.url, 'GET', '/api/v1/listings?owner=me&limit=100', {
      token: alice.session.accessToken,
    });
    const rest = await restListing(input);
    expect(rest.status).toBe(400);
    expectIssue(rest.body.error, 'description', message);
    const ack = await socketListing(input);
    expect(ack.ok).toBe(false);
    expectIssue(ack.error, 'description', message);
    const after = await api(node.url, 'GET', '/api/v1/listings?owner=me&limit=100', {
      token: alice.session.accessToken,
    });
    expect(after.body.items.length).toBe(before.body.items.length);
  });
});

describe('note: stored as plain text on propose and counter', () => {
  test.each(CLEANED)('%s', async (_name, input, stored) => {
    const listing = (await restListing('')).body as Listing;
    const proposed = await emitAck(bobSocket, 'swap:propose', {
      requestId: crypto.randomUUID(),
      listingId: listing.id,
      meterId: bob.meterId,
      volumeKwh: '1',
      pricePerKwh: '0.1',
      note: input,
    });
    expect(proposed.ok).toBe(true);
    // the stored note sent back as the counter's note is stored unchanged
    const countered = await emitAck(aliceSocket, 'swap:counter', {
      requestId: crypto.randomUUID(),
      swapId: proposed.data.id,
      round: 1,
      volumeKwh: '1',
      pricePerKwh: '0.2',
      note: stored,
    });
    expect(countered.ok).toBe(true);
    const swap = await getSwap(proposed.data.id);
    expect(swap.offers.map((o) => o.note)).toEqual([stored, stored]);
  });

  test.each(REFUSED)('%s is VALIDATION_FAILED on propose and counter', async (_name, input, message) => {
    const listing = (await restListing('')).body as Listing;
    const propose = await emitAck(bobSocket, 'swap:propose', {
      requestId: crypto.randomUUID(),
      listingId: listing.id,
      meterId: bob.meterId,
      volumeKwh: '1',
      pricePerKwh: '0.1',
      note: input,
    });
    expect(propose.ok).toBe(false);
    expectIssue(propose.error, 'note', message);
    const proposed = await emitAck(bobSocket, 'swap:propose', {
      requestId: crypto.randomUUID(),
      listingId: listing.id,
      meterId: bob.meterId,
      volumeKwh: '1',
      pricePerKwh: '0.1',
    });
    const counter = await emitAck(aliceSocket, 'swap:counter', {
      requestId: crypto.randomUUID(),
      swapId: proposed.data.id,
      round: 1,
      volumeKwh: '1',
      pricePerKwh: '0.2',
      note: input,
    });
    expect(counter.ok).toBe(false);
    expectIssue(counter.error, 'note', message);
    expect((await getSwap(proposed.data.id)).offers).toHaveLength(1);
  });
});

describe('display name: the same rule, on one line', () => {
  test.each<[string, string, string]>([
    ['a bold name', '<b>Eve</b>', 'Eve'],
    ['an encoded img after the name', 'Eve &lt;img src=x onerror=alert(1)&gt;', 'Eve'],
    ['a double-encoded img after the name', 'Eve &amp;lt;img src=x onerror=alert(1)&amp;gt;', 'Eve'],
    ['a script', '<script>alert(1)</script>Eve', 'Eve'],
    ['an ampersand', 'Tom &amp; Jerry', 'Tom & Jerry'],
    ['a lone <', 'Eve < Bob', 'Eve < Bob'],
    ['padding', '  Eve  ', 'Eve'],
  ])('%s is stored as plain text, and again unchanged', async (_name, input, stored) => {
    const res = await register(input);
    expect(res.status).toBe(201);
    expect(res.body.user.displayName).toBe(stored);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.body.displayName).toBe(stored);
    const again = await register(stored);
    expect(again.status).toBe(201);
    expect(again.body.user.displayName).toBe(stored);
  });

  test.each<[string, string, RegExp]>([
    ['a right-to-left override', 'Eve\u202Egpj.exe', /bidirectional control U\+202E/],
    ['a left-to-right embedding', '\u202AEve', /bidirectional control U\+202A/],
    ['a pop directional isolate', 'Eve\u2069', /bidirectional control U\+2069/],
    ['an override written as an entity', 'Eve&#x202E;', /U\+202E, written as an entity/],
    ['a line feed', 'Eve\nAdmin', /one line/],
    ['a tab', 'Eve\tAdmin', /one line/],
    ['a CR LF', 'Eve\r\nAdmin', /one line/],
    ['a line feed written as an entity', 'Eve&#10;Admin', /one line.*written as an entity/],
    ['a C0 control', 'Eve\u0008', /control character U\+0008/],
    ['a C1 control', 'Eve\u009B', /control character U\+009B/],
    ['a paragraph separator', 'Eve\u2029', /separator U\+2029/],
    ['nothing but markup', '<img src=x onerror=alert(1)>', /must not be empty/],
    ['over 64 characters once clean', `<b>${'e'.repeat(65)}</b>`, /at most 64/],
  ])('%s is VALIDATION_FAILED', async (_name, input, message) => {
    const res = await register(input);
    expect(res.status).toBe(400);
    expectIssue(res.body.error, 'displayName', message);
  });
});
