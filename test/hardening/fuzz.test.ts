import fc from 'fast-check';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Listing, Swap } from '../../src/client/index.js';
import { ERROR_STATUS } from '../../src/domain/errors.js';
import { api, emitAck } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

const CODES = Object.keys(ERROR_STATUS).filter((c) => c !== 'INTERNAL');
const RUNS = 120;

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
let listing: Listing;
let swap: Swap;
beforeAll(async () => {
  node = await startHub();
  alice = await trader(node.url, 'alice');
  bob = await trader(node.url, 'bob');
  listing = await alice.createListing(listingInput({ volumeKwh: '50' }));
  swap = await bob.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await node?.stop();
});

/** Values of every JSON type and the awkward ones: huge, negative, long unicode, prototype keys. */
const nasty = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    -1,
    0,
    1e308,
    -1e308,
    2 ** 53 + 1,
    1e-7,
    '1e3',
    '',
    ' ',
    '-0',
    '0.0001',
    '99999999999999999999',
    // text PostgreSQL cannot keep: NUL and unpaired surrogates
    'a\u0000b',
    'a\uD800b',
    '\uDC00',
  ),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
  fc.uuid(),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const protoKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');

/** A payload near a real one: its fields kept, dropped, replaced by nasty values, or extra keys added. */
const near = (base: () => Record<string, unknown>): fc.Arbitrary<unknown> =>
  Object.keys(base()).length === 0
    ? fc.object({ key: fc.oneof(protoKeys, fc.string()), values: [nasty] })
    : fc
        .tuple(
          fc.array(fc.tuple(fc.constantFrom(...Object.keys(base())), nasty), { maxLength: 4 }),
          fc.array(fc.tuple(fc.oneof(protoKeys, fc.string({ maxLength: 10 })), nasty), { maxLength: 2 }),
          fc.subarray(Object.keys(base())),
        )
        .map(([changes, extras, dropped]) => {
          const p: Record<string, unknown> = { ...base() };
          for (const k of dropped) delete p[k];
          for (const [k, v] of changes) p[k] = v;
          for (const [k, v] of extras)
            Object.defineProperty(p, k, { value: v, enumerable: true, writable: true, configurable: true });
          return p;
        });

const anything = fc.oneof(
  fc.jsonValue(),
  fc.object({ key: fc.oneof(protoKeys, fc.string()), values: [nasty] }),
);

// the valid payloads name the meters of the traders who would send them: alice lists, bob proposes
const COMMANDS: Record<string, () => Record<string, unknown>> = {
  'listing:create': () => ({ requestId: crypto.randomUUID(), ...listingInput({ meterId: alice.meterId }) }),
  'listing:cancel': () => ({ requestId: crypto.randomUUID(), listingId: listing.id }),
  'swap:propose': () => ({
    requestId: crypto.randomUUID(),
    listingId: listing.id,
    meterId: bob.meterId,
    volumeKwh: '1',
    pricePerKwh: '0.1',
  }),
  'swap:counter': () => ({
    requestId: crypto.randomUUID(),
    swapId: swap.id,
    round: 1,
    volumeKwh: '1',
    pricePerKwh: '0.2',
  }),
  'swap:accept': () => ({ requestId: crypto.randomUUID(), swapId: swap.id, round: 1 }),
  'swap:reject': () => ({ requestId: crypto.randomUUID(), swapId: swap.id, round: 1 }),
  'swap:withdraw': () => ({ requestId: crypto.randomUUID(), swapId: swap.id }),
  'feed:subscribe': () => ({ energyTypes: ['solar'], zones: ['NL'], side: 'supply' }),
  'feed:unsubscribe': () => ({}),
  'auth:refresh': () => ({ token: 'x' }),
};

const socketOf = (c: TestTrader) => (c as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;

function expectProtocolAnswer(ack: { ok: boolean; error?: { code: string; message: string } }) {
  if (ack.ok) return;
  expect(CODES).toContain(ack.error!.code);
  expect(ack.error!.message).not.toMatch(/\n\s+at |SELECT |INSERT |UPDATE /);
}

describe('fuzzing every socket command', () => {
  test.each(Object.keys(COMMANDS))(
    '%s answers a protocol code or success for any payload',
    async (command) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(anything, near(COMMANDS[command]!)),
          fc.boolean(),
          async (payload, asBob) => {
            const ack = await emitAck(socketOf(asBob ? bob : alice), command, payload);
            expectProtocolAnswer(ack);
          },
        ),
        { numRuns: RUNS },
      );
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    },
  );
});

describe('fuzzing every REST body', () => {
  const ROUTES: [string, string, () => Record<string, unknown>, boolean][] = [
    [
      'POST',
      '/api/v1/auth/register',
      () => ({ email: 'x@y.example', password: 'long enough password', displayName: 'X' }),
      false,
    ],
    ['POST', '/api/v1/auth/login', () => ({ email: 'x@y.example', password: 'long enough password' }), false],
    ['POST', '/api/v1/auth/refresh', () => ({ refreshToken: 'rt_x' }), false],
    ['POST', '/api/v1/auth/logout', () => ({ refreshToken: 'rt_x' }), true],
    ['POST', '/api/v1/listings', () => listingInput({ meterId: alice.meterId }), true],
    [
      'POST',
      '/api/v1/meters',
      () => ({ externalId: 'FUZZ-1', zone: 'DE-North', exportCapacityKw: '10', importCapacityKw: '10' }),
      true,
    ],
  ];
  test.each(ROUTES)('%s %s never answers 500', async (method, path, base, auth) => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anything, near(base)), async (body) => {
        const res = await api(node.url, method, path, {
          body,
          token: auth ? alice.session.accessToken : undefined,
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expectProtocolAnswer({ ok: false, error: res.body.error });
      }),
      { numRuns: RUNS },
    );
  });

  test('query strings of the list routes never answer 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/v1/listings', '/api/v1/swaps', '/api/v1/trades', '/api/v1/events'),
        fc.dictionary(
          fc.oneof(
            fc.constantFrom('limit', 'cursor', 'status', 'energyType', 'minPrice', 'after', 'role'),
            fc.string({ maxLength: 8 }),
          ),
          fc.oneof(
            fc.string({ maxLength: 40 }),
            // beyond a bigint, a NUL
            fc.constantFrom('9999999999999999999', '9223372036854775808', 'a\u0000'),
          ),
          { maxKeys: 3 },
        ),
        async (path, query) => {
          const res = await api(node.url, 'GET', `${path}?${new URLSearchParams(query)}`, {
            token: alice.session.accessToken,
          });
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzzing free text', () => {
  /** short strings mixing what PostgreSQL refuses or alters (NUL, surrogates alone or paired) with ordinary text */
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '<', '&'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  });

  test('description and note never answer INTERNAL', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, async (description, note) => {
        const created = await emitAck(socketOf(alice), 'listing:create', {
          requestId: crypto.randomUUID(),
          ...listingInput({ meterId: alice.meterId }),
          description,
        });
        expectProtocolAnswer(created);
        const proposed = await emitAck(socketOf(bob), 'swap:propose', {
          requestId: crypto.randomUUID(),
          listingId: created.ok ? created.data.id : listing.id,
          meterId: bob.meterId,
          volumeKwh: '1',
          pricePerKwh: '0.1',
          note,
        });
        expectProtocolAnswer(proposed);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('invariants after the fuzzing', () => {
  test('no listing oversold, and every committed change has its events', async () => {
    const q = <T extends object>(sql: string) =>
      node.hub.db!.sequelize.query<T>(sql, { type: QueryTypes.SELECT });
    const oversold = await q(`
      SELECT l.id FROM listings l
      LEFT JOIN swaps s ON s.listing_id = l.id AND s.status = 'accepted'
      GROUP BY l.id, l.volume_wh, l.available_wh
      HAVING l.available_wh < 0 OR l.volume_wh - l.available_wh <> coalesce(sum(s.volume_wh), 0)`);
    expect(oversold).toEqual([]);
    const listingsWithoutEvent = await q(
      `SELECT id FROM listings l WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'listing.created' AND e.data->>'id' = l.id::text)`,
    );
    expect(listingsWithoutEvent).toEqual([]);
    const swapsWithoutEvent = await q(
      `SELECT id FROM swaps s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'swap.proposed' AND e.data->>'id' = s.id::text)`,
    );
    expect(swapsWithoutEvent).toEqual([]);
    const closedWithoutEvent = await q(
      `SELECT id FROM listings l WHERE status <> 'active' AND NOT EXISTS
         (SELECT 1 FROM events e WHERE e.type = 'listing.closed' AND e.data->>'id' = l.id::text)`,
    );
    expect(closedWithoutEvent).toEqual([]);
  });
});
