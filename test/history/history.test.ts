import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClient, Swap } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { PROTECTED_ROUTES, PUBLIC_ROUTES } from '../support/routes.js';
import { listingInput, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let statements: string[] = [];
let alice: TestTrader;
let bob: TestTrader;
let carol: TestTrader;
beforeAll(async () => {
  // no periodic sweep nor notification poll, so the statements a request causes can be counted
  node = await startHub({
    env: { SWEEP_INTERVAL_MS: '600000', NOTIFY_POLL_MS: '60000' },
    database: { onQuery: (sql) => void statements.push(sql) },
  });
  [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map((n) => trader(node.url, n)))) as [
    TestTrader,
    TestTrader,
    TestTrader,
  ];
});
afterAll(async () => {
  for (const c of [alice, bob, carol]) c?.close();
  await node?.stop();
});

const get = (c: HubClient, path: string, headers?: Record<string, string>) =>
  api(node.url, 'GET', `/api/v1${path}`, { token: c.session.accessToken, headers });

/** Statements a request runs, leaving out the relay's own reads of the event log. */
async function countStatements(run: () => Promise<unknown>): Promise<number> {
  statements = [];
  await run();
  return statements.filter((s) => !/FROM events|outbox_cursor/.test(s)).length;
}

async function pageAll(c: HubClient, path: string, limit: number): Promise<Swap[]> {
  const out: Swap[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(
      c,
      `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status).toBe(200);
    out.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

describe('GET /api/v1/swaps and /swaps/:id', () => {
  test('only your swaps, latest activity first, pages without repeat or gap, filters', async () => {
    const listing = await alice.createListing(listingInput({ volumeKwh: '1000' }));
    const mine: Swap[] = [];
    for (let i = 0; i < 7; i++) {
      const s = await bob.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      mine.push(i % 2 ? await alice.reject(s.id, 1) : await bob.withdraw(s.id));
    }
    await carol.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });

    const bobs = await pageAll(bob, '/swaps', 3);
    expect(bobs.map((s) => s.id)).toEqual([...mine].reverse().map((s) => s.id));
    expect(bobs.map((s) => s.id)).not.toContain(undefined);
    const alices = await pageAll(alice, '/swaps', 2);
    expect(alices).toHaveLength(8);
    expect(await pageAll(alice, '/swaps?role=initiator', 5)).toHaveLength(0);
    expect(await pageAll(alice, '/swaps?role=recipient', 5)).toHaveLength(8);
    expect((await pageAll(bob, '/swaps?status=rejected', 5)).every((s) => s.status === 'rejected')).toBe(
      true,
    );
    expect(await pageAll(bob, '/swaps?status=rejected,withdrawn', 5)).toHaveLength(7);
    expect(await pageAll(carol, `/swaps?listingId=${listing.id}&status=open`, 5)).toHaveLength(1);
  });

  test('a swap with its whole thread; a stranger gets 404', async () => {
    const listing = await alice.createListing(listingInput());
    const s = await bob.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1', note: 'first' });
    await alice.counter({ swapId: s.id, round: 1, volumeKwh: '4', pricePerKwh: '0.13', note: 'meet me' });
    await bob.accept(s.id, 2);
    const res = await get(bob, `/swaps/${s.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: s.id, status: 'accepted', round: 2, notional: '0.5200000' });
    expect(res.body.offers).toEqual([
      expect.objectContaining({
        round: 1,
        authorId: bob.user.id,
        volumeKwh: '4.000',
        pricePerKwh: '0.1000',
        note: 'first',
      }),
      expect.objectContaining({ round: 2, authorId: alice.user.id, pricePerKwh: '0.1300', note: 'meet me' }),
    ]);
    const stranger = await get(carol, `/swaps/${s.id}`);
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('NOT_FOUND');
  });

  test('no N+1: statements do not grow with offers or page size', async () => {
    const listing = await alice.createListing(listingInput({ volumeKwh: '1000' }));
    const short = await bob.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    const long = await carol.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    for (let round = 1; round <= 9; round++) {
      const who = round % 2 ? alice : carol;
      await who.counter({ swapId: long.id, round, volumeKwh: '1', pricePerKwh: `0.1${round}` });
    }
    const one = await countStatements(() => get(bob, `/swaps/${short.id}`));
    const ten = await countStatements(() => get(carol, `/swaps/${long.id}`));
    expect(ten).toBe(one);
    const small = await countStatements(() => get(alice, '/swaps?limit=1'));
    const big = await countStatements(() => get(alice, '/swaps?limit=20'));
    expect(big).toBe(small);
    const trades1 = await countStatements(() => get(alice, '/trades?limit=1'));
    const trades20 = await countStatements(() => get(alice, '/trades?limit=20'));
    expect(trades20).toBe(trades1);
    expect(one).toBeLessThanOrEqual(3); // revocation check, swap, offers
  });
});

describe('GET /api/v1/trades', () => {
  test('your side, the counterparty and the exact notional; CSV a spreadsheet opens', async () => {
    // both meters in NL (default fees), where the listing is
    const seller = await trader(node.url, 'seller', true, { zone: 'NL' });
    const buyer = await trader(node.url, 'buyer', true, { zone: 'NL' });
    const listing = await seller.createListing(
      listingInput({ volumeKwh: '100', zone: 'NL', energyType: 'wind' }),
    );
    for (const [v, p] of [
      ['12.5', '0.1234'],
      ['0.001', '0.0001'],
    ]) {
      const s = await buyer.propose({ listingId: listing.id, volumeKwh: v!, pricePerKwh: p! });
      await seller.accept(s.id, 1);
    }
    const res = await get(buyer, '/trades');
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items[0]).toMatchObject({
      side: 'buy',
      counterpartyId: seller.user.id,
      counterpartyName: 'seller',
      energyType: 'wind',
      zone: 'NL',
      volumeKwh: '0.001',
      pricePerKwh: '0.0001',
      notional: '0.0000001',
      currency: 'EUR',
      sellerMeterId: seller.meterId,
      buyerMeterId: buyer.meterId,
      slots: [expect.objectContaining({ start: listing.deliveryStart, volumeKwh: '0.001' })],
      // every line of 0.001 kWh at 0.0001 rounds to nothing
      fees: {
        energyNotional: '0.00',
        buyer: { wheeling: '0.00', interZone: '0.00', platform: '0.00', total: '0.00' },
        seller: { wheeling: '0.00', platform: '0.00', total: '0.00' },
        buyerPays: '0.00',
        sellerReceives: '0.00',
        gridOperatorReceives: '0.00',
        platformReceives: '0.00',
      },
    });
    // 12.5 kWh at 0.1234: notional 1.5425 -> 1.54 (half-even)
    // buyer: wheeling 12.5 x 0.0250 = 0.3125 -> 0.31; platform min(1% x 1.5425 = 0.015425,
    //   12.5 x 0.0042 = 0.0525) = 0.015425 -> 0.02; total 0.33
    // seller: wheeling 12.5 x 0.0300 = 0.375 -> 0.38 (half to even); platform 0.02; total 0.40
    // buyerPays 1.54 + 0.33 = 1.87 = sellerReceives 1.14 + grid 0.31 + 0.38 = 0.69 + platform 0.04
    const fees12 = {
      energyNotional: '1.54',
      buyer: { wheeling: '0.31', interZone: '0.00', platform: '0.02', total: '0.33' },
      seller: { wheeling: '0.38', platform: '0.02', total: '0.40' },
      buyerPays: '1.87',
      sellerReceives: '1.14',
      gridOperatorReceives: '0.69',
      platformReceives: '0.04',
    };
    expect(res.body.items[1]).toMatchObject({
      volumeKwh: '12.500',
      notional: '1.5425000',
      fees: fees12,
      slots: [expect.objectContaining({ start: listing.deliveryStart, volumeKwh: '12.500' })],
    });
    expect((await get(seller, '/trades')).body.items[0]).toMatchObject({
      side: 'sell',
      counterpartyId: buyer.user.id,
      counterpartyName: 'buyer',
      sellerMeterId: seller.meterId,
      buyerMeterId: buyer.meterId,
    });
    expect((await get(seller, '/trades')).body.items[1].fees).toEqual(fees12);
    expect(
      (await get(carol, '/trades')).body.items.map((t: { listingId: string }) => t.listingId),
    ).not.toContain(listing.id);

    const csv = await get(buyer, '/trades', { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'acceptedAt,swapId,listingId,side,counterpartyId,counterpartyName,energyType,zone,volumeKwh,pricePerKwh,notional,currency,deliveryStart,deliveryEnd,energyNotional,wheelingFee,interZoneFee,platformFee,feesTotal,netAmount',
    );
    expect(lines).toHaveLength(3);
    const row = lines[2]!.split(',');
    expect(row[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(row.slice(3, 12)).toEqual([
      'buy',
      seller.user.id,
      'seller',
      'wind',
      'NL',
      '12.500',
      '0.1234',
      '1.5425000',
      'EUR',
    ]);
    // the buyer's lines: what it pays, 1.54 + 0.31 + 0.00 + 0.02 = 1.87
    expect(row.slice(14)).toEqual(['1.54', '0.31', '0.00', '0.02', '0.33', '1.87']);
    // the seller's: what it receives, 1.54 - 0.38 - 0.02 = 1.14 (no inter-zone charge)
    const sellerCsv = (await get(seller, '/trades', { accept: 'text/csv' })).body as string;
    const sellerRow = sellerCsv.trimEnd().split('\r\n')[2]!.split(',');
    expect(sellerRow.slice(3, 4)).toEqual(['sell']);
    expect(sellerRow.slice(14)).toEqual(['1.54', '0.38', '0.00', '0.02', '0.40', '1.14']);
    seller.close();
    buyer.close();
  });

  test('the CSV of a ledger of many pages: every trade once, newest first', async () => {
    const seller = await trader(node.url, 'long-seller', true, { zone: 'NL' });
    const buyer = await trader(node.url, 'long-buyer', true, { zone: 'NL' });
    const listing = await seller.createListing(listingInput({ volumeKwh: '100', zone: 'NL' }));
    const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1000' });
    await seller.accept(s.id, 1);
    // 1,200 more trades of the same pair (the export reads 500 a statement), one a second earlier each
    await node.hub.db!.sequelize.query(
      `INSERT INTO swaps
       SELECT (json_populate_record(s, json_build_object('id', gen_random_uuid(),
                 'accepted_at', s.accepted_at - g * interval '1 second'))).*
       FROM swaps s, generate_series(1, 1200) g WHERE s.id = $1`,
      { bind: [s.id] },
    );
    const csv = await get(buyer, '/trades', { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    const rows = (csv.body as string).trimEnd().split('\r\n').slice(1);
    expect(rows).toHaveLength(1201);
    const ids = rows.map((r) => r.split(',')[1]);
    expect(new Set(ids).size).toBe(1201);
    expect(ids[0]).toBe(s.id);
    const times = rows.map((r) => Date.parse(r.split(',')[0]!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // HEAD: the CSV's headers, and no read of the ledger (not even after the answer)
    const reads = await countStatements(async () => {
      const head = await api(node.url, 'HEAD', '/api/v1/trades', {
        token: buyer.session.accessToken,
        headers: { accept: 'text/csv' },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toMatch(/^text\/csv/);
      await new Promise((r) => setTimeout(r, 300));
    });
    expect(reads).toBeLessThanOrEqual(1); // the login check
    seller.close();
    buyer.close();
  });
});

describe('bad input is 400 VALIDATION_FAILED, never 500', () => {
  test.each([
    '/swaps?cursor=nope',
    `/swaps?cursor=${Buffer.from('[1,2]').toString('base64url')}`,
    '/swaps?limit=0',
    '/swaps?limit=101',
    '/swaps?status=done',
    '/swaps?role=owner',
    '/swaps?listingId=12',
    '/swaps?colour=red',
    '/swaps/not-a-uuid',
    '/trades?cursor=zzz',
    '/trades?limit=1000',
    '/trades?side=buy',
  ])('%s', async (path) => {
    const res = await get(alice, path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('OpenAPI', () => {
  test('/openapi.json is a valid OpenAPI 3 document listing every route with the error envelope', async () => {
    const doc = (await (await fetch(`${node.url}/openapi.json`)).json()) as any;
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`),
    );
    for (const r of ['GET /healthz', 'GET /readyz', ...PUBLIC_ROUTES, ...PROTECTED_ROUTES]) {
      expect(routes).toContain(r);
    }
    expect(Object.keys(doc.paths['/api/v1/swaps/{id}'].get.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '503',
    ]);
    const docs = await fetch(`${node.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });
});
