// SIMULATE_METERS on a real hub: once a slot with a trade has ended, the hub writes its meters'
// readings (uploaded, scaled from the contracted volume by 0.8 to 1.05, the solar
// co-op's export along the sun) and its settlement sweep settles the trade, within seconds. A
// reading already there is never replaced, and every other meter of a trade gets one.
//
// The demo traders are registered here with the demo seed's emails (their shapes follow the owner)
// and meters of their own with `DEMO-` ids. A trade's slot cannot end during a test (listings are
// posted ahead of their gate), so the test moves its delivery into the past in the database, as
// the clock would: listings, trade slots and the meters' slot ledger.
import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type Trade } from '../../src/client/index.js';
import { readingFactors, scaleWh, simulateReadings } from '../../src/store/settlement/simulate-meters.js';
import { PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { listingInput, type TestTrader, trader, withMeter } from '../support/traders.js';

const ready = await postgresAvailable('simulate-meters');
const HOUR = 3_600_000;

describe('simulated readings (pure)', () => {
  test('every factor is within 0.8 to 1.05; the solar export follows the sun; the same inputs give the same factors', () => {
    const day = Date.parse('2026-06-01T00:00:00Z');
    for (const shape of ['solar', 'wind', 'factory', 'other'] as const) {
      for (let q = 0; q < 96; q++) {
        const f = readingFactors(shape, 'meter-1', new Date(day + q * 15 * 60_000));
        for (const v of [f.exportE4, f.importE4]) {
          expect(v).toBeGreaterThanOrEqual(8_000n);
          expect(v).toBeLessThanOrEqual(10_500n);
        }
      }
    }
    const at = (h: number) => readingFactors('solar', 'meter-1', new Date(day + h * HOUR)).exportE4;
    expect(at(3)).toBe(8_000n); // night: the floor
    expect(at(12)).toBeGreaterThan(at(8));
    expect(at(12)).toBeGreaterThan(10_000n);
    expect(readingFactors('wind', 'm', new Date(day))).toEqual(readingFactors('wind', 'm', new Date(day)));
    expect(scaleWh(10_000n, 8_765n)).toBe(8_765n);
    expect(scaleWh(3n, 8_500n)).toBe(3n); // 2.55 rounds to 3
  });
});

describe.skipIf(!ready)('SIMULATE_METERS on a hub', () => {
  let node: TestHub;
  const clients: HubClient[] = [];
  beforeAll(async () => {
    node = await startHub({
      env: { SIMULATE_METERS: 'true', SIMULATE_METERS_INTERVAL_MS: '200', SWEEP_INTERVAL_MS: '100' },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await node?.stop();
  });

  const query = <T extends object>(sql: string, bind: unknown[]): Promise<T[]> =>
    node.hub.db!.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  const update = (sql: string, bind: unknown[]) =>
    node.hub.db!.sequelize.query(sql, { bind, type: QueryTypes.UPDATE });

  /** A demo trader: the demo seed's email (its meter's shape) and a meter with a `DEMO-` id. */
  async function demoTrader(email: string): Promise<TestTrader> {
    const client = await HubClient.register(node.url, { email, password: PASSWORD, displayName: email });
    const meter = await client.rest<{ id: string; externalId: string }>('POST', '/api/v1/meters', {
      externalId: `DEMO-${randomBytes(6).toString('hex').toUpperCase()}`,
      zone: 'DE-North',
      exportCapacityKw: '1000000',
      importCapacityKw: '1000000',
    });
    const t = await withMeter(client, { id: meter.id });
    t.meterExternalId = meter.externalId;
    await client.connect();
    clients.push(client);
    return t;
  }

  /** Moves the listings of `swapIds`, their trade slots and the meters' ledger of those slots `hours` into the past. */
  async function moveIntoPast(swapIds: string[], meterIds: string[], slotStart: string, hours: number) {
    await update(
      `UPDATE listings SET delivery_start = delivery_start - $2 * interval '1 hour',
         delivery_end = delivery_end - $2 * interval '1 hour', gate_closes_at = gate_closes_at - $2 * interval '1 hour'
       WHERE id IN (SELECT listing_id FROM swaps WHERE id = ANY($1::uuid[]))`,
      [swapIds, hours],
    );
    await update(
      `UPDATE trade_slots SET slot_start = slot_start - $2 * interval '1 hour' WHERE swap_id = ANY($1::uuid[])`,
      [swapIds, hours],
    );
    await update(
      `UPDATE meter_slots SET slot_start = slot_start - $3 * interval '1 hour'
       WHERE meter_id = ANY($1::uuid[]) AND slot_start = $2`,
      [meterIds, slotStart, hours],
    );
  }

  /** `fn`'s answer once `done` holds, polling every 100 ms for up to `ms`. */
  async function until<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (done(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  interface Reading {
    meter_id: string;
    exported_wh: string;
    imported_wh: string;
    source: string;
    uploaded_at: Date;
    settled_at: Date | null;
  }
  const readingsOf = (meterIds: string[], slotStart: string) =>
    query<Reading>(
      `SELECT meter_id, exported_wh::text, imported_wh::text, source, uploaded_at, settled_at FROM meter_readings
       WHERE meter_id = ANY($1::uuid[]) AND slot_start = $2`,
      [meterIds, slotStart],
    );

  /**
   * The hours from now to just after the end of a one-hour window starting at `start`, and one more
   * per test so no two tests share a slot: the first test's slot ended under an hour ago, the
   * second's one to two hours ago, both before their deadline (slot end + 120 minutes).
   */
  let spread = 0;
  const hoursToPast = (start: string) => Math.ceil((Date.parse(start) + HOUR - Date.now()) / HOUR) + spread++;

  let alice: TestTrader;
  let carol: TestTrader;

  test('after the slot ends, both demo meters read within 0.8 to 1.05 of their contract and the trade settles by itself', async () => {
    alice = await demoTrader('alice@demo.renex');
    carol = await demoTrader('carol@demo.renex');
    const listing = await alice.createListing(listingInput({ volumeKwh: '10', pricePerKwh: '0.1' }));
    const swap = await carol.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1' });
    await alice.accept(swap.id, 1);

    const hours = hoursToPast(listing.deliveryStart);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    const began = Date.now();
    await moveIntoPast([swap.id], [alice.meterId, carol.meterId], listing.deliveryStart, hours);

    const readings = await until(
      () => readingsOf([alice.meterId, carol.meterId], slotStart),
      (r) => r.length === 2,
    );
    expect(readings).toHaveLength(2);
    const a = readings.find((r) => r.meter_id === alice.meterId)!;
    const c = readings.find((r) => r.meter_id === carol.meterId)!;
    for (const r of [a, c]) {
      expect(r.source).toBe('uploaded');
      expect(new Date(r.uploaded_at).getTime()).toBeGreaterThanOrEqual(began - 1000);
    }
    // the solar co-op exported, the factory imported: 8 to 10.5 kWh of the 10 contracted
    expect(Number(a.exported_wh)).toBeGreaterThanOrEqual(8_000);
    expect(Number(a.exported_wh)).toBeLessThanOrEqual(10_500);
    expect(a.imported_wh).toBe('0');
    expect(Number(c.imported_wh)).toBeGreaterThanOrEqual(8_000);
    expect(Number(c.imported_wh)).toBeLessThanOrEqual(10_500);
    expect(c.exported_wh).toBe('0');
    // what the simulator computes for them, to the Wh
    const f = readingFactors('solar', alice.meterId, new Date(slotStart));
    expect(a.exported_wh).toBe(scaleWh(10_000n, f.exportE4).toString());

    // the sweep settles it: both readings were in before the deadline
    const trades = await until(
      () => carol.rest<{ items: Trade[] }>('GET', '/api/v1/trades'),
      (t) => t.items[0]?.status === 'settled',
    );
    const trade = trades.items.find((t) => t.swapId === swap.id)!;
    expect(trade.status).toBe('settled');
    const allocated = (wh: string) => (Math.min(Number(wh), 10_000) / 1000).toFixed(3);
    expect(trade.slots[0]).toMatchObject({
      start: slotStart,
      status: 'settled',
      sellerAllocatedKwh: allocated(a.exported_wh),
      buyerAllocatedKwh: allocated(c.imported_wh),
    });
    expect(Date.now() - began).toBeLessThan(10_000);
    // the readings used are frozen, and another pass writes nothing
    const frozen = await readingsOf([alice.meterId, carol.meterId], slotStart);
    expect(frozen.every((r) => r.settled_at !== null)).toBe(true);
    expect(await simulateReadings(node.hub.db!.sql, new Date())).toBe(0);
  });

  test('a reading already there is never replaced; any other meter of a trade gets one', async () => {
    const buyer = await trader(node.url, 'buyer'); // a TEST- meter, not a demo trader's
    clients.push(buyer);
    const listing = await alice.createListing(listingInput({ volumeKwh: '4', pricePerKwh: '0.1' }));
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1' });
    await alice.accept(swap.id, 1);
    const hours = hoursToPast(listing.deliveryStart);
    const slotStart = new Date(Date.parse(listing.deliveryStart) - hours * HOUR).toISOString();
    // an operator's reading of Alice's meter is in already
    await update(
      `INSERT INTO meter_readings (meter_id, slot_start, exported_wh, imported_wh, source, uploaded_at)
       VALUES ($1, $2, 1234, 0, 'uploaded', now())`,
      [alice.meterId, slotStart],
    );
    await moveIntoPast([swap.id], [alice.meterId, buyer.meterId], listing.deliveryStart, hours);
    // the new trader's meter is read too, so the demo's trades settle within the hour
    await expect
      .poll(
        async () =>
          (await buyer.rest<{ items: Trade[] }>('GET', '/api/v1/trades')).items.find(
            (t) => t.swapId === swap.id,
          )?.status,
        { timeout: 10_000 },
      )
      .toBe('settled');
    const readings = await readingsOf([alice.meterId, buyer.meterId], slotStart);
    expect(readings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ meter_id: alice.meterId, exported_wh: '1234' }),
        expect.objectContaining({ meter_id: buyer.meterId }),
      ]),
    );
    expect(await simulateReadings(node.hub.db!.sql, new Date())).toBe(0);
  });
});
