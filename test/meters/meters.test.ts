import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_METERS_PER_TRADER } from '../../src/domain/energy/meters.js';
import { api, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { marketConfigFile } from '../support/zones.js';

// PROTOCOL-MARKET.md, "Meters and trading limits": register, list, get, retire, and the per-slot
// limits, on a market of a 15-minute zone (MARKET_CONFIG) and an hourly one.

let node: TestHub;
let alice: Session;
let bob: Session;
let marketConfig: string;

beforeAll(async () => {
  marketConfig = await marketConfigFile({
    zones: [
      { id: 'AT-Q15', timeZone: 'Europe/Vienna', slotMinutes: 15, capFactor: '0.5' },
      { id: 'AT-H60', slotMinutes: 60, capFactor: '0.25' },
    ],
  });
  node = await startHub({ env: { MARKET_CONFIG: marketConfig } });
  [alice, bob] = await Promise.all([newTrader(node.url, 'alice'), newTrader(node.url, 'bob')]);
});
afterAll(() => node?.stop());

let serial = 0;
const externalId = () => `EAN-${process.pid}-${Date.now()}-${++serial}`;
const call = (who: Session, method: string, route: string, body?: unknown) =>
  api(node.url, method, `/api/v1${route}`, { token: who.accessToken, body });
const register = (who: Session, patch: Record<string, unknown> = {}) =>
  call(who, 'POST', '/meters', {
    externalId: externalId(),
    zone: 'AT-Q15',
    exportCapacityKw: '7.777',
    importCapacityKw: '3.001',
    ...patch,
  });
const paths = (res: { body: any }) =>
  (res.body.error.details.issues as { path: string }[]).map((i) => i.path);

describe('register, list, get, retire', () => {
  test('a meter: 201, listed and shown to its owner, retired once', async () => {
    const id = externalId();
    const res = await register(alice, {
      externalId: id,
      zone: 'at-q15',
      exportCapacityKw: 7.5,
      importCapacityKw: '11',
      label: '<b>Roof</b> PV',
    });
    expect(res.status).toBe(201);
    const meter = res.body;
    expect(meter).toEqual({
      id: expect.any(String),
      ownerId: alice.user.id,
      externalId: id,
      zone: 'AT-Q15', // the profile's spelling
      exportCapacityKw: '7.500',
      importCapacityKw: '11.000',
      label: 'Roof PV',
      status: 'active',
      createdAt: expect.any(String),
    });
    expect(Date.now() - Date.parse(meter.createdAt)).toBeLessThan(60_000);

    const second = await register(alice, { label: undefined, importCapacityKw: '0' });
    expect(second.status).toBe(201);
    expect(second.body.label).toBe('');

    const list = await call(alice, 'GET', '/meters');
    expect(list.status).toBe(200);
    const mine = list.body.items.map((m: { id: string }) => m.id);
    expect(mine.indexOf(meter.id)).toBeLessThan(mine.indexOf(second.body.id)); // in registration order
    expect((await call(alice, 'GET', `/meters/${meter.id}`)).body).toEqual(meter);

    const retired = await call(alice, 'DELETE', `/meters/${meter.id}`);
    expect(retired.status).toBe(200);
    expect(retired.body).toEqual({ ...meter, status: 'retired' });
    const again = await call(alice, 'DELETE', `/meters/${meter.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'INVALID_STATE', details: { status: 'retired' } });
    // still listed and shown, as retired
    expect((await call(alice, 'GET', `/meters/${meter.id}`)).body.status).toBe('retired');
    const after = await call(alice, 'GET', '/meters');
    expect(after.body.items.find((m: { id: string }) => m.id === meter.id).status).toBe('retired');
  });

  test('an externalId an active meter has, in any letter case, is CONFLICT; retiring frees it', async () => {
    const id = externalId();
    const first = await register(alice, { externalId: id });
    expect(first.status).toBe(201);
    for (const [who, spelled] of [
      [bob, id],
      [alice, id],
      [bob, id.toLowerCase()],
    ] as const) {
      const res = await register(who, { externalId: spelled, zone: 'AT-H60' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
    }
    await call(alice, 'DELETE', `/meters/${first.body.id}`);
    expect((await register(alice, { externalId: id })).status).toBe(201);
  });

  test("another trader's meter: not listed, and NOT_FOUND like one that does not exist", async () => {
    const meter = (await register(alice)).body;
    const bobs = await call(bob, 'GET', '/meters');
    expect(bobs.body.items.map((m: { id: string }) => m.id)).not.toContain(meter.id);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const id of [meter.id, missing]) {
      for (const [method, route] of [
        ['GET', `/meters/${id}`],
        ['DELETE', `/meters/${id}`],
        ['GET', `/meters/${id}/slots?from=2026-03-01T00:00:00Z&to=2026-03-01T01:00:00Z`],
      ] as const) {
        const res = await call(bob, method, route);
        expect({ route, status: res.status, code: res.body.error?.code }).toEqual({
          route,
          status: 404,
          code: 'NOT_FOUND',
        });
      }
    }
    // untouched by bob's attempt
    expect((await call(alice, 'GET', `/meters/${meter.id}`)).body.status).toBe('active');
  });
});

describe('bad input is VALIDATION_FAILED with its paths', () => {
  test.each([
    [{ externalId: 'EAN 1234' }, ['externalId']],
    [{ externalId: 'x'.repeat(65) }, ['externalId']],
    [{ zone: 'NL' }, ['zone']], // not a zone of this market
    [{ exportCapacityKw: '1.2345' }, ['exportCapacityKw']],
    [{ importCapacityKw: -1 }, ['importCapacityKw']],
    [{ exportCapacityKw: '1000000.001' }, ['exportCapacityKw']],
    [{ exportCapacityKw: '0', importCapacityKw: 0 }, ['exportCapacityKw', 'importCapacityKw']],
    [{ exportCapacityKw: null }, ['exportCapacityKw']],
    [{ label: 'a\u0000b' }, ['label']],
  ])('POST /meters %j: %j', async (patch, expected) => {
    const res = await register(alice, patch);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(paths(res)).toEqual(expected);
  });

  test('missing fields, unknown fields, a bad id, an unknown query field', async () => {
    const empty = await call(alice, 'POST', '/meters', {});
    expect(empty.status).toBe(400);
    expect(paths(empty).sort()).toEqual(['exportCapacityKw', 'externalId', 'importCapacityKw', 'zone']);
    const extra = await register(alice, { colour: 'red' });
    expect(extra.status).toBe(400);
    for (const [method, route] of [
      ['GET', '/meters/not-a-uuid'],
      ['DELETE', '/meters/not-a-uuid'],
      ['GET', '/meters/not-a-uuid/slots?from=2026-03-01T00:00:00Z&to=2026-03-01T01:00:00Z'],
    ] as const) {
      const res = await call(alice, method, route);
      expect({ route, status: res.status, paths: paths(res) }).toEqual({ route, status: 400, paths: ['id'] });
    }
    const odd = await call(alice, 'GET', '/meters?colour=red');
    expect(odd.status).toBe(400);
    expect(odd.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /meters/:id/slots', () => {
  const slots = (who: Session, id: string, from: string, to: string) =>
    call(who, 'GET', `/meters/${id}/slots?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);

  test('every slot of the 15-minute grid in [from, to), limits rounded down to the Wh', async () => {
    // 7.777 kW x 0.25 h x 0.5 = 0.972125 kWh; 3.001 kW x 0.25 h x 0.5 = 0.375125 kWh
    const meter = (await register(alice)).body;
    const res = await slots(alice, meter.id, '2026-03-01T10:00:00Z', '2026-03-01T11:00:00+00:00');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(
      ['10:00', '10:15', '10:30', '10:45'].map((t) => ({
        start: `2026-03-01T${t}:00.000Z`,
        exportLimitKwh: '0.972',
        exportContractedKwh: '0.000',
        importLimitKwh: '0.375',
        importContractedKwh: '0.000',
      })),
    );
    // an offset is read as the instant it names
    const local = await slots(alice, meter.id, '2026-03-01T11:00:00+01:00', '2026-03-01T10:15:00Z');
    expect(local.body.items.map((s: { start: string }) => s.start)).toEqual(['2026-03-01T10:00:00.000Z']);
  });

  test("an hourly zone's limits follow its own grid and capFactor", async () => {
    // 7.777 kW x 1 h x 0.25 = 1.94425 kWh; 0 kW imports nothing
    const meter = (await register(alice, { zone: 'AT-H60', importCapacityKw: '0' })).body;
    const res = await slots(alice, meter.id, '2026-03-01T00:00:00Z', '2026-03-01T03:00:00Z');
    expect(res.body.items).toHaveLength(3);
    expect(res.body.items[2]).toMatchObject({ exportLimitKwh: '1.944', importLimitKwh: '0.000' });
    const off = await slots(alice, meter.id, '2026-03-01T00:15:00Z', '2026-03-01T03:00:00Z');
    expect(off.status).toBe(400);
    expect(paths(off)).toEqual(['from']);
  });

  test('at most 7 days; from before to; both on the grid; both required', async () => {
    const meter = (await register(alice)).body;
    const week = await slots(alice, meter.id, '2026-03-01T00:00:00Z', '2026-03-08T00:00:00Z');
    expect(week.status).toBe(200);
    expect(week.body.items).toHaveLength(7 * 96);
    expect(week.body.items.at(-1).start).toBe('2026-03-07T23:45:00.000Z');
    for (const [from, to, where] of [
      ['2026-03-01T00:00:00Z', '2026-03-08T00:15:00Z', ['to']],
      ['2026-03-01T01:00:00Z', '2026-03-01T01:00:00Z', ['to']],
      ['2026-03-01T02:00:00Z', '2026-03-01T01:00:00Z', ['to']],
      ['2026-03-01T00:10:00Z', '2026-03-01T01:05:00Z', ['from', 'to']],
      ['yesterday', '2026-03-01T01:00:00Z', ['from']],
      ['2026-03-01T00:00:00Z', '2026-03-01T00:00:00', ['to']], // no offset
    ] as const) {
      const res = await slots(alice, meter.id, from, to);
      expect({ from, to, status: res.status, paths: paths(res) }).toEqual({
        from,
        to,
        status: 400,
        paths: where,
      });
    }
    const none = await call(alice, 'GET', `/meters/${meter.id}/slots`);
    expect(none.status).toBe(400);
    expect(paths(none).sort()).toEqual(['from', 'to']);
  });

  test('a retired meter still shows its slots', async () => {
    const meter = (await register(alice)).body;
    await call(alice, 'DELETE', `/meters/${meter.id}`);
    const res = await slots(alice, meter.id, '2026-03-01T00:00:00Z', '2026-03-01T00:15:00Z');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
  });
});

test('OpenAPI documents the meter routes with the Meter and MeterSlot schemas', async () => {
  const doc = (await api(node.url, 'GET', '/openapi.json')).body;
  expect(Object.keys(doc.paths['/api/v1/meters']).sort()).toEqual(['get', 'post']);
  expect(Object.keys(doc.paths['/api/v1/meters/{id}']).sort()).toEqual(['delete', 'get']);
  const slotsOp = doc.paths['/api/v1/meters/{id}/slots'].get;
  expect(slotsOp.security).toEqual([{ bearer: [] }]);
  expect(JSON.stringify(slotsOp.responses['200'])).toContain('#/components/schemas/MeterSlot');
  expect(JSON.stringify(doc.paths['/api/v1/meters'].post.responses['201'])).toContain(
    '#/components/schemas/Meter',
  );
  expect(Object.keys(doc.components.schemas.Meter.properties).sort()).toEqual(
    [
      'id',
      'ownerId',
      'externalId',
      'zone',
      'exportCapacityKw',
      'importCapacityKw',
      'label',
      'status',
      'createdAt',
    ].sort(),
  );
});

describe('two nodes on one database', () => {
  test('registrations of one externalId racing on both: exactly one 201, the rest CONFLICT; retires too', async () => {
    const other = await startHub({ db: node.database, env: { MARKET_CONFIG: marketConfig } });
    try {
      const carol = await newTrader(other.url, 'carol');
      for (let round = 0; round < 5; round++) {
        const id = externalId();
        const attempts = Array.from({ length: 8 }, (_, i) => {
          const [base, who] = i % 2 ? [other.url, carol] : [node.url, i % 4 ? alice : bob];
          return api(base, 'POST', '/api/v1/meters', {
            token: who.accessToken,
            body: { externalId: id, zone: 'AT-Q15', exportCapacityKw: '5', importCapacityKw: '5' },
          });
        });
        const results = await Promise.all(attempts);
        const statuses = results.map((r) => r.status).sort();
        expect(statuses).toEqual([201, ...Array(7).fill(409)]);
        for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('CONFLICT');
        const [count] = await node.hub.db!.sequelize.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM meters WHERE external_id = $1',
          { bind: [id], type: 'SELECT' as never },
        );
        expect(count).toEqual({ n: '1' });
      }
      // a trader one meter short of the limit (retired ones count), registering on both at once:
      // exactly one more is stored
      const dave = await newTrader(node.url, 'dave');
      await node.hub.db!.sequelize.query(
        `INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, status, created_at, retired_at)
         SELECT gen_random_uuid(), $1, 'LIMIT-' || $2 || '-' || g, 'AT-Q15', 1000, 1000,
           CASE WHEN g % 2 = 0 THEN 'retired' ELSE 'active' END, now(), CASE WHEN g % 2 = 0 THEN now() END
         FROM generate_series(1, $3::int - 1) g`,
        { bind: [dave.user.id, process.pid, MAX_METERS_PER_TRADER] },
      );
      const lastOnes = await Promise.all(
        [node.url, other.url, node.url, other.url].map((base) =>
          api(base, 'POST', '/api/v1/meters', {
            token: dave.accessToken,
            body: { externalId: externalId(), zone: 'AT-Q15', exportCapacityKw: '5', importCapacityKw: '5' },
          }),
        ),
      );
      expect(lastOnes.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      for (const r of lastOnes.filter((x) => x.status === 409))
        expect(r.body.error).toMatchObject({ code: 'CONFLICT', details: { max: MAX_METERS_PER_TRADER } });
      expect(
        (await api(node.url, 'GET', '/api/v1/meters', { token: dave.accessToken })).body.items,
      ).toHaveLength(MAX_METERS_PER_TRADER);
      // one meter retired from both nodes at once: one 200, one INVALID_STATE
      const meter = (await register(alice)).body;
      const retires = await Promise.all(
        [node.url, other.url].map((base) =>
          api(base, 'DELETE', `/api/v1/meters/${meter.id}`, { token: alice.accessToken }),
        ),
      );
      expect(retires.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(retires.find((r) => r.status === 409)!.body.error.code).toBe('INVALID_STATE');
    } finally {
      await other.stop();
    }
  }, 60_000);
});
