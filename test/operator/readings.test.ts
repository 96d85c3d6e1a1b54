import { randomBytes } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Meter } from '../../src/client/index.js';
import { api, PASSWORD, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { type TestTrader, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

// PROTOCOL-MARKET.md, "Operators, readings and settlement"; docs/settlement.md, "Readings":
// POST /api/v1/operator/readings, JSON or CSV, all or nothing.

const OPERATOR = `grid-op-${randomBytes(4).toString('hex')}@test.renex`;
const HOUR = 3_600_000;
const QUARTER = 900_000;
const ROUTE = '/api/v1/operator/readings';
const HEADER = 'meter,slot_start,exported_kwh,imported_kwh';

let node: TestHub;
let operator: Session;
/** a meter in DE-North (hourly slots) and one in Q15 (15-minute slots), of one trader */
let hourly: Meter;
let quarterly: Meter;
let owner: TestTrader;

beforeAll(async () => {
  const marketConfig = await marketConfigFile({
    zones: [
      { id: 'DE-North', timeZone: 'Europe/Berlin' },
      { id: 'Q15', slotMinutes: 15 },
    ],
  });
  node = await startHub({ env: { OPERATOR_EMAILS: OPERATOR, MARKET_CONFIG: marketConfig } });
  const res = await api<Session>(node.url, 'POST', '/api/v1/auth/register', {
    body: { email: OPERATOR, password: PASSWORD, displayName: 'grid operator' },
  });
  operator = res.body;
  owner = await trader(node.url, 'owner', false);
  hourly = await owner.rest<Meter>('GET', `/api/v1/meters/${owner.meterId}`);
  quarterly = await owner.rest<Meter>('POST', '/api/v1/meters', {
    externalId: `Q15-${randomBytes(4).toString('hex')}`,
    zone: 'Q15',
    exportCapacityKw: '10',
    importCapacityKw: '10',
  });
});
afterAll(() => node?.stop());

/** the start of the hourly slot `n` hours before the current one (0: the current slot) */
const hoursAgo = (n: number) => new Date((Math.floor(Date.now() / HOUR) - n) * HOUR).toISOString();

const upload = (body: unknown, who = operator) =>
  api(node.url, 'POST', ROUTE, { token: who.accessToken, body });
const uploadCsv = (text: string, type = 'text/csv') =>
  api(node.url, 'POST', ROUTE, { token: operator.accessToken, raw: text, headers: { 'content-type': type } });

const query = <T extends object>(sql: string, bind: unknown[] = []) =>
  node.hub.db!.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });

interface Row {
  slot: string;
  exported: string;
  imported: string;
  source: string;
}
/** the stored readings of a meter, oldest first */
const readingsOf = (meterId: string) =>
  query<Row>(
    `SELECT to_char(slot_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS slot,
       exported_wh::text AS exported, imported_wh::text AS imported, source
     FROM meter_readings WHERE meter_id = $1 ORDER BY slot_start`,
    [meterId],
  );
const countAll = async () =>
  Number((await query<{ n: string }>('SELECT count(*) AS n FROM meter_readings'))[0]!.n);

const reading = (
  slotStart: string,
  exportedKwh: unknown = '1.5',
  importedKwh: unknown = '0',
  meter = hourly,
) => ({
  meterExternalId: meter.externalId,
  slotStart,
  exportedKwh,
  importedKwh,
});

function expectInvalid(res: { status: number; body: any }, issues: { row: number; path: string }[]) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
  expect(res.body.error.details.issues.map((i: any) => ({ row: i.row, path: i.path }))).toEqual(issues);
  for (const i of res.body.error.details.issues) expect(i.message).toEqual(expect.any(String));
}

describe('accepted uploads', () => {
  test('JSON: stored exactly in Wh, 200 {accepted}', async () => {
    const res = await upload({
      readings: [
        reading(hoursAgo(30), '1.234', 0.5),
        // in any letter case; another spelling of an instant
        {
          ...reading(hoursAgo(29).replace('.000Z', '+00:00'), 2, '0.001'),
          meterExternalId: hourly.externalId.toLowerCase(),
        },
        reading(hoursAgo(1), '0', '0'), // the last slot, just ended
        reading(hoursAgo(29), '7.25', '0', quarterly),
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 4 });
    expect(await readingsOf(hourly.id)).toEqual([
      { slot: hoursAgo(30), exported: '1234', imported: '500', source: 'uploaded' },
      { slot: hoursAgo(29), exported: '2000', imported: '1', source: 'uploaded' },
      { slot: hoursAgo(1), exported: '0', imported: '0', source: 'uploaded' },
    ]);
    expect(await readingsOf(quarterly.id)).toEqual([
      { slot: hoursAgo(29), exported: '7250', imported: '0', source: 'uploaded' },
    ]);
  });

  test('CSV: the header in any order and case, quoted fields, CRLF, a BOM and blank lines', async () => {
    const q = new Date(Date.parse(hoursAgo(40)) + 3 * QUARTER).toISOString();
    const csv =
      '\ufeffSlot_Start,METER,imported_kwh,exported_kwh\r\n' +
      `${hoursAgo(40)},${hourly.externalId},0.1,3\r\n` +
      '\r\n' +
      `"${q}","${quarterly.externalId}", 0.250 ,"1.000"\r\n`;
    const res = await uploadCsv(csv, 'text/csv; charset=utf-8');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 2 });
    expect((await readingsOf(hourly.id)).find((r) => r.slot === hoursAgo(40))).toEqual({
      slot: hoursAgo(40),
      exported: '3000',
      imported: '100',
      source: 'uploaded',
    });
    expect((await readingsOf(quarterly.id)).find((r) => r.slot === q)?.imported).toBe('250');
  });

  test('an empty upload stores nothing and answers 0', async () => {
    expect((await upload({ readings: [] })).body).toEqual({ accepted: 0 });
    expect((await uploadCsv(`${HEADER}\n`)).body).toEqual({ accepted: 0 });
  });

  test('a reading replaces the earlier one of its meter and slot', async () => {
    const slot = hoursAgo(50);
    expect((await upload({ readings: [reading(slot, '1')] })).status).toBe(200);
    const [before] = await query<{ at: Date }>(
      'SELECT uploaded_at AS at FROM meter_readings WHERE meter_id = $1 AND slot_start = $2',
      [hourly.id, slot],
    );
    expect((await uploadCsv(`${HEADER}\n${hourly.externalId},${slot},2.5,0.75\n`)).body).toEqual({
      accepted: 1,
    });
    const rows = await query<{ exported: string; imported: string; at: Date }>(
      `SELECT exported_wh::text AS exported, imported_wh::text AS imported, uploaded_at AS at
       FROM meter_readings WHERE meter_id = $1 AND slot_start = $2`,
      [hourly.id, slot],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ exported: '2500', imported: '750' });
    expect(rows[0]!.at.getTime()).toBeGreaterThan(before!.at.getTime());
  });
});

describe('10,000 rows', () => {
  const csvOf = (n: number, meter: Meter) => {
    const lines = [HEADER];
    for (let i = 1; i <= n; i++)
      lines.push(`${meter.externalId},${hoursAgo(100 + i)},${i % 97}.${i % 1000},0`);
    return `${lines.join('\n')}\n`;
  };

  test('a CSV of 10,000 rows is accepted; 10,001 is VALIDATION_FAILED at row 10001 and stores nothing', async () => {
    const fresh = await owner.rest<Meter>('POST', '/api/v1/meters', {
      externalId: `BIG-${randomBytes(4).toString('hex')}`,
      zone: 'DE-North',
      exportCapacityKw: '10',
      importCapacityKw: '10',
    });
    const tooMany = await uploadCsv(csvOf(10_001, fresh));
    expectInvalid(tooMany, [{ row: 10_001, path: '' }]);
    expect(await readingsOf(fresh.id)).toHaveLength(0);

    const res = await uploadCsv(csvOf(10_000, fresh));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 10_000 });
    expect(await readingsOf(fresh.id)).toHaveLength(10_000);
  });

  test('JSON of 10,001 readings is VALIDATION_FAILED at row 10001', async () => {
    const readings = Array.from({ length: 10_001 }, (_, i) => reading(hoursAgo(100 + i)));
    const before = await countAll();
    expectInvalid(await upload({ readings }), [{ row: 10_001, path: 'readings.10000' }]);
    expect(await countAll()).toBe(before);
  });
});

describe('refused uploads change nothing', () => {
  test('one bad row among good ones: nothing stored, the issue names its row', async () => {
    const before = await countAll();
    const good = (n: number) => reading(hoursAgo(200 + n));
    const res = await upload({ readings: [good(1), good(2), reading(hoursAgo(203), '-1'), good(4)] });
    expectInvalid(res, [{ row: 3, path: 'readings.2.exportedKwh' }]);
    expect(await countAll()).toBe(before);

    const csv = [HEADER, ...[1, 2, 3].map((n) => `${hourly.externalId},${hoursAgo(210 + n)},1,0`)];
    csv.splice(2, 0, `${hourly.externalId},${hoursAgo(214)},1.0001,0`);
    expectInvalid(await uploadCsv(csv.join('\n')), [{ row: 2, path: 'exported_kwh' }]);
    expect(await countAll()).toBe(before);
  });

  test('each kind of bad row, every issue of every row listed by row', async () => {
    const before = await countAll();
    // the slot in progress has not ended: what it will meter is not known yet
    const future = new Date(Math.floor(Date.now() / HOUR) * HOUR).toISOString();
    const offGrid = new Date(Date.parse(hoursAgo(300)) + QUARTER).toISOString();
    const res = await upload({
      readings: [
        reading(hoursAgo(301)), // 1: fine
        { ...reading(hoursAgo(302)), meterExternalId: 'NO-SUCH-METER' }, // 2
        reading(offGrid), // 3: 15 minutes past the hour
        reading(future), // 4: not ended
        reading(hoursAgo(303), '-0.001'), // 5
        reading(hoursAgo(304), '1', '0.0005'), // 6
        reading(hoursAgo(301), '9'), // 7: the meter and slot of row 1 again
        { ...reading(hoursAgo(305)), extra: 1 }, // 8
        { meterExternalId: hourly.externalId }, // 9: three fields missing
        reading('yesterday', 'a lot', '1e3'), // 10
        reading(new Date(Date.parse(hoursAgo(306)) + QUARTER).toISOString(), '1', '0', quarterly), // 11: fine on Q15
      ],
    });
    expectInvalid(res, [
      { row: 2, path: 'readings.1.meterExternalId' },
      { row: 3, path: 'readings.2.slotStart' },
      { row: 4, path: 'readings.3.slotStart' },
      { row: 5, path: 'readings.4.exportedKwh' },
      { row: 6, path: 'readings.5.importedKwh' },
      { row: 7, path: 'readings.6.slotStart' },
      { row: 8, path: 'readings.7' },
      { row: 9, path: 'readings.8.slotStart' },
      { row: 9, path: 'readings.8.exportedKwh' },
      { row: 9, path: 'readings.8.importedKwh' },
      { row: 10, path: 'readings.9.slotStart' },
      { row: 10, path: 'readings.9.exportedKwh' },
      { row: 10, path: 'readings.9.importedKwh' },
    ]);
    const messages = res.body.error.details.issues.map((i: any) => i.message);
    expect(messages[5]).toContain('repeats row 1');
    expect(JSON.stringify(res.body)).not.toMatch(/INSERT|SELECT|meter_readings|at .*\.ts/);
    expect(await countAll()).toBe(before);
  });

  test('the same meter and slot twice, in any case and spelling, is an issue on the second row', async () => {
    const slot = hoursAgo(320);
    const res = await uploadCsv(
      `${HEADER}\n${hourly.externalId},${slot},1,0\n${hourly.externalId.toLowerCase()},${slot.replace('.000Z', 'Z')},2,0\n`,
    );
    expectInvalid(res, [{ row: 2, path: 'slot_start' }]);
  });

  test('CSV: a bad header, a row of too few fields, text that is not CSV', async () => {
    for (const header of [
      'meter,slot,exported_kwh,imported_kwh',
      'meter,slot_start,exported_kwh',
      '',
      `${HEADER},extra`,
      'meter,meter,exported_kwh,imported_kwh',
    ]) {
      expectInvalid(await uploadCsv(`${header}\n${hourly.externalId},${hoursAgo(330)},1,0\n`), [
        { row: 0, path: 'header' },
      ]);
    }
    expectInvalid(await uploadCsv(`${HEADER}\n${hourly.externalId},${hoursAgo(331)},1\n`), [
      { row: 1, path: '' },
    ]);
    expectInvalid(
      await uploadCsv(
        `${HEADER}\n${hourly.externalId},${hoursAgo(331)},1,0\n"unclosed,${hoursAgo(332)},1,0\n`,
      ),
      [{ row: 2, path: 'body' }],
    );
  });

  test('a content type other than JSON or CSV, and a body that is not JSON, are VALIDATION_FAILED', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      expectInvalid(await uploadCsv(`${HEADER}\n`, type), [{ row: 0, path: 'body' }]);
    }
    const junk = await api(node.url, 'POST', ROUTE, {
      token: operator.accessToken,
      raw: '{"readings":',
      headers: { 'content-type': 'application/json' },
    });
    expectInvalid(junk, [{ row: 0, path: 'body' }]);
    expectInvalid(await upload({ readings: 'all of them' }), [{ row: 0, path: 'readings' }]);
    expectInvalid(await upload({ readings: [], more: 1 }), [{ row: 0, path: 'body' }]);
  });

  test('a body over the limit is VALIDATION_FAILED, JSON or CSV; other routes keep the app limit', async () => {
    // 5,000 rows of 900 characters (blanks around a value are trimmed): 4.5 MB
    const row = `${hourly.externalId},${hoursAgo(1)},${' '.repeat(850)}1,0\n`;
    expectInvalid(await uploadCsv(`${HEADER}\n${row.repeat(5_000)}`), [{ row: 0, path: 'body' }]);
    const json = await api(node.url, 'POST', ROUTE, {
      token: operator.accessToken,
      raw: JSON.stringify({ readings: [], pad: 'x'.repeat(5 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expectInvalid(json, [{ row: 0, path: 'body' }]);
    // 100 KB is within the upload's limit, over the app's 64 KiB elsewhere
    const listing = await api(node.url, 'POST', '/api/v1/meters', {
      token: operator.accessToken,
      raw: JSON.stringify({ label: 'x'.repeat(100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(listing.status).toBe(400);
    expect(listing.body.error.message).toMatch(/too large/);
  });

  test('the issues are capped at 100, by row; the message tells how many there were', async () => {
    const readings = Array.from({ length: 150 }, (_, i) => ({
      ...reading(hoursAgo(400 + i)),
      meterExternalId: `NOPE-${i}`,
    }));
    const res = await upload({ readings });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues).toHaveLength(100);
    expect(res.body.error.details.issues[99].row).toBe(100);
    expect(res.body.error.message).toContain('150');
  });
});

describe('settled readings', () => {
  test('replacing a settled reading is INVALID_STATE naming its rows, and nothing changes', async () => {
    const [settled, other] = [hoursAgo(500), hoursAgo(501)];
    expect((await upload({ readings: [reading(settled, '1'), reading(other, '1')] })).status).toBe(200);
    await query(`UPDATE meter_readings SET settled_at = now() WHERE meter_id = $1 AND slot_start = $2`, [
      hourly.id,
      settled,
    ]);
    const before = await readingsOf(hourly.id);
    const count = await countAll();
    const res = await upload({
      readings: [reading(hoursAgo(502), '5'), reading(other, '5'), reading(settled, '5')],
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INVALID_STATE');
    expect(res.body.error.details).toEqual({ reason: 'settled', rows: [3] });
    expect(await readingsOf(hourly.id)).toEqual(before);
    expect(await countAll()).toBe(count);
  });

  test('an upload waiting on a settlement that holds the reading sees it settled: INVALID_STATE', async () => {
    const slot = hoursAgo(510);
    expect((await upload({ readings: [reading(slot, '1')] })).status).toBe(200);
    const sequelize = node.hub.db!.sequelize;
    // a settlement: locks the readings it uses, then marks them settled
    const t = await sequelize.transaction();
    let answered = false;
    try {
      await sequelize.query(
        'SELECT * FROM meter_readings WHERE meter_id = $1 AND slot_start = $2 FOR UPDATE',
        {
          bind: [hourly.id, slot],
          transaction: t,
        },
      );
      const pending = upload({ readings: [reading(slot, '9')] }).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false); // waiting for the settlement's lock
      await sequelize.query(
        'UPDATE meter_readings SET settled_at = now() WHERE meter_id = $1 AND slot_start = $2',
        {
          bind: [hourly.id, slot],
          transaction: t,
        },
      );
      await t.commit();
      const res = await pending;
      expect(res.status).toBe(409);
      expect(res.body.error.details).toEqual({ reason: 'settled', rows: [1] });
    } catch (err) {
      await t.rollback().catch(() => {});
      throw err;
    }
    expect((await readingsOf(hourly.id)).find((r) => r.slot === slot)?.exported).toBe('1000');
  });
});

describe('two nodes on one database', () => {
  test('uploads racing for one meter and slot end with one of their values, never another error', async () => {
    const other = await startHub({
      db: node.database,
      env: { OPERATOR_EMAILS: OPERATOR, MARKET_CONFIG: node.config.MARKET_CONFIG! },
    });
    try {
      for (let round = 0; round < 5; round++) {
        const slot = hoursAgo(600 + round);
        const values = Array.from({ length: 8 }, (_, i) => `${round}.${i + 1}`);
        const answers = await Promise.all(
          values.map((v, i) =>
            api(i % 2 ? other.url : node.url, 'POST', ROUTE, {
              token: operator.accessToken,
              body: { readings: [reading(slot, v), reading(hoursAgo(700 + round), v)] },
            }),
          ),
        );
        for (const a of answers)
          expect({ status: a.status, body: a.body }).toEqual({ status: 200, body: { accepted: 2 } });
        const stored = (await readingsOf(hourly.id)).find((r) => r.slot === slot)!;
        expect(values.map((v) => String(Math.round(Number(v) * 1000)))).toContain(stored.exported);
      }
      // one racing a settlement on the other node: either stored before it, or INVALID_STATE
      const slot = hoursAgo(650);
      expect((await upload({ readings: [reading(slot, '1')] })).status).toBe(200);
      const [a, settle] = await Promise.all([
        api(other.url, 'POST', ROUTE, {
          token: operator.accessToken,
          body: { readings: [reading(slot, '2')] },
        }),
        query(
          'UPDATE meter_readings SET settled_at = now() WHERE meter_id = $1 AND slot_start = $2 RETURNING exported_wh::text AS e',
          [hourly.id, slot],
        ),
      ]);
      expect([200, 409]).toContain(a.status);
      expect(settle).toHaveLength(1);
      const stored = (await readingsOf(hourly.id)).find((r) => r.slot === slot)!;
      expect(stored.exported).toBe(a.status === 200 ? '2000' : '1000');
    } finally {
      await other.stop();
    }
  });
});
