// PROTOCOL v1.1: a counter whose volume and price equal the terms on the table is VALIDATION_FAILED,
// changes nothing and sends no event. Over real sockets against a real hub and database.
import { QueryTypes } from 'sequelize';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EventEnvelope, Swap } from '../../src/client/index.js';
import { api, connectSocket, emitAck, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { BIG_METER, listingInput, recorder, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let sellerSocket: Socket;
let sellerMeterId: string;
let buyer: TestTrader;
const sellerEvents: EventEnvelope[] = [];
beforeAll(async () => {
  node = await startHub();
  const seller = await newTrader(node.url, 'seller');
  const meter = await api(node.url, 'POST', '/api/v1/meters', {
    token: seller.accessToken,
    body: { externalId: `SELLER-${crypto.randomUUID()}`, ...BIG_METER },
  });
  expect(meter.status).toBe(201);
  sellerMeterId = meter.body.id;
  sellerSocket = await connectSocket(node.url, { token: seller.accessToken });
  sellerSocket.on('event', (e: EventEnvelope) => sellerEvents.push(e));
  buyer = await trader(node.url, 'buyer');
});
afterAll(async () => {
  sellerSocket?.close();
  buyer?.close();
  await node?.stop();
});

const rows = (sql: string, bind: unknown[] = []) =>
  node.hub.db!.sequelize.query<Record<string, string>>(sql, { bind, type: QueryTypes.SELECT });
const counter = (swapId: string, round: number, volumeKwh: unknown, pricePerKwh: unknown) =>
  emitAck(sellerSocket, 'swap:counter', {
    requestId: crypto.randomUUID(),
    swapId,
    round,
    volumeKwh,
    pricePerKwh,
  });

test('a counter with the terms on the table, however written, is refused and changes nothing', async () => {
  const created = await emitAck(sellerSocket, 'listing:create', {
    requestId: crypto.randomUUID(),
    ...listingInput({ volumeKwh: '10', meterId: sellerMeterId }),
  });
  expect(created.ok).toBe(true);
  const buyerLog = recorder(buyer);
  const swap = await buyer.propose({ listingId: created.data.id, volumeKwh: '4', pricePerKwh: '0.12' });
  await buyerLog.next('swap.proposed');
  const state = () =>
    rows(
      'SELECT status, round, next_actor_id, volume_wh::text, price_e4::text, expires_at FROM swaps WHERE id = $1',
      [swap.id],
    );
  const before = { swap: await state(), events: await rows('SELECT max(id)::text AS id FROM events') };

  // the same terms, as the proposal spelled them and spelled otherwise (same kWh, same price)
  for (const [volume, price] of [
    ['4', '0.12'],
    [4, 0.12],
    ['4.000', '0.1200'],
  ] as const) {
    const ack = await counter(swap.id, 1, volume, price);
    expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(ack.error.details.issues).toEqual([
      { path: 'pricePerKwh', message: 'A counter must change the price or the volume' },
      { path: 'volumeKwh', message: 'A counter must change the price or the volume' },
    ]);
  }
  expect(await state()).toEqual(before.swap);
  expect(await rows('SELECT max(id)::text AS id FROM events')).toEqual(before.events);
  expect(await rows('SELECT count(*)::int AS n FROM offers WHERE swap_id = $1', [swap.id])).toEqual([
    { n: 1 },
  ]);

  // a real counter afterwards is round 2, and it is the first event either party gets after the proposal
  const sellerCountered = new Promise<EventEnvelope>((resolve) =>
    sellerSocket.on('event', (e: EventEnvelope) => e.type === 'swap.countered' && resolve(e)),
  );
  const moved = await counter(swap.id, 1, '4', '0.13');
  expect(moved).toMatchObject({ ok: true, data: { round: 2, pricePerKwh: '0.1300' } });
  const next = await buyerLog.next((e) => (e.data as Swap).id === swap.id);
  expect(next).toMatchObject({ type: 'swap.countered', data: { round: 2 } });
  expect((await sellerCountered).data).toMatchObject({ id: swap.id, round: 2 });
  expect(
    sellerEvents.filter((e) => (e.data as Swap).id === swap.id).map((e) => [e.type, (e.data as Swap).round]),
  ).toEqual([
    ['swap.proposed', 1],
    ['swap.countered', 2],
  ]);
});
