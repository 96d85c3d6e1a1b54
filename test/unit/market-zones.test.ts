import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_MARKET_CONFIG,
  defaultMarketProfile,
  loadMarketProfile,
  MarketConfigError,
} from '../../src/domain/energy/market-config.js';
import { formatRatio, type MarketProfile, parseMarketConfig } from '../../src/domain/energy/zones.js';
import { DEFAULT_ZONE } from '../support/zones.js';

function profile(input: unknown): MarketProfile {
  const r = parseMarketConfig(input);
  if (!r.ok) throw new Error(`expected a valid configuration, got: ${r.message}`);
  return r.profile;
}

function refusal(input: unknown): string {
  const r = parseMarketConfig(input);
  if (r.ok) throw new Error('expected the configuration to be refused');
  return r.message;
}

describe('defaults', () => {
  test('a zone given only its id has every field of the contract filled in', () => {
    expect(profile({ zones: [{ id: 'A1' }] }).view()).toEqual([{ id: 'A1', name: 'A1', ...DEFAULT_ZONE }]);
  });

  test('the defaults in integer units', () => {
    const zone = profile({ zones: [{ id: 'A1' }] }).zone('A1')!;
    expect(zone).toMatchObject({
      minStepWh: 1n,
      priceTickE4: 1n,
      minPriceE4: 0n,
      maxPriceE4: 50_000n,
      capFactorE4: 5000n,
      fees: {
        wheelingBuyerPerKwhE4: 250n,
        wheelingSellerPerKwhE4: 300n,
        platformPercentE4: 10_000n,
        platformCapPerKwhE4: 42n,
      },
      settlement: { shortPricePerKwhE4: 3000n, longPricePerKwhE4: 500n },
    });
  });

  test('given values are kept, shown at their scale; a partial fees object keeps the other defaults', () => {
    const view = profile({
      zones: [
        {
          id: 'Z',
          name: 'Zed',
          timeZone: 'europe/amsterdam',
          slotMinutes: 15,
          gateLeadMinutes: 0,
          minStepKwh: '0.1',
          priceTick: '0.01',
          minPrice: '-0',
          maxPrice: '2',
          capFactor: '1',
          fees: { platformPercent: '0.25', wheelingBuyerPerKwh: '0' },
          settlement: { method: 'deviation', allocation: 'fifo', delayMinutes: 0 },
        },
      ],
    }).view()[0]!;
    expect(view).toEqual({
      ...DEFAULT_ZONE,
      id: 'Z',
      name: 'Zed',
      timeZone: 'Europe/Amsterdam',
      slotMinutes: 15,
      gateLeadMinutes: 0,
      minStepKwh: '0.100',
      priceTick: '0.0100',
      minPrice: '0.0000',
      maxPrice: '2.0000',
      capFactor: '1.0',
      fees: { ...DEFAULT_ZONE.fees, platformPercent: '0.25', wheelingBuyerPerKwh: '0.0000' },
      settlement: { ...DEFAULT_ZONE.settlement, method: 'deviation', allocation: 'fifo', delayMinutes: 0 },
    });
  });

  test('ratios show the decimals they need, at least one', () => {
    expect([0n, 1n, 2500n, 5000n, 10_000n, 1_000_000n].map(formatRatio)).toEqual([
      '0.0',
      '0.0001',
      '0.25',
      '0.5',
      '1.0',
      '100.0',
    ]);
  });
});

describe('zone ids and wheeling', () => {
  const market = profile({
    zones: [{ id: 'DE-North' }, { id: 'nl' }],
    interZoneWheelingPerKwh: { 'de-north->NL': '0.0200', 'NL->DE-North': '0.0150' },
  });

  test('a zone is found by its id in any case, and keeps its own spelling', () => {
    expect(market.zone('de-north')?.id).toBe('DE-North');
    expect(market.zone('DE-NORTH')?.id).toBe('DE-North');
    expect(market.zone('NL')?.id).toBe('nl');
    expect(market.zone('FR')).toBeUndefined();
    expect(market.view().map((z) => z.id)).toEqual(['DE-North', 'nl']);
  });

  test('wheeling is per direction, looked up in any case; none within a zone or where not configured', () => {
    expect(market.wheeling('DE-North', 'NL')).toBe(200n);
    expect(market.wheeling('nl', 'de-north')).toBe(150n);
    expect(market.wheeling('DE-North', 'DE-North')).toBeUndefined();
    expect(market.wheeling('DE-North', 'FR')).toBeUndefined();
    expect(market.links).toEqual([
      { from: 'DE-North', to: 'nl', perKwhE4: 200n },
      { from: 'nl', to: 'DE-North', perKwhE4: 150n },
    ]);
  });
});

describe('refusals name the field', () => {
  test.each<[string, unknown, string]>([
    [
      'slot length',
      { zones: [{ id: 'A' }, { id: 'B', slotMinutes: 20 }] },
      'zones.1.slotMinutes: must be one of 5, 15, 30, 60',
    ],
    [
      'slot as text',
      { zones: [{ id: 'A', slotMinutes: '15' }] },
      'zones.0.slotMinutes: must be one of 5, 15, 30, 60',
    ],
    [
      'duplicate id in another case',
      { zones: [{ id: 'DE-North' }, { id: 'NL' }, { id: 'de-north' }] },
      'zones.2.id: repeats the zone id "DE-North" (ids are compared case-insensitively)',
    ],
    ['missing id', { zones: [{ name: 'x' }] }, 'zones.0.id: is required'],
    ['bad id', { zones: [{ id: 'a b' }] }, 'zones.0.id: must be 1 to 64 letters, digits, _ or -'],
    [
      'unknown field',
      { zones: [{ id: 'A', slotMinute: 15 }] },
      'zones.0.slotMinute: is not a field of the market configuration',
    ],
    [
      'unknown fee',
      { zones: [{ id: 'A', fees: { wheeling: '1' } }] },
      'zones.0.fees.wheeling: is not a field of the market configuration',
    ],
    [
      'unknown top-level field',
      { zones: [{ id: 'A' }], wheeling: {} },
      'wheeling: is not a field of the market configuration',
    ],
    ['no zones', { zones: [] }, 'zones: must name at least one zone'],
    ['zones missing', {}, 'zones: is required'],
    ['not an object', [1], 'must be an object'],
    [
      'a decimal as a number',
      { zones: [{ id: 'A', priceTick: 0.01 }] },
      'zones.0.priceTick: must be a decimal string such as "0.0001"',
    ],
    [
      'too many decimals',
      { zones: [{ id: 'A', minStepKwh: '0.0005' }] },
      'zones.0.minStepKwh: must have at most 3 decimals',
    ],
    ['zero step', { zones: [{ id: 'A', minStepKwh: '0' }] }, 'zones.0.minStepKwh: must be at least 0.001'],
    [
      'zero tick',
      { zones: [{ id: 'A', priceTick: '0.0000' }] },
      'zones.0.priceTick: must be at least 0.0001',
    ],
    [
      'negative price',
      { zones: [{ id: 'A', minPrice: '-0.01' }] },
      'zones.0.minPrice: must be at least 0.0000',
    ],
    [
      'bounds crossed',
      { zones: [{ id: 'A', minPrice: '0.5', maxPrice: '0.4' }] },
      'zones.0.maxPrice: must be at least minPrice (0.5000)',
    ],
    [
      'capFactor above 1',
      { zones: [{ id: 'A', capFactor: '1.5' }] },
      'zones.0.capFactor: must be at most 1.0000',
    ],
    ['capFactor 0', { zones: [{ id: 'A', capFactor: '0' }] }, 'zones.0.capFactor: must be at least 0.0001'],
    [
      'percent above 100',
      { zones: [{ id: 'A', fees: { platformPercent: '101' } }] },
      'zones.0.fees.platformPercent: must be at most 100.0000',
    ],
    [
      'gate lead fraction',
      { zones: [{ id: 'A', gateLeadMinutes: 7.5 }] },
      'zones.0.gateLeadMinutes: must be a whole number of minutes',
    ],
    [
      'gate lead negative',
      { zones: [{ id: 'A', gateLeadMinutes: -1 }] },
      'zones.0.gateLeadMinutes: must be at least 0',
    ],
    [
      'time zone',
      { zones: [{ id: 'A', timeZone: 'Mars/Olympus' }] },
      'zones.0.timeZone: must be an IANA time zone name such as "Europe/Berlin"',
    ],
    [
      'time zone offset',
      { zones: [{ id: 'A', timeZone: '+01:00' }] },
      'zones.0.timeZone: must be an IANA time zone name such as "Europe/Berlin"',
    ],
    [
      'settlement method',
      { zones: [{ id: 'A', settlement: { method: 'average' } }] },
      'zones.0.settlement.method: must be one of min_of_two, deviation',
    ],
    [
      'settlement price',
      { zones: [{ id: 'A', settlement: { longPricePerKwh: 'x' } }] },
      'zones.0.settlement.longPricePerKwh: must be a plain decimal such as "12.5"',
    ],
    [
      'empty name',
      { zones: [{ id: 'A', name: ' ' }] },
      'zones.0.name: must not be empty once markup is removed',
    ],
    [
      'wheeling to nowhere',
      { zones: [{ id: 'A' }], interZoneWheelingPerKwh: { 'A->B': '0.01' } },
      'interZoneWheelingPerKwh.A->B: names "B", which is not a configured zone',
    ],
    [
      'wheeling key',
      { zones: [{ id: 'A' }, { id: 'B' }], interZoneWheelingPerKwh: { 'A=>B': '0.01' } },
      'interZoneWheelingPerKwh.A=>B: must be "FROM->TO", two zone ids',
    ],
    [
      'wheeling in a zone',
      { zones: [{ id: 'A' }], interZoneWheelingPerKwh: { 'A->a': '0.01' } },
      'interZoneWheelingPerKwh.A->a: must name two different zones',
    ],
    [
      'wheeling repeated in another case',
      { zones: [{ id: 'A' }, { id: 'B' }], interZoneWheelingPerKwh: { 'A->B': '0.01', 'a->b': '0.02' } },
      'interZoneWheelingPerKwh.a->b: repeats "A->B"',
    ],
    [
      'wheeling amount',
      { zones: [{ id: 'A' }, { id: 'B' }], interZoneWheelingPerKwh: { 'A->B': '-1' } },
      'interZoneWheelingPerKwh.A->B: must be at least 0.0000',
    ],
  ])('%s', (_, input, message) => {
    expect(refusal(input)).toBe(message);
  });
});

describe('the built-in default', () => {
  test('has the demo zones with their market time, every rule at the contract default', () => {
    const market = defaultMarketProfile();
    expect(market.view()).toEqual([
      { ...DEFAULT_ZONE, id: 'DE-North', name: 'Germany North', timeZone: 'Europe/Berlin' },
      { ...DEFAULT_ZONE, id: 'DE-South', name: 'Germany South', timeZone: 'Europe/Berlin' },
      { ...DEFAULT_ZONE, id: 'NL', name: 'Netherlands', timeZone: 'Europe/Amsterdam' },
    ]);
  });

  test('links every pair of demo zones both ways', () => {
    const market = defaultMarketProfile();
    const ids = DEFAULT_MARKET_CONFIG.zones.map((z) => z.id);
    for (const from of ids) {
      for (const to of ids) {
        if (from === to) expect(market.wheeling(from, to)).toBeUndefined();
        else expect(market.wheeling(from, to)).toBeGreaterThan(0n);
      }
    }
  });
});

describe('loadMarketProfile', () => {
  async function file(content: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-market-'));
    const f = path.join(dir, 'market.json');
    await writeFile(f, content);
    return f;
  }

  async function loadError(f: string): Promise<string> {
    const err = await loadMarketProfile(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MarketConfigError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }

  test('unset: the built-in default', async () => {
    expect((await loadMarketProfile()).view()).toEqual(defaultMarketProfile().view());
  });

  test('a valid file', async () => {
    const f = await file(
      JSON.stringify({ zones: [{ id: 'AU-NSW', slotMinutes: 5, timeZone: 'Australia/Sydney' }] }),
    );
    const market = await loadMarketProfile(f);
    expect(market.view()).toEqual([
      { ...DEFAULT_ZONE, id: 'AU-NSW', name: 'AU-NSW', slotMinutes: 5, timeZone: 'Australia/Sydney' },
    ]);
  });

  test('an invalid field: one line naming the file and the field', async () => {
    const f = await file(JSON.stringify({ zones: [{ id: 'A' }, { id: 'B', slotMinutes: 10 }] }));
    expect(await loadError(f)).toBe(`MARKET_CONFIG ${f}: zones.1.slotMinutes: must be one of 5, 15, 30, 60`);
  });

  test('not JSON', async () => {
    const f = await file('{"zones": [\n{"id": "A"},\n');
    expect(await loadError(f)).toMatch(new RegExp(`^MARKET_CONFIG ${f}: not valid JSON: `));
  });

  test('unreadable: missing, or a directory', async () => {
    const missing = path.join(os.tmpdir(), 'renex-no-such-market.json');
    expect(await loadError(missing)).toMatch(new RegExp(`^MARKET_CONFIG ${missing}: cannot read: .*ENOENT`));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-market-'));
    expect(await loadError(dir)).toMatch(new RegExp(`^MARKET_CONFIG ${dir}: cannot read: .*EISDIR`));
  });

  test('a relative path is shown resolved', async () => {
    const f = await file('[]');
    const relative = path.relative(process.cwd(), f);
    expect(await loadError(relative)).toBe(`MARKET_CONFIG ${f}: must be an object`);
  });
});
