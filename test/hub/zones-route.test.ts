import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { DEFAULT_ZONE } from '../support/zones.js';

// GET /api/v1/zones: the market profile (MARKET_CONFIG or the built-in demo zones), every field filled in.

let node: TestHub;
let custom: TestHub;
let trader: Session;
let configured: Session;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-zones-'));
  const file = path.join(dir, 'market.json');
  await writeFile(
    file,
    JSON.stringify({
      zones: [
        {
          id: 'AU-NSW',
          name: 'New South Wales',
          timeZone: 'Australia/Sydney',
          slotMinutes: 5,
          capFactor: '0.75',
        },
        { id: 'AU-VIC', fees: { platformPercent: '0.5' }, settlement: { method: 'deviation' } },
      ],
      interZoneWheelingPerKwh: { 'AU-NSW->AU-VIC': '0.0150' },
    }),
  );
  [node, custom] = await Promise.all([startHub(), startHub({ env: { MARKET_CONFIG: file } })]);
  [trader, configured] = await Promise.all([newTrader(node.url), newTrader(custom.url)]);
});
afterAll(async () => {
  await Promise.all([node?.stop(), custom?.stop()]);
});

describe('GET /api/v1/zones', () => {
  test('without MARKET_CONFIG: the demo zones, every field filled in', async () => {
    const res = await api(node.url, 'GET', '/api/v1/zones', { token: trader.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items.map((z: { id: string; timeZone: string }) => [z.id, z.timeZone])).toEqual([
      ['DE-North', 'Europe/Berlin'],
      ['DE-South', 'Europe/Berlin'],
      ['NL', 'Europe/Amsterdam'],
    ]);
    expect(res.body.items[2]).toEqual({
      ...DEFAULT_ZONE,
      id: 'NL',
      name: 'Netherlands',
      timeZone: 'Europe/Amsterdam',
    });
  });

  test("with MARKET_CONFIG: the file's zones, the rest at the defaults", async () => {
    const res = await api(custom.url, 'GET', '/api/v1/zones', { token: configured.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items[0]).toMatchObject({
      id: 'AU-NSW',
      name: 'New South Wales',
      timeZone: 'Australia/Sydney',
      slotMinutes: 5,
      capFactor: '0.75',
      gateLeadMinutes: 60,
    });
    expect(res.body.items[1]).toMatchObject({
      id: 'AU-VIC',
      name: 'AU-VIC',
      timeZone: 'UTC',
      fees: { platformPercent: '0.5', wheelingBuyerPerKwh: '0.0250' },
      settlement: { method: 'deviation', allocation: 'pro_rata' },
    });
  });

  test('needs a token, like the rest of /api/v1; an unknown query field is VALIDATION_FAILED', async () => {
    const anonymous = await api(node.url, 'GET', '/api/v1/zones');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
    const odd = await api(node.url, 'GET', '/api/v1/zones?colour=red', { token: trader.accessToken });
    expect(odd.status).toBe(400);
    expect(odd.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('OpenAPI documents it with the Zone schema and the bearer token', async () => {
    const doc = (await api(node.url, 'GET', '/openapi.json')).body;
    const op = doc.paths['/api/v1/zones'].get;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '503']);
    expect(JSON.stringify(op.responses['200'])).toContain('#/components/schemas/Zone');
    const zone = doc.components.schemas.Zone;
    expect(Object.keys(zone.properties).sort()).toEqual(
      [
        'id',
        'name',
        'timeZone',
        'slotMinutes',
        'gateLeadMinutes',
        'minStepKwh',
        'priceTick',
        'minPrice',
        'maxPrice',
        'capFactor',
        'fees',
        'settlement',
      ].sort(),
    );
  });
});
