// Candles from the tape's rollup (docs/decisions.md, "Candles"): open, high, low, close and volume
// of 15 minutes, an hour and a day; the rollup, raised by accepts of several listings on two nodes
// at once (and by a hot listing's group commit), always equals the tape it rolls up.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

const ready = (await postgresAvailable('candles')) && (await redisAvailable('candles'));
const Q = 900_000;

describe.skipIf(!ready)('candles', () => {
  const nodes = twoNodes();

  test('one market: open, high, low, close and volume, the same in 15m, 1h and 1d candles', async () => {
    const seller = await trader(nodes.a.url, 'candle-seller', true, { zone: 'NL' });
    const buyer = await trader(nodes.b.url, 'candle-buyer', true, { zone: 'NL' });
    const listing = await seller.createListing(
      listingInput({ zone: 'NL', energyType: 'biomass', volumeKwh: '30' }),
    );
    const prices = ['0.1200', '0.1000', '0.1500'];
    const before = Date.now();
    for (const [i, p] of prices.entries()) {
      const s = await buyer.propose({ listingId: listing.id, volumeKwh: String(i + 1), pricePerKwh: p });
      await seller.accept(s.id, 1);
    }
    const after = Date.now();
    // the trades may straddle a 15-minute boundary: then each bucket holds its own
    const from = new Date(Math.floor(before / 86_400_000) * 86_400_000).toISOString();
    const to = new Date(Math.floor(after / 86_400_000) * 86_400_000 + 86_400_000).toISOString();
    const candles = async (interval: string) =>
      (
        await buyer.rest<{ items: Record<string, string>[] }>(
          'GET',
          `/api/v1/market/candles?zone=NL&energyType=biomass&interval=${interval}&from=${from}&to=${to}`,
        )
      ).items;
    const day = await candles('1d');
    expect(day).toEqual([
      { start: from, open: '0.1200', high: '0.1500', low: '0.1000', close: '0.1500', volume: '6.000' },
    ]);
    // a `to` inside a candle gives the whole candle, as a `from` inside one does (here: `to` at the
    // start of the trades' 15 minutes, unless that is the day's start)
    const cut = new Date(Math.max(Math.floor(before / Q) * Q, Date.parse(from) + 1)).toISOString();
    const upToCut = await buyer.rest<{ items: Record<string, string>[] }>(
      'GET',
      `/api/v1/market/candles?zone=NL&energyType=biomass&interval=1d&from=${from}&to=${cut}`,
    );
    expect(upToCut.items).toEqual(day);
    if (Math.floor(before / Q) === Math.floor(after / Q)) {
      expect((await candles('15m')).map(({ start: _s, ...c }) => c)).toEqual(
        day.map(({ start: _s, ...c }) => c),
      );
      expect((await candles('1h')).map(({ start: _s, ...c }) => c)).toEqual(
        day.map(({ start: _s, ...c }) => c),
      );
    }
    // the summary: VWAP (1 x 0.12 + 2 x 0.10 + 3 x 0.15) / 6 = 0.128333... -> 0.1283; the listing
    // still offers the rest at its price
    const summary = await buyer.rest<{ items: unknown[] }>(
      'GET',
      '/api/v1/market/summary?zone=nl&energyType=biomass',
    );
    expect(summary.items).toEqual([
      {
        zone: 'NL',
        energyType: 'biomass',
        lastPrice: '0.1500',
        vwap24h: '0.1283',
        volume24hKwh: '6.000',
        trades24h: 3,
        bestSupplyPrice: listing.pricePerKwh,
        bestDemandPrice: null,
      },
    ]);
    // another market's candles do not have them
    const none = await buyer.rest<{ items: unknown[] }>(
      'GET',
      `/api/v1/market/candles?zone=NL&energyType=solar&interval=1d&from=${from}&to=${to}`,
    );
    expect(none.items).toEqual([]);
    for (const t of [seller, buyer]) t.close();
  });

  test('accepts of many listings on two nodes at once: the rollup equals the tape', async () => {
    const sellers = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => trader((i % 2 ? nodes.b : nodes.a).url, `rs${i}`)),
    );
    const buyers = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => trader((i % 2 ? nodes.a : nodes.b).url, `rb${i}`)),
    );
    const listings = await Promise.all(
      sellers.map((s) => s.createListing(listingInput({ energyType: 'geothermal', volumeKwh: '50' }))),
    );
    const swaps = await Promise.all(
      listings.flatMap((l, i) =>
        buyers.map((b, j) =>
          b.propose({ listingId: l.id, volumeKwh: String(1 + ((i + j) % 4)), pricePerKwh: `0.1${i}${j}` }),
        ),
      ),
    );
    await Promise.all(
      swaps.map((s) => sellers[listings.findIndex((l) => l.id === s.listingId)]!.accept(s.id, 1)),
    );
    const [drift] = await nodes.a.hub.db!.sequelize.query<{
      tape: string;
      rollup: string;
      n: string;
      trades: string;
    }>(
      `SELECT (SELECT sum(volume_wh) FROM market_trades WHERE energy_type = 'geothermal')::text AS tape,
              (SELECT sum(volume_wh) FROM market_candles WHERE energy_type = 'geothermal')::text AS rollup,
              (SELECT count(*) FROM market_trades WHERE energy_type = 'geothermal')::text AS n,
              (SELECT sum(trades) FROM market_candles WHERE energy_type = 'geothermal')::text AS trades`,
      { type: QueryTypes.SELECT },
    );
    expect(drift!.n).toBe('36');
    expect({ volume: drift!.rollup, trades: drift!.trades }).toEqual({
      volume: drift!.tape,
      trades: drift!.n,
    });
    for (const t of [...sellers, ...buyers]) t.close();
  });

  test('bad queries are VALIDATION_FAILED at their field', async () => {
    await expect(
      (await trader(nodes.a.url, 'summary-asker', false)).rest(
        'GET',
        '/api/v1/market/summary?energyType=coal',
      ),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [expect.objectContaining({ path: 'energyType' })] },
    });
    const someone = await trader(nodes.a.url, 'candle-asker', false);
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const base = `zone=NL&energyType=wind&from=${iso(now - 86_400_000)}&to=${iso(now)}`;
    for (const [query, path] of [
      [`${base}&interval=5m`, 'interval'],
      [`zone=NL&energyType=wind&interval=1h&from=${iso(now)}&to=${iso(now - 1)}`, 'to'],
      [`zone=NL&energyType=wind&interval=15m&from=${iso(now - 8 * 86_400_000)}&to=${iso(now)}`, 'to'],
      [`energyType=wind&interval=1h&from=${iso(now - 1000)}&to=${iso(now)}`, 'zone'],
      [`${base}&interval=1h&cursor=x`, ''],
    ] as const) {
      await expect(someone.rest('GET', `/api/v1/market/candles?${query}`)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path })] },
      });
    }
  });
});
