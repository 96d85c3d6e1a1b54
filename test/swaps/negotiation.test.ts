import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClientError, Listing, Swap } from '../../src/client/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let seller: TestTrader;
let buyer: TestTrader;
let stranger: TestTrader;
beforeAll(async () => {
  node = await startHub();
  [seller, buyer, stranger] = await Promise.all([
    trader(node.url, 'seller'),
    trader(node.url, 'buyer'),
    trader(node.url, 'stranger'),
  ]);
});
afterAll(async () => {
  for (const c of [seller, buyer, stranger]) c?.close();
  await node?.stop();
});

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return (e as HubClientError).code;
  }
  throw new Error('expected a refusal');
};
const rows = (sql: string, bind: unknown[] = []) =>
  node.hub.db!.sequelize.query<Record<string, string>>(sql, { bind, type: QueryTypes.SELECT });

describe('a whole negotiation', () => {
  test('propose, counter, accept: both parties see every step; the listing shrinks by the volume', async () => {
    const sellerLog = recorder(seller);
    const buyerLog = recorder(buyer);
    const listing = await seller.createListing(listingInput({ volumeKwh: '100', pricePerKwh: '0.15' }));

    const proposed = await buyer.propose({
      listingId: listing.id,
      volumeKwh: '40',
      pricePerKwh: '0.12',
      note: 'for my <i>mill</i>',
    });
    expect(proposed).toMatchObject({
      listingId: listing.id,
      initiatorId: buyer.user.id,
      recipientId: seller.user.id,
      buyerId: buyer.user.id,
      sellerId: seller.user.id,
      status: 'open',
      round: 1,
      nextActorId: seller.user.id,
      volumeKwh: '40.000',
      pricePerKwh: '0.1200',
      sellerMeterId: seller.meterId,
      buyerMeterId: buyer.meterId,
      // both meters in DE-North, default fees; 40 kWh at 0.12: notional 4.80
      // buyer: wheeling 40 x 0.0250 = 1.00; platform min(1% x 4.80 = 0.048, 40 x 0.0042 = 0.168)
      //   = 0.048 -> 0.05; total 1.05
      // seller: wheeling 40 x 0.0300 = 1.20; platform 0.05; total 1.25
      // buyerPays 4.80 + 1.05 = 5.85 = sellerReceives 3.55 + grid 2.20 + platform 0.10
      fees: {
        energyNotional: '4.80',
        buyer: { wheeling: '1.00', interZone: '0.00', platform: '0.05', total: '1.05' },
        seller: { wheeling: '1.20', platform: '0.05', total: '1.25' },
        buyerPays: '5.85',
        sellerReceives: '3.55',
        gridOperatorReceives: '2.20',
        platformReceives: '0.10',
      },
    });
    expect(Date.parse(proposed.expiresAt) - Date.parse(proposed.createdAt)).toBe(600_000);
    for (const log of [sellerLog, buyerLog]) expect((await log.next('swap.proposed')).data).toEqual(proposed);

    const countered = await seller.counter({
      swapId: proposed.id,
      round: 1,
      volumeKwh: 40,
      pricePerKwh: '0.14',
    });
    expect(countered).toMatchObject({
      round: 2,
      nextActorId: buyer.user.id,
      pricePerKwh: '0.1400',
      status: 'open',
      // at 0.14: notional 5.60; platform 1% = 0.056 -> 0.06 a side (cap 0.168); wheeling as above
      // buyer 1.00 + 0.06 = 1.06, seller 1.20 + 0.06 = 1.26
      // buyerPays 6.66 = sellerReceives 4.34 + grid 2.20 + platform 0.12
      fees: {
        energyNotional: '5.60',
        buyer: { wheeling: '1.00', interZone: '0.00', platform: '0.06', total: '1.06' },
        seller: { wheeling: '1.20', platform: '0.06', total: '1.26' },
        buyerPays: '6.66',
        sellerReceives: '4.34',
        gridOperatorReceives: '2.20',
        platformReceives: '0.12',
      },
    });
    for (const log of [sellerLog, buyerLog])
      expect((await log.next('swap.countered')).data).toEqual(countered);

    const accepted = await buyer.accept(proposed.id, 2);
    expect(accepted).toMatchObject({
      status: 'accepted',
      nextActorId: null,
      notional: '5.6000000',
      volumeKwh: '40.000',
    });
    expect(accepted.acceptedAt).toBeDefined();
    for (const log of [sellerLog, buyerLog]) expect((await log.next('swap.accepted')).data).toEqual(accepted);
    const updated = await sellerLog.next('listing.updated');
    expect(updated.data).toMatchObject({
      id: listing.id,
      availableKwh: '60.000',
      status: 'active',
      version: 2,
    });

    const thread = await rows(
      'SELECT round, author_id, price_e4::text, note FROM offers WHERE swap_id = $1 ORDER BY round',
      [proposed.id],
    );
    expect(thread).toEqual([
      { round: 1, author_id: buyer.user.id, price_e4: '1200', note: 'for my mill' },
      { round: 2, author_id: seller.user.id, price_e4: '1400', note: '' },
    ]);
  });

  test('reject and withdraw end a swap; the proposer may then propose again', async () => {
    const listing = await seller.createListing(listingInput());
    const s1 = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    expect(await seller.reject(s1.id, 1)).toMatchObject({ status: 'rejected', nextActorId: null });
    const s2 = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    expect(await refusal(seller.withdraw(s2.id))).toBe('FORBIDDEN');
    expect(await buyer.withdraw(s2.id)).toMatchObject({ status: 'withdrawn' });
  });
});

describe('every refusal answers its code and changes nothing', () => {
  let listing: Listing;
  let swap: Swap;
  beforeAll(async () => {
    listing = await seller.createListing(listingInput({ volumeKwh: '10' }));
    swap = await buyer.propose({ listingId: listing.id, volumeKwh: '5', pricePerKwh: '0.1' });
  });

  test.each([
    [
      'self swap',
      () => seller.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' }),
      'SELF_SWAP',
    ],
    [
      'too much volume',
      () => stranger.propose({ listingId: listing.id, volumeKwh: '10.001', pricePerKwh: '0.1' }),
      'INSUFFICIENT_VOLUME',
    ],
    [
      'a second open swap',
      () => buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' }),
      'CONFLICT',
    ],
    [
      'an unknown listing',
      () => buyer.propose({ listingId: randomUUID(), volumeKwh: '1', pricePerKwh: '0.1' }),
      'NOT_FOUND',
    ],
    [
      'not your turn (counter)',
      () => buyer.counter({ swapId: swap.id, round: 1, volumeKwh: '1', pricePerKwh: '0.2' }),
      'NOT_YOUR_TURN',
    ],
    ['not your turn (accept)', () => buyer.accept(swap.id, 1), 'NOT_YOUR_TURN'],
    ['a stranger accepts', () => stranger.accept(swap.id, 1), 'NOT_FOUND'],
    ['a stranger withdraws', () => stranger.withdraw(swap.id), 'NOT_FOUND'],
    ['a stale round', () => seller.accept(swap.id, 2), 'CONFLICT'],
    [
      'a counter over the available volume',
      () => seller.counter({ swapId: swap.id, round: 1, volumeKwh: '11', pricePerKwh: '0.1' }),
      'INSUFFICIENT_VOLUME',
    ],
    ['an unknown swap', () => seller.accept(randomUUID(), 1), 'NOT_FOUND'],
    ['a malformed command', () => seller.accept('not-a-uuid', 1), 'VALIDATION_FAILED'],
    ['a round that is not a number', () => seller.accept(swap.id, 'one' as never), 'VALIDATION_FAILED'],
  ])('%s', async (_name, act, code) => {
    const before = await rows('SELECT count(*) AS n FROM events');
    const state = await rows('SELECT status, round FROM swaps WHERE id = $1', [swap.id]);
    expect(await refusal(act())).toBe(code);
    expect(await rows('SELECT count(*) AS n FROM events')).toEqual(before);
    expect(await rows('SELECT status, round FROM swaps WHERE id = $1', [swap.id])).toEqual(state);
  });

  test('a closed swap and a listing that is not active', async () => {
    const l = await seller.createListing(listingInput());
    const s = await buyer.propose({ listingId: l.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await seller.reject(s.id, 1);
    expect(await refusal(seller.accept(s.id, 1))).toBe('INVALID_STATE');
    expect(await refusal(buyer.withdraw(s.id))).toBe('INVALID_STATE');
    await seller.cancelListing(l.id);
    expect(await refusal(stranger.propose({ listingId: l.id, volumeKwh: '1', pricePerKwh: '0.1' }))).toBe(
      'INVALID_STATE',
    );
  });

  test('cancelling a listing voids its open swaps and tells both parties', async () => {
    const buyerLog = recorder(buyer);
    const l = await seller.createListing(listingInput());
    const s = await buyer.propose({ listingId: l.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await seller.cancelListing(l.id);
    const voided = await buyerLog.next((e) => e.type === 'swap.voided' && (e.data as Swap).id === s.id);
    expect(voided.data).toMatchObject({ status: 'voided', reason: 'listing_cancelled', nextActorId: null });
    expect(await refusal(seller.accept(s.id, 1))).toBe('INVALID_STATE');
  });
});
