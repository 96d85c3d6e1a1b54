// The public tape (PROTOCOL-MARKET.md, "Market data and matching") on two nodes: every trade on
// GET /api/v1/market/trades and, live, as `market.trade` to the feed subscribers whose filter
// matches it (either side); no party, meter, listing or swap id on it, ever.
import { describe, expect, test } from 'vitest';
import type { EventEnvelope } from '../../src/client/index.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = (await postgresAvailable('market tape')) && (await redisAvailable('market tape'));
const TAPE_FIELDS = [
  'at',
  'deliveryEnd',
  'deliveryStart',
  'energyType',
  'id',
  'pricePerKwh',
  'volumeKwh',
  'zone',
];

describe.skipIf(!ready)('the public tape', () => {
  const nodes = twoNodes();

  test('a trade on node A reaches matching feed subscribers on node B, anonymized; the tape lists it', async () => {
    const seller = await trader(nodes.a.url, 'tape-seller', true, { zone: 'NL' });
    const buyer = await trader(nodes.a.url, 'tape-buyer', true, { zone: 'NL' });
    const demandSide = await trader(nodes.b.url, 'watch-demand');
    const elsewhere = await trader(nodes.b.url, 'watch-de');
    // zone ids in any letter case (PROTOCOL-MARKET.md), in the feed's filter and the reads below
    const ack = await demandSide.subscribeFeed({ zones: ['nl'], side: 'demand' });
    expect(ack.filter.zones).toEqual(['NL']);
    await elsewhere.subscribeFeed({ zones: ['DE-North'] });
    const [seen, other] = [recorder(demandSide), recorder(elsewhere)];

    const listing = await seller.createListing(
      listingInput({ zone: 'NL', energyType: 'wind', volumeKwh: '10' }),
    );
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1234' });
    await seller.accept(swap.id, 1);

    const live = await seen.next('market.trade');
    expect(Object.keys(live.data as object).sort()).toEqual(TAPE_FIELDS);
    expect(live.data).toMatchObject({
      zone: 'NL',
      energyType: 'wind',
      volumeKwh: '4.000',
      pricePerKwh: '0.1234',
      deliveryStart: listing.deliveryStart,
      deliveryEnd: listing.deliveryEnd,
    });
    // nothing on it leads to the trade's parties, meters, listing or swap
    const secret = [swap.id, listing.id, seller.user.id, buyer.user.id, seller.meterId, buyer.meterId];
    const text = JSON.stringify(live);
    for (const id of secret) expect(text).not.toContain(id);

    const { items } = await demandSide.rest<{ items: Record<string, string>[] }>(
      'GET',
      '/api/v1/market/trades?zone=nl&energyType=wind',
    );
    expect(items[0]).toEqual(live.data);
    const listed = await demandSide.rest<{ items: { id: string }[] }>('GET', '/api/v1/listings?zone=nL');
    expect(listed.items.map((l) => l.id)).toContain(listing.id);
    expect(JSON.stringify(items)).not.toMatch(new RegExp(secret.join('|')));
    // a subscriber of another zone hears nothing of it
    await new Promise((r) => setTimeout(r, 300));
    expect(other.seen.filter((e: EventEnvelope) => e.type === 'market.trade')).toEqual([]);
    for (const t of [seller, buyer, demandSide, elsewhere]) t.close();
  });

  test('newest first, in pages; bad queries are VALIDATION_FAILED at their field', async () => {
    const seller = await trader(nodes.a.url, 'pager-seller', true, { zone: 'DE-South' });
    const buyers = await Promise.all(
      [0, 1, 2].map((i) => trader(nodes.b.url, `pager-buyer${i}`, true, { zone: 'DE-South' })),
    );
    const listing = await seller.createListing(
      listingInput({ zone: 'DE-South', energyType: 'hydro', volumeKwh: '30' }),
    );
    for (const [i, b] of buyers.entries()) {
      const s = await b.propose({ listingId: listing.id, volumeKwh: String(i + 1), pricePerKwh: '0.1' });
      await seller.accept(s.id, 1);
    }
    const first = await seller.rest<{ items: { volumeKwh: string }[]; nextCursor: string }>(
      'GET',
      '/api/v1/market/trades?zone=DE-South&energyType=hydro&limit=2',
    );
    expect(first.items.map((t) => t.volumeKwh)).toEqual(['3.000', '2.000']);
    const second = await seller.rest<{ items: { volumeKwh: string }[]; nextCursor: string | null }>(
      'GET',
      `/api/v1/market/trades?zone=DE-South&energyType=hydro&limit=2&cursor=${first.nextCursor}`,
    );
    expect(second).toEqual({ items: [expect.objectContaining({ volumeKwh: '1.000' })], nextCursor: null });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const [query, path] of [
      [`from=${iso(now)}&to=${iso(now - 1000)}`, 'to'],
      [`from=${iso(now - 40 * 86_400_000)}&to=${iso(now)}`, 'to'],
      ['cursor=not-a-cursor', 'cursor'],
      ['energyType=coal', 'energyType'],
      ['limit=0', 'limit'],
      ['interval=15m', ''],
    ] as const) {
      await expect(seller.rest('GET', `/api/v1/market/trades?${query}`)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path })] },
      });
    }
    for (const t of [seller, ...buyers]) t.close();
  });
});
