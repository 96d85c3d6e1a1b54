// The energy market's rules end to end, on a hub with its own MARKET_CONFIG, through the bundled
// client (Socket.IO) and REST: zones, the slot grid, ZONE_MISMATCH, fees on swaps, offers and
// trades, the trades CSV's fee columns, and what the owner alone sees of a listing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Listing, Swap, Trade } from '../../src/client/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

const real = await postgresAvailable('market rules');
const HOUR = 3_600_000;

function start(hoursAhead: number): Date {
  const t = new Date(Date.now() + hoursAhead * HOUR);
  t.setUTCMinutes(0, 0, 0);
  return t;
}

describe.skipIf(!real)('a market of zones A, B (hourly) and Q (15 minutes), wheeling A->B only', () => {
  let node: TestHub;
  beforeAll(async () => {
    const file = await marketConfigFile({
      zones: [
        { id: 'A', gateLeadMinutes: 30 },
        { id: 'B', fees: { wheelingBuyerPerKwh: '0.0100' } },
        { id: 'Q', slotMinutes: 15, priceTick: '0.0050' },
      ],
      interZoneWheelingPerKwh: { 'A->B': '0.0200' },
    });
    node = await startHub({ env: { MARKET_CONFIG: file } });
  });
  afterAll(async () => {
    await node?.stop();
  });

  test('a trade from A to B: fees line by line on the swap, every offer and the trade; the CSV has them', async () => {
    const seller = await trader(node.url, 'seller-A', true, { zone: 'A' });
    const buyer = await trader(node.url, 'buyer-B', true, { zone: 'B' });
    const sellerLog = recorder(seller);
    const s = start(24);
    const listing = await seller.createListing(
      listingInput({
        zone: 'a', // any letter case; shown as configured
        volumeKwh: '20',
        deliveryStart: s.toISOString(),
        deliveryEnd: new Date(s.getTime() + 2 * HOUR).toISOString(),
      }),
    );
    expect(listing).toMatchObject({ zone: 'A', meterId: seller.meterId, allOrNone: false });
    expect(listing.slots).toEqual([
      { start: s.toISOString(), volumeKwh: '10.000' },
      { start: new Date(s.getTime() + HOUR).toISOString(), volumeKwh: '10.000' },
    ]);
    // the market sees the listing without its meter
    const seen = await buyer.rest<Listing>('GET', `/api/v1/listings/${listing.id}`);
    expect(seen).not.toHaveProperty('meterId');
    const { meterId: _own, ...shown } = listing;
    expect(seen).toEqual(shown);

    // 10 kWh at 0.2000: energy 2.00. Buyer in B: wheeling 10 x 0.0100 = 0.10, inter-zone A->B
    // 10 x 0.0200 = 0.20, platform 1 % of 2.00 = 0.02 (cap 10 x 0.0042 = 0.042): 0.32, pays 2.32.
    // Seller in A: wheeling 10 x 0.0300 = 0.30, platform 0.02: 0.32, receives 1.68.
    // The grid: 0.10 + 0.20 + 0.30 = 0.60; the platform 0.04. 2.32 = 1.68 + 0.60 + 0.04.
    const proposed = await buyer.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.2' });
    expect(proposed).toMatchObject({ sellerMeterId: seller.meterId, buyerMeterId: buyer.meterId });
    expect(proposed.fees).toEqual({
      energyNotional: '2.00',
      buyer: { wheeling: '0.10', interZone: '0.20', platform: '0.02', total: '0.32' },
      seller: { wheeling: '0.30', platform: '0.02', total: '0.32' },
      buyerPays: '2.32',
      sellerReceives: '1.68',
      gridOperatorReceives: '0.60',
      platformReceives: '0.04',
    });
    expect((await sellerLog.next('swap.proposed')).data).toEqual(proposed);
    // the seller counters at 0.2500: energy 2.50, platform 0.025 -> 0.02 (half-even) each side
    const countered = await seller.counter({
      swapId: proposed.id,
      round: 1,
      volumeKwh: '10',
      pricePerKwh: '0.25',
    });
    expect(countered.fees).toMatchObject({
      energyNotional: '2.50',
      buyer: { platform: '0.02', total: '0.32' },
      buyerPays: '2.82',
      sellerReceives: '2.18',
    });
    const thread = await buyer.rest<Swap>('GET', `/api/v1/swaps/${proposed.id}`);
    expect(thread.offers?.map((o) => o.fees?.buyerPays)).toEqual(['2.32', '2.82']);
    await buyer.accept(proposed.id, 2);

    const { items } = await buyer.rest<{ items: Trade[] }>('GET', '/api/v1/trades');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      side: 'buy',
      zone: 'A',
      sellerMeterId: seller.meterId,
      buyerMeterId: buyer.meterId,
      fees: countered.fees,
      slots: [
        { start: s.toISOString(), volumeKwh: '5.000' },
        { start: new Date(s.getTime() + HOUR).toISOString(), volumeKwh: '5.000' },
      ],
    });
    for (const [who, line] of [
      [buyer, '2.50,0.10,0.20,0.02,0.32,2.82'],
      [seller, '2.50,0.30,0.00,0.02,0.32,2.18'],
    ] as const) {
      const res = await fetch(`${node.url}/api/v1/trades`, {
        headers: { authorization: `Bearer ${who.session.accessToken}`, accept: 'text/csv' },
      });
      const [header, row] = (await res.text()).trim().split('\r\n');
      expect(header).toMatch(/,energyNotional,wheelingFee,interZoneFee,platformFee,feesTotal,netAmount$/);
      expect(row).toMatch(new RegExp(`,${line.replaceAll('.', '\\.')}$`));
    }
    for (const t of [seller, buyer]) t.close();
  });

  test('B->A has no wheeling: a seller in B on a demand listing in A is ZONE_MISMATCH; Q is on another grid', async () => {
    const buyerA = await trader(node.url, 'buyer-A', true, { zone: 'A' });
    const sellerB = await trader(node.url, 'seller-B', true, { zone: 'B' });
    const inQ = await trader(node.url, 'in-Q', true, { zone: 'Q' });
    const demand = await buyerA.createListing(listingInput({ side: 'demand', zone: undefined }));
    await expect(
      sellerB.propose({ listingId: demand.id, volumeKwh: '1', pricePerKwh: '0.1' }),
    ).rejects.toMatchObject({ code: 'ZONE_MISMATCH', details: { sellerZone: 'B', buyerZone: 'A' } });
    await expect(
      inQ.propose({ listingId: demand.id, volumeKwh: '1', pricePerKwh: '0.1' }),
    ).rejects.toMatchObject({ code: 'ZONE_MISMATCH' });
    // REST answers the code with its status
    const res = await fetch(`${node.url}/api/v1/listings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inQ.session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...listingInput({ zone: 'A' }), meterId: inQ.meterId }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'zone' }] } },
    });
    // a listing over its own meter's limit, through REST: 422 with the details
    const small = await trader(node.url, 'small-A', false, {
      zone: 'A',
      exportCapacityKw: '2',
      importCapacityKw: '0',
    });
    const input = listingInput({ volumeKwh: '1.5', zone: undefined });
    const over = await fetch(`${node.url}/api/v1/listings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${small.session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...input, meterId: small.meterId }),
    });
    expect(over.status).toBe(422);
    expect(await over.json()).toEqual({
      error: {
        code: 'LIMIT_EXCEEDED',
        message: expect.any(String),
        details: {
          meterId: small.meterId,
          direction: 'export',
          slotStart: input.deliveryStart,
          limitKwh: '1.000',
          contractedKwh: '0.000',
          requestedKwh: '1.500',
        },
      },
    });
    for (const t of [buyerA, sellerB, inQ]) t.close();
  });

  test("Q's 15-minute grid, its tick, and A's own gate lead of 30 minutes", async () => {
    const inQ = await trader(node.url, 'grid-Q', true, { zone: 'Q' });
    const s = start(24);
    const q = await inQ.createListing(
      listingInput({
        zone: 'Q',
        volumeKwh: '1',
        pricePerKwh: '0.105',
        deliveryStart: new Date(s.getTime() + 15 * 60_000).toISOString(),
        deliveryEnd: new Date(s.getTime() + 60 * 60_000).toISOString(),
      }),
    );
    expect(q.slots.map((x) => x.volumeKwh)).toEqual(['0.334', '0.333', '0.333']);
    await expect(inQ.createListing(listingInput({ zone: 'Q', pricePerKwh: '0.1001' }))).rejects.toMatchObject(
      { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'pricePerKwh' }] } },
    );
    await expect(
      inQ.createListing(
        listingInput({
          zone: 'Q',
          deliveryStart: new Date(s.getTime() + 10 * 60_000).toISOString(),
          deliveryEnd: new Date(s.getTime() + 60 * 60_000).toISOString(),
        }),
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'deliveryStart' }] } });

    // each zone its own gate lead: A closes 30 minutes before delivery, Q the default 60. The next
    // whole hour after 45 minutes from now is 45 to 105 minutes ahead: open in A; the next quarter
    // hour after 45 minutes from now is 45 to 60 minutes ahead: closed in Q
    const inA = await trader(node.url, 'gate-A', true, { zone: 'A' });
    const soon = Date.now() + 45 * 60_000;
    const hour = new Date(Math.ceil(soon / HOUR) * HOUR);
    const quarter = new Date(Math.ceil(soon / (15 * 60_000)) * 15 * 60_000);
    const windowAt = (from: Date, minutes: number) => ({
      deliveryStart: from.toISOString(),
      deliveryEnd: new Date(from.getTime() + minutes * 60_000).toISOString(),
    });
    await expect(
      inA.createListing(listingInput({ zone: 'A', ...windowAt(hour, 60) })),
    ).resolves.toMatchObject({
      zone: 'A',
    });
    await expect(
      inQ.createListing(listingInput({ zone: 'Q', ...windowAt(quarter, 15) })),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: {
        issues: [
          {
            path: 'deliveryStart',
            message: 'must be more than 60 minutes from now (the gate of zone Q closes then)',
          },
        ],
      },
    });
    for (const t of [inQ, inA]) t.close();
  });
});
