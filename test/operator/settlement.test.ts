// Settlement end to end on two nodes over one PostgreSQL and Redis (both sweep): worked examples
// computed by hand (a two-trade seller meter with a shortfall under pro-rata and fifo; both methods
// on one trade; a curtailment at factor 0.5, then settlement), each slot settled once across the
// cluster, readings frozen once settled, the operator's report and the traders' statements.
//
// A trade's slot cannot end during a test (listings are posted ahead of their gate), so once the
// trades are made the test moves their delivery into the past in the database, as the clock would.
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { EventEnvelope, Trade } from '../../src/client/index.js';
import { until } from '../support/cluster.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

const ready = (await postgresAvailable('settlement')) && (await redisAvailable('settlement'));
const HOUR = 3_600_000;
const OPERATOR = 'grid.operator@example.test';

const config = await marketConfigFile({
  zones: [
    { id: 'PRO' },
    { id: 'CURTAIL' },
    { id: 'MISSING' },
    { id: 'FIFO', settlement: { allocation: 'fifo' } },
    { id: 'DEV', settlement: { method: 'deviation' } },
    // a zone that waits 10 minutes for readings, trading into one that waits 4 hours
    { id: 'MULTI', slotMinutes: 15 },
    { id: 'QUICK', settlement: { delayMinutes: 10 } },
    { id: 'SLOW', settlement: { delayMinutes: 240 } },
  ],
  interZoneWheelingPerKwh: { 'QUICK->SLOW': '0.0100' },
});

describe.skipIf(!ready)('settlement on two nodes', () => {
  const env = { MARKET_CONFIG: config, OPERATOR_EMAILS: OPERATOR, SWEEP_INTERVAL_MS: '100' };
  // B answers statements of one line at most
  const nodes = twoNodes({ a: env, b: { ...env, STATEMENT_MAX_LINES: '1' } });

  async function operator(): Promise<TestTrader> {
    const { HubClient } = await import('../../src/client/index.js');
    const { PASSWORD } = await import('../support/client.js');
    const { withMeter } = await import('../support/traders.js');
    let client: InstanceType<typeof HubClient>;
    try {
      client = await HubClient.register(nodes.a.url, {
        email: OPERATOR,
        password: PASSWORD,
        displayName: 'Grid operator',
      });
    } catch {
      client = await HubClient.login(nodes.a.url, OPERATOR, PASSWORD);
    }
    return withMeter(client, { zone: 'PRO' });
  }

  /** Moves the listings of `swapIds` and their trades' slots `hours` into the past. */
  async function moveIntoPast(swapIds: string[], hours: number) {
    const q = (sql: string) =>
      nodes.a.hub.db!.sequelize.query(sql, { bind: [swapIds, hours], type: QueryTypes.UPDATE });
    await q(`UPDATE listings SET delivery_start = delivery_start - $2 * interval '1 hour',
               delivery_end = delivery_end - $2 * interval '1 hour', gate_closes_at = gate_closes_at - $2 * interval '1 hour'
             WHERE id IN (SELECT listing_id FROM swaps WHERE id = ANY($1::uuid[]))`);
    await q(
      `UPDATE trade_slots SET slot_start = slot_start - $2 * interval '1 hour' WHERE swap_id = ANY($1::uuid[])`,
    );
  }

  /**
   * The hours that move a one-hour window starting at `start` to have ended up to an hour ago (a
   * minute at least): at least an hour before its settlement deadline (120 minutes after the end),
   * so it waits for the readings; the test that wants the deadline passed adds hours. Each test
   * trades in a zone of its own, so no two tests' trades share a zone's slot.
   */
  const hoursToPast = (start: string) => Math.ceil((Date.parse(start) + HOUR - Date.now() + 60_000) / HOUR);

  async function upload(
    op: TestTrader,
    readings: { meter: TestTrader; slotStart: string; exported: string; imported: string }[],
  ) {
    return op.rest<{ accepted: number }>('POST', '/api/v1/operator/readings', {
      readings: readings.map((r) => ({
        meterExternalId: r.meter.meterExternalId,
        slotStart: r.slotStart,
        exportedKwh: r.exported,
        importedKwh: r.imported,
      })),
    });
  }

  const settledOf = (e: EventEnvelope) => e.data as Trade;

  test('a seller meter with two trades and a shortfall, pro-rata: 8 of 10 kWh shared 4.8 / 3.2', async () => {
    const op = await operator();
    const seller = await trader(nodes.a.url, 'seller', true, { zone: 'PRO' });
    const b1 = await trader(nodes.b.url, 'b1', true, { zone: 'PRO' });
    const b2 = await trader(nodes.b.url, 'b2', true, { zone: 'PRO' });
    const [sellerLog, b1Log, b2Log] = [recorder(seller), recorder(b1), recorder(b2)];
    const listing = await seller.createListing(
      listingInput({ zone: 'PRO', volumeKwh: '10', pricePerKwh: '0.1' }),
    );
    const s1 = await b1.propose({ listingId: listing.id, volumeKwh: '6', pricePerKwh: '0.1' });
    const s2 = await b2.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1' });
    await seller.accept(s1.id, 1);
    await seller.accept(s2.id, 1);

    const hours = hoursToPast(listing.deliveryStart);
    await moveIntoPast([s1.id, s2.id], hours);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    // the seller metered 8 kWh; each buyer took its whole volume
    await upload(op, [
      { meter: seller, slotStart, exported: '8', imported: '0' },
      { meter: b1, slotStart, exported: '0', imported: '6' },
      { meter: b2, slotStart, exported: '0', imported: '4' },
    ]);

    const t1 = settledOf(await b1Log.next('trade.settled'));
    const t2 = settledOf(await b2Log.next('trade.settled'));
    // T1: 6 x 8/10 = 4.8 kWh. Energy 0.48; buyer wheeling 0.12; seller wheeling 0.144 -> 0.14;
    // platform 0.0048 -> 0.00: the buyer pays 0.60, the seller receives 0.34, the grid 0.26
    expect(t1).toMatchObject({
      swapId: s1.id,
      side: 'buy',
      status: 'settled',
      slots: [
        {
          start: slotStart,
          volumeKwh: '6.000',
          curtailedKwh: '0.000',
          contractedKwh: '6.000',
          sellerAllocatedKwh: '4.800',
          buyerAllocatedKwh: '6.000',
          settledKwh: '4.800',
          status: 'settled',
        },
      ],
      settlement: {
        energyNotional: '0.48',
        buyerPays: '0.60',
        sellerReceives: '0.34',
        gridOperatorReceives: '0.26',
        platformReceives: '0.00',
        deviation: { sellerCharge: '0.00', buyerCredit: '0.00' },
      },
    });
    // T2: 4 x 8/10 = 3.2 kWh. Energy 0.32; buyer wheeling 0.08; seller wheeling 0.096 -> 0.10
    expect(t2.settlement).toMatchObject({
      energyNotional: '0.32',
      buyerPays: '0.40',
      sellerReceives: '0.22',
    });
    expect(t2.slots[0]!.settledKwh).toBe('3.200');
    // the seller is told of each, from its side
    const seen = [
      settledOf(await sellerLog.next('trade.settled')),
      settledOf(await sellerLog.next('trade.settled')),
    ];
    expect(seen.map((t) => [t.swapId, t.side]).sort()).toEqual(
      [
        [s1.id, 'sell'],
        [s2.id, 'sell'],
      ].sort(),
    );

    // settled once across both nodes; the flows sum to zero
    const rows = await nodes.a.hub.db!.sequelize.query<{ n: string; sum: string }>(
      `SELECT count(*)::text AS n, sum(buyers_pay - sellers_receive - grid_operator_receives - platform_receives)::text AS sum
       FROM slot_settlements WHERE zone = 'PRO' AND slot_start = $1`,
      { bind: [slotStart], type: QueryTypes.SELECT },
    );
    expect(rows).toEqual([{ n: '1', sum: '0' }]);
    const report = await op.rest<{ items: { sum: string; settledKwh: string; buyersPay: string }[] }>(
      'GET',
      `/api/v1/operator/settlements?zone=pro&from=${slotStart}&to=${new Date(Date.parse(slotStart) + HOUR).toISOString()}`,
    );
    expect(report.items).toEqual([
      expect.objectContaining({ settledKwh: '8.000', buyersPay: '1.00', sum: '0.00' }),
    ]);
    // a trader on an operator route
    await expect(
      seller.rest('GET', `/api/v1/operator/settlements?zone=PRO&from=${slotStart}&to=${slotStart}`),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });

    // the seller's statement: 8 kWh sold, 0.34 + 0.22 received, 0.14 + 0.10 in fees
    const st = await seller.rest<{ totals: Record<string, string>; items: unknown[] }>(
      'GET',
      `/api/v1/statements?from=${slotStart}&to=${new Date(Date.parse(slotStart) + HOUR).toISOString()}`,
    );
    expect(st.items).toHaveLength(2);
    expect(st.totals).toEqual({
      boughtKwh: '0.000',
      soldKwh: '8.000',
      paid: '0.00',
      received: '0.56',
      fees: '0.24',
      deviations: '0.00',
    });

    // a node that answers statements of one line at most refuses this two-line period whole,
    // rather than a first line with totals over it alone
    const { HubClient } = await import('../../src/client/index.js');
    const onB = new HubClient(nodes.b.url, seller.session);
    await expect(
      onB.rest(
        'GET',
        `/api/v1/statements?from=${slotStart}&to=${new Date(Date.parse(slotStart) + HOUR).toISOString()}`,
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { max: 1, issues: [{ path: 'to' }] } });

    // a settled slot's readings can no longer be replaced
    await expect(
      upload(op, [{ meter: seller, slotStart, exported: '10', imported: '0' }]),
    ).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    // and each trade was settled by one node only: one trade.settled per party and trade
    await new Promise((r) => setTimeout(r, 500));
    expect(b1Log.seen.filter((e) => e.type === 'trade.settled')).toHaveLength(1);
    for (const t of [op, seller, b1, b2]) t.close();
  });

  /** A listing of `kwh` in `zone` with one buyer per volume, all accepted in order: the swaps. */
  async function trades(zone: string, kwh: string, volumes: string[], sellerNode = nodes.a) {
    const seller = await trader(sellerNode.url, `seller-${zone}`, true, { zone });
    const buyers = await Promise.all(
      volumes.map((_v, i) => trader(nodes.b.url, `buyer-${zone}-${i}`, true, { zone })),
    );
    const listing = await seller.createListing(listingInput({ zone, volumeKwh: kwh, pricePerKwh: '0.1' }));
    const swaps = [];
    for (const [i, volumeKwh] of volumes.entries()) {
      const s = await buyers[i]!.propose({ listingId: listing.id, volumeKwh, pricePerKwh: '0.1' });
      await seller.accept(s.id, 1);
      swaps.push(s);
    }
    return { seller, buyers, listing, swaps };
  }

  test('fifo: the seller short by 2 kWh, the first accepted trade keeps its 6, the second gets 2', async () => {
    const op = await operator();
    const { seller, buyers, listing, swaps } = await trades('FIFO', '10', ['6', '4']);
    const logs = buyers.map(recorder);
    const hours = hoursToPast(listing.deliveryStart);
    await moveIntoPast(
      swaps.map((s) => s.id),
      hours,
    );
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    await upload(op, [
      { meter: seller, slotStart, exported: '8', imported: '0' },
      { meter: buyers[0]!, slotStart, exported: '0', imported: '6' },
      { meter: buyers[1]!, slotStart, exported: '0', imported: '4' },
    ]);
    const [t1, t2] = [
      settledOf(await logs[0]!.next('trade.settled')),
      settledOf(await logs[1]!.next('trade.settled')),
    ];
    expect(t1!.slots[0]).toMatchObject({ sellerAllocatedKwh: '6.000', settledKwh: '6.000' });
    expect(t2!.slots[0]).toMatchObject({ sellerAllocatedKwh: '2.000', settledKwh: '2.000' });
    // 6 kWh: energy 0.60, buyer wheeling 0.15, platform 0.006 -> 0.01: pays 0.76
    expect(t1!.settlement).toMatchObject({ energyNotional: '0.60', buyerPays: '0.76' });
    for (const t of [op, seller, ...buyers]) t.close();
  });

  test('deviation: 10 kWh contracted, the seller metered 8 and the buyer 9', async () => {
    const op = await operator();
    const { seller, buyers, listing, swaps } = await trades('DEV', '10', ['10']);
    const log = recorder(buyers[0]!);
    const hours = hoursToPast(listing.deliveryStart);
    await moveIntoPast([swaps[0]!.id], hours);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    await upload(op, [
      { meter: seller, slotStart, exported: '8', imported: '0' },
      { meter: buyers[0]!, slotStart, exported: '0', imported: '9' },
    ]);
    const t = settledOf(await log.next('trade.settled'));
    // energy and fees on 10 kWh: 1.00, buyer 1.26, seller 0.69; the seller short 2 kWh x 0.30 =
    // 0.60, the buyer credited 1 kWh x 0.05 = 0.05: 1.21 = 0.09 + 1.10 + 0.02
    expect(t.settlement).toEqual({
      energyNotional: '1.00',
      buyerPays: '1.21',
      sellerReceives: '0.09',
      gridOperatorReceives: '1.10',
      platformReceives: '0.02',
      deviation: { sellerCharge: '0.60', buyerCredit: '0.05' },
    });
    expect(t.slots[0]).toMatchObject({
      sellerAllocatedKwh: '8.000',
      buyerAllocatedKwh: '9.000',
      settledKwh: '8.000',
    });
    for (const x of [op, seller, ...buyers]) x.close();
  });

  test('a curtailment at factor 0.5 before delivery, then settlement on what is left', async () => {
    const op = await operator();
    const { seller, buyers, listing, swaps } = await trades('CURTAIL', '10', ['10']);
    const [sellerLog, buyerLog] = [recorder(seller), recorder(buyers[0]!)];
    const window = { from: listing.deliveryStart, to: listing.deliveryEnd };
    const answer = await op.rest<{ affectedTrades: number }>('POST', '/api/v1/operator/curtailments', {
      zone: 'CURTAIL',
      meterExternalId: seller.meterExternalId,
      ...window,
      reason: 'CONGESTION',
      factor: '0.5',
    });
    expect(answer).toEqual({ affectedTrades: 1 });
    const curtailed = settledOf(await buyerLog.next('trade.curtailed'));
    expect(curtailed.slots[0]).toMatchObject({
      volumeKwh: '10.000',
      curtailedKwh: '5.000',
      contractedKwh: '5.000',
    });
    // the fees follow the 5 kWh left: energy 0.50, buyer wheeling 0.125 -> 0.12, platform 0.005 -> 0.00
    expect(curtailed.fees).toMatchObject({ energyNotional: '0.50', buyerPays: '0.62' });
    expect(settledOf(await sellerLog.next('trade.curtailed')).side).toBe('sell');
    // the limits are freed: the seller's meter has 5 kWh contracted in that slot
    const slots = await seller.rest<{ items: { exportContractedKwh: string }[] }>(
      'GET',
      `/api/v1/meters/${seller.meterId}/slots?from=${window.from}&to=${window.to}`,
    );
    expect(slots.items[0]!.exportContractedKwh).toBe('5.000');

    const hours = hoursToPast(listing.deliveryStart);
    await moveIntoPast([swaps[0]!.id], hours);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    await upload(op, [
      { meter: seller, slotStart, exported: '5', imported: '0' },
      { meter: buyers[0]!, slotStart, exported: '0', imported: '5' },
    ]);
    const t = settledOf(await buyerLog.next('trade.settled'));
    expect(t.slots[0]).toMatchObject({ contractedKwh: '5.000', settledKwh: '5.000', status: 'settled' });
    expect(t.settlement).toMatchObject({ energyNotional: '0.50', buyerPays: '0.62' });
    // a curtailment over slots that have all started is refused, and changes nothing
    await expect(
      op.rest('POST', '/api/v1/operator/curtailments', {
        zone: 'CURTAIL',
        from: slotStart,
        to: new Date(Date.parse(slotStart) + HOUR).toISOString(),
        reason: 'OTHER',
        factor: 0,
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'to' }] } });
    for (const x of [op, seller, ...buyers]) x.close();
  });

  test('the two slots of a trade settled by the two nodes at the same moment: each party is told once', async () => {
    const op = await operator();
    const seller = await trader(nodes.a.url, 'seller-MULTI', true, { zone: 'MULTI' });
    const buyer = await trader(nodes.b.url, 'buyer-MULTI', true, { zone: 'MULTI' });
    const start = Date.parse(listingInput().deliveryStart);
    const listing = await seller.createListing(
      listingInput({
        zone: 'MULTI',
        volumeKwh: '1',
        pricePerKwh: '0.1',
        deliveryEnd: new Date(start + HOUR / 2).toISOString(),
      }),
    );
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await seller.accept(swap.id, 1);
    const log = recorder(buyer);
    const hours = hoursToPast(listing.deliveryStart);
    await moveIntoPast([swap.id], hours);
    const slots = [0, 1].map(
      (q) => new Date(Date.parse(listing.deliveryStart) - hours * HOUR + q * 15 * 60_000),
    );
    // Both slots' totals rows, inserted and not yet committed: each node's settlement of one slot
    // (node A takes one, node B, finding it taken, the other) stops at its write of that row, so
    // the two go on from the same moment, as two busy nodes would.
    const hold = new pg.Client({ connectionString: nodes.a.database.url });
    await hold.connect();
    try {
      await hold.query('BEGIN');
      await hold.query(
        `INSERT INTO slot_settlements (zone, slot_start, slot_minutes, settled_at, trades, settled_wh, buyers_pay,
           sellers_receive, grid_operator_receives, platform_receives)
         SELECT 'MULTI', s, 15, now(), 0, 0, 0, 0, 0, 0 FROM unnest($1::timestamptz[]) AS s`,
        [slots],
      );
      const readings = slots.flatMap((slot) => [
        { meter: seller, slotStart: slot.toISOString(), exported: '0.5', imported: '0' },
        { meter: buyer, slotStart: slot.toISOString(), exported: '0', imported: '0.5' },
      ]);
      expect(await upload(op, readings)).toEqual({ accepted: 4 });
      // (asked on a connection of its own: inside a transaction the statistics views keep the first
      // answer they gave)
      const waiting = async () => {
        const [row] = await nodes.a.hub.db!.sql.rows<{ n: string }>(
          `SELECT count(*)::text AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%slot_settlements%'`,
        );
        return Number(row!.n);
      };
      await until(async () => (await waiting()) === 2, 20_000, 'both slots settling at once');
      await hold.query('COMMIT');
    } finally {
      await hold.end();
    }
    // each saw the other's slot unsettled, and neither told, before the fix: nothing would come
    await until(() => log.seen.some((e) => e.type === 'trade.settled'), 15_000, 'trade.settled');
    const t = settledOf(await log.next('trade.settled'));
    expect(t.slots.map((x) => x.settledKwh)).toEqual(['0.500', '0.500']);
    await new Promise((r) => setTimeout(r, 500));
    expect(log.seen.filter((e) => e.type === 'trade.settled')).toHaveLength(1);
    for (const x of [op, seller, buyer]) x.close();
  });

  test("a meter of another zone keeps its own zone's time for its reading; the trade settles on it", async () => {
    const op = await operator();
    const seller = await trader(nodes.a.url, 'seller-QUICK', true, { zone: 'QUICK' });
    const buyer = await trader(nodes.b.url, 'buyer-SLOW', true, { zone: 'SLOW' });
    const listing = await seller.createListing(
      listingInput({ zone: 'QUICK', volumeKwh: '3', pricePerKwh: '0.1' }),
    );
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '3', pricePerKwh: '0.1' });
    await seller.accept(swap.id, 1);
    const log = recorder(buyer);
    // the slot ended 1 to 2 hours ago: past QUICK's 10 minutes, well inside SLOW's 4 hours
    const hours = hoursToPast(listing.deliveryStart) + 1;
    await moveIntoPast([swap.id], hours);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    // the sweeps (every 100 ms on both nodes) leave it: the buyer's reading may still come
    await new Promise((r) => setTimeout(r, 1500));
    expect(log.seen.filter((e) => e.type === 'trade.settled')).toEqual([]);
    // and it comes: accepted, not refused as settled, and the trade settles on it; the seller's,
    // missing past its own zone's time, counts as 0
    expect(await upload(op, [{ meter: buyer, slotStart, exported: '0', imported: '3' }])).toEqual({
      accepted: 1,
    });
    const t = settledOf(await log.next('trade.settled'));
    expect(t.slots[0]).toMatchObject({
      sellerAllocatedKwh: '0.000',
      buyerAllocatedKwh: '3.000',
      settledKwh: '0.000',
    });
    for (const x of [op, seller, buyer]) x.close();
  });

  test('readings missing at the deadline count as 0: nothing delivered, nothing paid', async () => {
    const { seller, buyers, listing, swaps } = await trades('MISSING', '3', ['3']);
    const log = recorder(buyers[0]!);
    // past the slot end plus the zone's 120-minute delay
    const hours = hoursToPast(listing.deliveryStart) + 3;
    await moveIntoPast([swaps[0]!.id], hours);
    const t = settledOf(await log.next('trade.settled'));
    expect(t.slots[0]).toMatchObject({
      sellerAllocatedKwh: '0.000',
      buyerAllocatedKwh: '0.000',
      settledKwh: '0.000',
    });
    expect(t.settlement).toMatchObject({ energyNotional: '0.00', buyerPays: '0.00', sellerReceives: '0.00' });
    const [row] = await nodes.a.hub.db!.sequelize.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM meter_readings WHERE meter_id = ANY($1::uuid[]) AND source = 'missing' AND settled_at IS NOT NULL`,
      { bind: [[seller.meterId, buyers[0]!.meterId]], type: QueryTypes.SELECT },
    );
    expect(row!.n).toBe('2');
    for (const x of [seller, ...buyers]) x.close();
  });
});
