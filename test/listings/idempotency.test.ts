import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, emitAck } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let alice: TestTrader;
beforeAll(async () => {
  node = await startHub();
  alice = await trader(node.url, 'alice');
});
afterAll(async () => {
  alice?.close();
  await node?.stop();
});

const socketOf = (c: TestTrader) => (c as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
/** A listing input on `c`'s meter, for commands sent by hand (the raw socket fills in nothing). */
const inputOf = (c: TestTrader, overrides: Parameters<typeof listingInput>[0] = {}) =>
  listingInput({ meterId: c.meterId, ...overrides });
const listingsOf = async (userId: string) => {
  const [row] = await node.hub.db!.sequelize.query<{ n: string }>(
    'SELECT count(*) AS n FROM listings WHERE owner_id = $1',
    {
      bind: [userId],
      type: QueryTypes.SELECT,
    },
  );
  return Number(row!.n);
};

describe('idempotent commands', () => {
  test('the same requestId over the socket: the first answer again, one listing', async () => {
    const before = await listingsOf(alice.user.id);
    const payload = { requestId: randomUUID(), ...inputOf(alice) };
    const first = await emitAck(socketOf(alice), 'listing:create', payload);
    const second = await emitAck(socketOf(alice), 'listing:create', { ...payload });
    // the same payload written another way is the same command
    const third = await emitAck(socketOf(alice), 'listing:create', {
      ...payload,
      volumeKwh: 100.0,
      pricePerKwh: '0.1200',
    });
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await listingsOf(alice.user.id)).toBe(before + 1);
  });

  test('concurrent repeats of one requestId take effect once', async () => {
    const before = await listingsOf(alice.user.id);
    const payload = { requestId: randomUUID(), ...inputOf(alice) };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => emitAck(socketOf(alice), 'listing:create', payload)),
    );
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0].ok).toBe(true);
    expect(await listingsOf(alice.user.id)).toBe(before + 1);
  });

  test('the same requestId with another payload is CONFLICT and changes nothing', async () => {
    const requestId = randomUUID();
    await emitAck(socketOf(alice), 'listing:create', { requestId, ...inputOf(alice) });
    const before = await listingsOf(alice.user.id);
    const other = await emitAck(socketOf(alice), 'listing:create', {
      requestId,
      ...inputOf(alice, { volumeKwh: '7' }),
    });
    expect(other).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const listing = (
      await emitAck(socketOf(alice), 'listing:create', { requestId: randomUUID(), ...inputOf(alice) })
    ).data;
    const cancel = await emitAck(socketOf(alice), 'listing:cancel', { requestId, listingId: listing.id });
    expect(cancel).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await listingsOf(alice.user.id)).toBe(before + 1);
  });

  test('keys are per user: another trader may use the same requestId', async () => {
    const bob = await trader(node.url, 'bob');
    const requestId = randomUUID();
    const a = await emitAck(socketOf(alice), 'listing:create', { requestId, ...inputOf(alice) });
    const b = await emitAck(socketOf(bob), 'listing:create', { requestId, ...inputOf(bob) });
    expect(a.ok && b.ok).toBe(true);
    expect(b.data.id).not.toBe(a.data.id);
    bob.close();
  });

  test('over REST with Idempotency-Key: repeat gives the first answer, another body is 409', async () => {
    const key = randomUUID();
    const before = await listingsOf(alice.user.id);
    const post = (body: unknown) =>
      api(node.url, 'POST', '/api/v1/listings', {
        token: alice.session.accessToken,
        body,
        headers: { 'idempotency-key': key },
      });
    const first = await post(inputOf(alice, { description: 'first' }));
    const second = await post(inputOf(alice, { description: 'first' }));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    const conflict = await post(inputOf(alice, { description: 'other' }));
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('CONFLICT');
    expect(await listingsOf(alice.user.id)).toBe(before + 1);
    const badKey = await api(node.url, 'POST', '/api/v1/listings', {
      token: alice.session.accessToken,
      body: inputOf(alice),
      headers: { 'idempotency-key': 'not-a-uuid' },
    });
    expect(badKey.status).toBe(400);
  });

  test('a cancel repeated after it succeeded answers the same, not INVALID_STATE', async () => {
    const listing = await alice.createListing(listingInput());
    const requestId = randomUUID();
    const first = await emitAck(socketOf(alice), 'listing:cancel', { requestId, listingId: listing.id });
    const second = await emitAck(socketOf(alice), 'listing:cancel', { requestId, listingId: listing.id });
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
  });

  test('answers older than 24 hours are forgotten by the sweep', async () => {
    const requestId = randomUUID();
    await emitAck(socketOf(alice), 'listing:create', { requestId, ...inputOf(alice) });
    await node.hub.db!.sequelize.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`,
      {
        bind: [requestId],
      },
    );
    await node.hub.sweeper!.sweep({ forget: true });
    const rows = await node.hub.db!.sequelize.query('SELECT 1 FROM idempotency_keys WHERE key = $1', {
      bind: [requestId],
      type: QueryTypes.SELECT,
    });
    expect(rows).toHaveLength(0);
  });
});
