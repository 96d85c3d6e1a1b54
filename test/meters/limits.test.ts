// Per-slot trading limits (PROTOCOL-MARKET.md, "Meters and trading limits") under concurrency, on
// two nodes over one PostgreSQL and one Redis: accepts of different listings of one meter, on both
// nodes at once, never take its contracted volume over its limit in any slot; a hot listing's
// accepts, grouped on one node, stop at its owner's limit inside the group. After each race the
// ledger is checked against the trades themselves.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { Listing, Swap } from '../../src/client/index.js';
import { HubClient, HubClientError } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, type TestTrader, trader, withMeter } from '../support/traders.js';

const ready = (await postgresAvailable('meter limits')) && (await redisAvailable('meter limits'));

const HOUR = 3_600_000;
const METRICS_TOKEN = 'metrics-token-of-the-limits-test';
/** the start of the hour `hours` after the next whole hour two days from now */
function slot(hours: number): Date {
  const t = new Date(Date.now() + 48 * HOUR);
  t.setUTCMinutes(0, 0, 0);
  return new Date(t.getTime() + hours * HOUR);
}
const window = (from: number, to: number) => ({
  deliveryStart: slot(from).toISOString(),
  deliveryEnd: slot(to).toISOString(),
});

/** The same trader, logged in again and connected to the hub at `url`, naming the same meter. */
async function elsewhere(t: TestTrader, url: string): Promise<TestTrader> {
  const other = await withMeter(await HubClient.login(url, t.user.email, PASSWORD), { id: t.meterId });
  await other.connect();
  return other;
}

/** Every answer of `runs`, settled: the value, or the error code. */
async function settle<T>(runs: Promise<T>[]): Promise<(T | string)[]> {
  const out = await Promise.allSettled(runs);
  return out.map((r) => {
    if (r.status === 'fulfilled') return r.value;
    if (r.reason instanceof HubClientError) return r.reason.code;
    throw r.reason;
  });
}

describe.skipIf(!ready)('per-slot limits on two nodes', () => {
  const nodes = twoNodes({ a: { METRICS_TOKEN } });
  const node = (i: number) => (i % 2 === 0 ? nodes.a : nodes.b);

  /**
   * The ledger (meter_slots) against the trades: for every meter and slot, the contracted volume
   * is the sum of its accepted trades' flat shares (computed here in SQL, independently of the
   * hub's code) and within `limitWh` when given for that meter.
   */
  async function checkLedger(limits: Map<string, { exportWh: bigint; importWh: bigint }>) {
    const rows = await nodes.a.hub.db!.sequelize.query<{
      meter_id: string;
      direction: string;
      slot_start: Date;
      ledger: string;
      trades: string | null;
    }>(
      `WITH shares AS (
         SELECT m.meter_id, m.direction, l.delivery_start + (k - 1) * interval '1 hour' AS slot_start,
           s.volume_wh / n + CASE WHEN k <= s.volume_wh % n THEN 1 ELSE 0 END AS wh
         FROM swaps s JOIN listings l ON l.id = s.listing_id
         CROSS JOIN LATERAL (VALUES (s.seller_meter_id, 'export'), (s.buyer_meter_id, 'import')) AS m(meter_id, direction)
         CROSS JOIN LATERAL (SELECT (extract(epoch FROM l.delivery_end - l.delivery_start) / 3600)::int AS n) c
         CROSS JOIN LATERAL generate_series(1, c.n) AS k
         WHERE s.status = 'accepted')
       SELECT ms.meter_id, ms.direction, ms.slot_start, ms.contracted_wh::text AS ledger,
         (SELECT sum(wh)::text FROM shares sh WHERE sh.meter_id = ms.meter_id AND sh.direction = ms.direction
            AND sh.slot_start = ms.slot_start) AS trades
       FROM meter_slots ms`,
      { type: QueryTypes.SELECT },
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect({ ...r, ledger: BigInt(r.ledger) }).toEqual({ ...r, ledger: BigInt(r.trades ?? '0') });
      const limit = limits.get(r.meter_id);
      if (limit) {
        expect(BigInt(r.ledger)).toBeLessThanOrEqual(
          r.direction === 'export' ? limit.exportWh : limit.importWh,
        );
      }
    }
    return rows;
  }

  test("accepts of different listings of one buyer's meter, on two nodes at once, stop at its limit", async () => {
    // the buyer imports at most 20 kW x 1 h x 0.5 = 10.000 kWh per slot
    const buyer = await trader(nodes.a.url, 'buyer', true, { importCapacityKw: '20', exportCapacityKw: '0' });
    const sellers = await Promise.all(Array.from({ length: 8 }, (_, i) => trader(node(i).url, `seller${i}`)));
    const listings = await Promise.all(
      sellers.map((s) => s.createListing(listingInput({ volumeKwh: '5', ...window(0, 1) }))),
    );
    // 8 x 3 kWh = 24 kWh proposed for one slot; each alone is within the limit
    const swaps = await Promise.all(
      listings.map((l) => buyer.propose({ listingId: l.id, volumeKwh: '3', pricePerKwh: '0.12' })),
    );
    const answers = await settle(swaps.map((s, i) => sellers[i]!.accept(s.id, 1)));
    const accepted = answers.filter((r): r is Swap => typeof r !== 'string');
    // 3 x 3 = 9 fits, a fourth would be 12
    expect(accepted).toHaveLength(3);
    expect(answers.filter((r) => r === 'LIMIT_EXCEEDED')).toHaveLength(5);
    await checkLedger(new Map([[buyer.meterId, { exportWh: 0n, importWh: 10_000n }]]));

    // a refused accept changed nothing: its swap is open, its listing whole
    const refused = swaps.filter((_s, i) => answers[i] === 'LIMIT_EXCEEDED');
    for (const s of refused) {
      const seen = await buyer.rest<Swap>('GET', `/api/v1/swaps/${s.id}`);
      expect(seen).toMatchObject({ status: 'open', round: 1 });
      const l = await buyer.rest<Listing>('GET', `/api/v1/listings/${s.listingId}`);
      expect(l.availableKwh).toBe('5.000');
    }
    // the meter's slots show it
    const view = await buyer.rest<{
      items: { start: string; importContractedKwh: string; importLimitKwh: string }[];
    }>(
      'GET',
      `/api/v1/meters/${buyer.meterId}/slots?from=${slot(0).toISOString()}&to=${slot(2).toISOString()}`,
    );
    expect(view.items).toEqual([
      expect.objectContaining({
        start: slot(0).toISOString(),
        importLimitKwh: '10.000',
        importContractedKwh: '9.000',
      }),
      expect.objectContaining({
        start: slot(1).toISOString(),
        importLimitKwh: '10.000',
        importContractedKwh: '0.000',
      }),
    ]);
    // the refusal says where and by how much
    const again = await sellers[answers.indexOf('LIMIT_EXCEEDED')]!.accept(refused[0]!.id, 1).catch(
      (e: unknown) => e,
    );
    expect((again as HubClientError).details).toEqual({
      meterId: buyer.meterId,
      direction: 'import',
      slotStart: slot(0).toISOString(),
      limitKwh: '10.000',
      contractedKwh: '9.000',
      requestedKwh: '3.000',
    });
    for (const t of [buyer, ...sellers]) t.close();
  });

  test("a seller's overlapping multi-slot listings, accepted on two nodes at once, respect every slot", async () => {
    // the seller exports at most 12 kW x 1 h x 0.5 = 6.000 kWh per slot
    const seller = await trader(nodes.a.url, 'seller', true, {
      exportCapacityKw: '12',
      importCapacityKw: '0',
    });
    // windows over slots 0-2, 1-3, 2-4 and 0-4: they overlap in slot 2 most
    const windows = [window(0, 3), window(1, 4), window(2, 5), window(0, 5), window(2, 3), window(1, 2)];
    // each listing, and its one trade, is 3 kWh per slot: 9 kWh over 3 slots, 15 over 5 ...
    const volumes = ['9', '9', '9', '15', '3', '3'];
    const listings = await Promise.all(
      windows.map((w, i) => seller.createListing(listingInput({ volumeKwh: volumes[i]!, ...w }))),
    );
    const buyers = await Promise.all(listings.map((_l, i) => trader(node(i + 1).url, `buyer${i}`)));
    const swaps = await Promise.all(
      listings.map((l, i) =>
        buyers[i]!.propose({ listingId: l.id, volumeKwh: volumes[i]!, pricePerKwh: '0.1' }),
      ),
    );
    // the seller accepts all six at once, through both nodes
    const sellerOnB = await elsewhere(seller, nodes.b.url);
    const answers = await settle(swaps.map((s, i) => (i % 2 ? sellerOnB : seller).accept(s.id, 1)));
    expect(answers.every((r) => typeof r !== 'string' || r === 'LIMIT_EXCEEDED')).toBe(true);
    // slot 2 is in 4 windows (0-3, 1-4, 2-5, 0-5) and in 2-3: at most 2 of them (2 x 3 kWh = 6) fit
    const rows = await checkLedger(new Map([[seller.meterId, { exportWh: 6_000n, importWh: 0n }]]));
    const mine = rows.filter((r) => r.meter_id === seller.meterId);
    expect(mine.some((r) => BigInt(r.ledger) === 6_000n)).toBe(true);
    for (const t of [seller, sellerOnB, ...buyers]) t.close();
  });

  test("a hot listing's grouped accepts stop at its owner's export limit inside the group", async () => {
    // 20 kW -> 10.000 kWh per slot; another listing of the same meter already took 4 kWh of it
    const seller = await trader(nodes.a.url, 'hot-seller', true, {
      exportCapacityKw: '20',
      importCapacityKw: '0',
    });
    const first = await seller.createListing(listingInput({ volumeKwh: '4', ...window(7, 8) }));
    const early = await trader(nodes.a.url, 'early');
    const e = await early.propose({ listingId: first.id, volumeKwh: '4', pricePerKwh: '0.1' });
    await seller.accept(e.id, 1);
    const hot = await seller.createListing(listingInput({ volumeKwh: '10', ...window(7, 8) }));
    const buyers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => trader(nodes.a.url, `hot-buyer${i}`)),
    );
    const swaps = await Promise.all(
      buyers.map((t) => t.propose({ listingId: hot.id, volumeKwh: '0.25', pricePerKwh: '0.1' })),
    );
    // all through node A, at once: they queue behind the first and commit in groups
    const answers = await settle(swaps.map((s) => seller.accept(s.id, 1)));
    // 6 kWh of the limit is left: 24 x 0.25
    expect(answers.filter((r) => typeof r !== 'string')).toHaveLength(24);
    expect(answers.filter((r) => r === 'LIMIT_EXCEEDED')).toHaveLength(16);
    const after = await seller.rest<Listing>('GET', `/api/v1/listings/${hot.id}`);
    expect(after).toMatchObject({ availableKwh: '4.000', status: 'active' });
    // the accepts that waited on the listing were committed in groups, the limit checked inside them
    const metrics = await (
      await fetch(`${nodes.a.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    expect(Number(metrics.match(/^hub_accept_group_size_count (\d+)/m)?.[1] ?? 0)).toBeGreaterThan(0);
    await checkLedger(new Map([[seller.meterId, { exportWh: 10_000n, importWh: 0n }]]));
    for (const t of [seller, early, ...buyers]) t.close();
  });
});

describe.skipIf(!ready)('retiring a meter on two nodes', () => {
  const nodes = twoNodes();

  test('INVALID_STATE while it has an active listing, an open swap or a trade; free once it has none', async () => {
    const owner = await trader(nodes.a.url, 'owner');
    const listing = await owner.createListing(listingInput());
    const retire = () => owner.rest('DELETE', `/api/v1/meters/${owner.meterId}`);
    await expect(retire()).rejects.toMatchObject({
      code: 'INVALID_STATE',
      details: { reason: 'active_listings' },
    });
    const buyer = await trader(nodes.b.url, 'buyer');
    const s = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    // the buyer's meter is named by an open proposal: withdraw or reject it first
    await expect(buyer.rest('DELETE', `/api/v1/meters/${buyer.meterId}`)).rejects.toMatchObject({
      code: 'INVALID_STATE',
      details: { reason: 'open_swaps' },
    });
    await owner.accept(s.id, 1);
    await owner.cancelListing(listing.id);
    await expect(retire()).rejects.toMatchObject({
      code: 'INVALID_STATE',
      details: { reason: 'unsettled_trades' },
    });
    // a meter with neither retires, and cannot be named any more
    const spare = await owner.rest<{ id: string }>('POST', '/api/v1/meters', {
      externalId: `SPARE-${Date.now()}`,
      zone: 'DE-North',
      exportCapacityKw: '5',
      importCapacityKw: '5',
    });
    expect(await owner.rest('DELETE', `/api/v1/meters/${spare.id}`)).toMatchObject({ status: 'retired' });
    await expect(owner.createListing(listingInput({ meterId: spare.id }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'meterId' }] },
    });
    owner.close();
    buyer.close();
  });

  test('a retirement racing listings on the other node: never an active listing on a retired meter', async () => {
    for (let round = 0; round < 6; round++) {
      // the retirement through node A, the listings through node B
      const owner = await trader(nodes.a.url, `racer${round}`);
      const onB = await elsewhere(owner, nodes.b.url);
      const [retirement, ...listings] = await settle<{ status: string } | Listing>([
        owner.rest<{ status: string }>('DELETE', `/api/v1/meters/${owner.meterId}`),
        ...Array.from({ length: 4 }, () => onB.createListing(listingInput())),
      ]);
      const retired = retirement!;
      const made = listings.filter((l): l is Listing => typeof l !== 'string');
      if (typeof retired !== 'string') {
        expect(retired.status).toBe('retired');
        // the listings that committed before the retirement would have stopped it
        expect(made).toEqual([]);
      } else {
        expect(retired).toBe('INVALID_STATE');
      }
      const [row] = await nodes.a.hub.db!.sequelize.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM listings l JOIN meters m ON m.id = l.meter_id
         WHERE m.id = $1 AND m.status = 'retired' AND l.status = 'active'`,
        { bind: [owner.meterId], type: QueryTypes.SELECT },
      );
      expect(row!.n).toBe('0');
      owner.close();
      onB.close();
    }
  });
});
