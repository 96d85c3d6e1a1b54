// Matching (PROTOCOL-MARKET.md, "Market data and matching") on two nodes with a market of their
// own: GET /api/v1/listings/:id/matches ranks the listings a listing could trade with by the price
// its owner would land at, fees included; a new listing tells the owners of the listings it crosses
// with `listing.matched` (personal, replayed), and two crossing listings created at once on two
// nodes are never both left unheard.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

const ready = (await postgresAvailable('matching')) && (await redisAvailable('matching'));

// A and B share a grid and energy flows B -> A only; C is linked both ways but trades 15-minute
// slots; D has no link. A's fees are the contract's defaults (1 % platform, capped at 0.0042/kWh).
const MARKET = {
  zones: [
    { id: 'A' },
    {
      id: 'B',
      fees: {
        wheelingBuyerPerKwh: '0.0100',
        wheelingSellerPerKwh: '0.0050',
        platformPercent: '0.5',
        platformCapPerKwh: '0.0042',
      },
    },
    { id: 'C', slotMinutes: 15 },
    { id: 'D' },
  ],
  interZoneWheelingPerKwh: { 'B->A': '0.0200', 'A->C': '0.0100', 'C->A': '0.0100' },
};
const file = ready ? await marketConfigFile(MARKET) : '';

const BIG = { exportCapacityKw: '1000000', importCapacityKw: '1000000' };

/** An hour's window `day` days and `hour` hours from the next whole hour (tests keep to their own). */
function window(day: number, hour = 0, hours = 1) {
  const start = new Date(Date.now() + day * 86_400_000 + hour * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    deliveryStart: start.toISOString(),
    deliveryEnd: new Date(start.getTime() + hours * 3_600_000).toISOString(),
  };
}

const LISTING_KEYS = [
  'allOrNone',
  'availableKwh',
  'createdAt',
  'currency',
  'deliveryEnd',
  'deliveryStart',
  'description',
  'energyType',
  'id',
  'ownerId',
  'ownerName',
  'pricePerKwh',
  'side',
  'slots',
  'status',
  'updatedAt',
  'version',
  'volumeKwh',
  'zone',
];

type Match = { id: string; pricePerKwh: string; landedPricePerKwh: string } & Record<string, unknown>;

describe.skipIf(!ready)('matching', () => {
  const nodes = twoNodes({ a: { MARKET_CONFIG: file }, b: { MARKET_CONFIG: file } });
  const matches = (t: HubClient, id: string, query = '') =>
    t.rest<{ items: Match[] }>('GET', `/api/v1/listings/${id}/matches${query}`);

  test("a demand's matches: the lowest landed price first, fees and the inter-zone charge included", async () => {
    const w = window(2);
    const buyer = await trader(nodes.a.url, 'match-buyer', true, { zone: 'A', ...BIG });
    const sellers: Record<string, TestTrader> = {};
    for (const z of ['A', 'B', 'C', 'D']) {
      sellers[z] = await trader(nodes.b.url, `match-seller-${z}`, true, { zone: z, ...BIG });
    }
    const supply = (z: string, pricePerKwh: string, more: Record<string, unknown> = {}) =>
      sellers[z]!.createListing(listingInput({ zone: z, pricePerKwh, volumeKwh: '5', ...w, ...more }));
    const demand = await buyer.createListing(
      listingInput({ side: 'demand', zone: 'A', pricePerKwh: '0.2000', volumeKwh: '3', ...w }),
    );

    // landed for a buyer in A: price + 0.0250 wheeling (+ 0.0200 from B) + 1 % of the price, at most 0.0042
    const s1 = await supply('A', '0.1234'); // 0.1234 + 0.0250 + 0.001234 = 0.149634
    const s2 = await supply('B', '0.1100'); // 0.1100 + 0.0250 + 0.0200 + 0.0011 = 0.1561: cheaper, lands dearer
    const s3 = await supply('A', '0.1320'); // 0.1320 + 0.0250 + 0.00132 = 0.15832
    const s4 = await supply('A', '0.5000'); // 0.5000 + 0.0250 + 0.0042 (the cap) = 0.5292
    const s5 = await supply('A', '0.1234'); // ties with s1: the older first
    // never suggested: another grid, no link, no overlap, another energy type, the buyer's own, closed
    await supply('C', '0.0100', window(2, 0, 1));
    await supply('D', '0.0100');
    await supply('A', '0.0100', window(2, 1));
    await supply('A', '0.0100', { energyType: 'wind' });
    await buyer.createListing(listingInput({ zone: 'A', pricePerKwh: '0.0100', ...w }));
    const cancelled = await supply('A', '0.0100');
    await sellers.A!.cancelListing(cancelled.id);
    // a demand is not a match for a demand
    await sellers.A!.createListing(listingInput({ side: 'demand', zone: 'A', pricePerKwh: '0.0100', ...w }));

    const { items } = await matches(buyer, demand.id);
    expect(items.map((m) => [m.id, m.pricePerKwh, m.landedPricePerKwh])).toEqual([
      [s1.id, '0.1234', '0.1496'],
      [s5.id, '0.1234', '0.1496'],
      [s2.id, '0.1100', '0.1561'],
      [s3.id, '0.1320', '0.1583'],
      [s4.id, '0.5000', '0.5292'],
    ]);
    // listings as the market shows them: no meter of anyone's
    for (const m of items)
      expect(Object.keys(m).sort()).toEqual([...LISTING_KEYS, 'landedPricePerKwh'].sort());
    expect((await matches(buyer, demand.id, '?limit=2')).items.map((m) => m.id)).toEqual([s1.id, s5.id]);
    // anyone signed in may ask: ranked for the listing's owner
    expect((await matches(sellers.D!, demand.id)).items.map((m) => m.id)).toEqual(items.map((m) => m.id));
  });

  test("a supply's matches: the highest landed price first, within the zones the energy can flow to", async () => {
    const w = window(3);
    const seller = await trader(nodes.a.url, 'match-supplier', true, { zone: 'B', ...BIG });
    const buyers: Record<string, TestTrader> = {};
    for (const z of ['A', 'B', 'C'])
      buyers[z] = await trader(nodes.b.url, `match-demand-${z}`, true, { zone: z, ...BIG });
    const demand = (z: string, pricePerKwh: string) =>
      buyers[z]!.createListing(listingInput({ side: 'demand', zone: z, pricePerKwh, volumeKwh: '5', ...w }));
    const supply = await seller.createListing(listingInput({ zone: 'B', pricePerKwh: '0.0500', ...w }));

    // landed for a seller in B: price - 0.0050 wheeling - 0.5 % of the price (at most 0.0042)
    const dA = await demand('A', '0.2000'); // 0.2000 - 0.0050 - 0.0010 = 0.1940 (B -> A is linked)
    const dB = await demand('B', '0.2100'); // 0.2100 - 0.0050 - 0.00105 = 0.20395 -> 0.2040 (half-to-even)
    await demand('C', '0.9000'); // no link B -> C

    const { items } = await matches(seller, supply.id);
    expect(items.map((m) => [m.id, m.landedPricePerKwh])).toEqual([
      [dB.id, '0.2040'],
      [dA.id, '0.1940'],
    ]);
    // the flow is one way: A's supply cannot reach B's demand
    const aSeller = await trader(nodes.a.url, 'match-supplier-a', true, { zone: 'A', ...BIG });
    const fromA = await aSeller.createListing(listingInput({ zone: 'A', pricePerKwh: '0.0500', ...w }));
    expect((await matches(aSeller, fromA.id)).items.map((m) => m.id)).toEqual([dA.id]);
    // a listing no longer tradable has none
    await aSeller.cancelListing(fromA.id);
    expect((await matches(aSeller, fromA.id)).items).toEqual([]);
  });

  test('bad input is VALIDATION_FAILED, an unknown listing NOT_FOUND', async () => {
    const t = await trader(nodes.a.url, 'match-asker', true, { zone: 'A', ...BIG });
    const l = await t.createListing(listingInput({ zone: 'A', ...window(4) }));
    const token = t.session.accessToken;
    for (const q of ['?limit=0', '?limit=51', '?limit=x', '?zone=A']) {
      const r = await api(nodes.a.url, 'GET', `/api/v1/listings/${l.id}/matches${q}`, { token });
      expect([q, r.status, r.body.error.code]).toEqual([q, 400, 'VALIDATION_FAILED']);
    }
    const bad = await api(nodes.a.url, 'GET', '/api/v1/listings/not-a-uuid/matches', { token });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const unknown = await api(nodes.a.url, 'GET', `/api/v1/listings/${crypto.randomUUID()}/matches`, {
      token,
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const anon = await api(nodes.a.url, 'GET', `/api/v1/listings/${l.id}/matches`);
    expect(anon.status).toBe(401);
  });

  test('a new listing tells the owners of the listings it crosses, live on another node and on replay', async () => {
    const w = window(5);
    const high = await trader(nodes.a.url, 'matched-high', true, { zone: 'A', ...BIG });
    const low = await trader(nodes.a.url, 'matched-low', true, { zone: 'A', ...BIG });
    const away = await trader(nodes.a.url, 'matched-away', true, { zone: 'B', ...BIG });
    const seller = await trader(nodes.b.url, 'matching-seller', true, { zone: 'A', ...BIG });
    const [highLog, lowLog, awayLog] = [recorder(high), recorder(low), recorder(away)];
    const demand = (t: TestTrader, zone: string, pricePerKwh: string) =>
      t.createListing(listingInput({ side: 'demand', zone, pricePerKwh, ...w }));
    const crossing = await demand(high, 'A', '0.1500');
    await demand(low, 'A', '0.1000'); // below the supply's price
    await demand(away, 'B', '0.3000'); // no A -> B link
    await highLog.next('listing.created');

    const supply = await seller.createListing(listingInput({ zone: 'A', pricePerKwh: '0.1200', ...w }));
    const event = await highLog.next('listing.matched');
    expect(event.data).toEqual({ listingId: crossing.id, matchId: supply.id });
    for (const log of [lowLog, awayLog])
      expect(log.seen.filter((e) => e.type === 'listing.matched')).toEqual([]);

    // personal and replayed: the event is the owner's, in their history and on reconnect
    const back = new HubClient(nodes.b.url, high.session);
    back.lastEventId = highLog.seen.find((e) => e.type === 'listing.created')!.id;
    const replayed: { type: string; data: unknown }[] = [];
    back.onEvent((e) => replayed.push({ type: e.type, data: e.data }));
    await back.connect();
    expect(replayed).toContainEqual({
      type: 'listing.matched',
      data: { listingId: crossing.id, matchId: supply.id },
    });
    const rows = await nodes.a.hub.db!.sequelize.query<{ user_a: string; data: unknown }>(
      `SELECT user_a, data FROM events WHERE type = 'listing.matched' AND data->>'matchId' = $1`,
      { bind: [supply.id], type: QueryTypes.SELECT },
    );
    expect(rows).toEqual([{ user_a: high.user.id, data: { listingId: crossing.id, matchId: supply.id } }]);
    for (const c of [high, low, away, seller, back]) c.close();
  });

  test('crossing listings created at once on two nodes: the owner of the first always hears of the second', async () => {
    const pairs = 12;
    const sellers = await Promise.all(
      Array.from({ length: pairs }, (_, i) => trader(nodes.a.url, `race-s${i}`, true, { zone: 'A', ...BIG })),
    );
    const buyers = await Promise.all(
      Array.from({ length: pairs }, (_, i) => trader(nodes.b.url, `race-b${i}`, true, { zone: 'A', ...BIG })),
    );
    // each pair in its own hour: pairs cross only within themselves
    const created = await Promise.all(
      sellers.map(async (s, i) => {
        const w = window(6, i);
        const [supply, demand] = await Promise.all([
          s.createListing(listingInput({ zone: 'A', energyType: 'hydro', pricePerKwh: '0.1000', ...w })),
          buyers[i]!.createListing(
            listingInput({ side: 'demand', zone: 'A', energyType: 'hydro', pricePerKwh: '0.1100', ...w }),
          ),
        ]);
        return { supply, demand };
      }),
    );
    for (const { supply, demand } of created) {
      const rows = await nodes.a.hub.db!.sequelize.query<{ data: { listingId: string; matchId: string } }>(
        `SELECT data FROM events WHERE type = 'listing.matched' AND data->>'listingId' IN ($1, $2)`,
        { bind: [supply.id, demand.id], type: QueryTypes.SELECT },
      );
      // exactly one: the later of the two tells the earlier's owner
      expect(rows).toHaveLength(1);
      const { listingId, matchId } = rows[0]!.data;
      expect([listingId, matchId].sort()).toEqual([supply.id, demand.id].sort());
    }
  });
});
