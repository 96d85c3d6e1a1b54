import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { defaultMarketProfile } from '../../src/domain/energy/market-config.js';
import {
  MAX_CAPACITY_W,
  meterInput,
  meterLimits,
  meterSlots,
  slotLimitWh,
} from '../../src/domain/energy/meters.js';
import { SLOT_MINUTES } from '../../src/domain/energy/zones.js';
import { HubError } from '../../src/domain/errors.js';

// A meter's limit per slot: capacity x slotHours x capFactor, rounded down to the Wh
// (PROTOCOL-MARKET.md, "Meters and trading limits").

const zone = (slotMinutes: 5 | 15 | 30 | 60, capFactorE4: bigint) => ({ slotMinutes, capFactorE4 });

describe('the limit of a meter per slot', () => {
  test.each([
    // kW x hours x capFactor = exact Wh, then rounded down
    [7_777n, 15, 5_000n, 972n], // 7.777 kW x 0.25 h x 0.5 = 0.972125 kWh
    [7_777n, 60, 5_000n, 3_888n], // 3.8885 kWh
    [1n, 60, 5_000n, 0n], // 1 W x 1 h x 0.5 = 0.5 Wh
    [2n, 60, 5_000n, 1n],
    [10_000n, 5, 10_000n, 833n], // 10 kW x 1/12 h = 833.33 Wh
    [11_000n, 30, 2_500n, 1_375n], // exact: 11 kW x 0.5 h x 0.25
    [0n, 15, 5_000n, 0n],
    [MAX_CAPACITY_W, 60, 10_000n, 1_000_000_000n], // 1 GW for an hour: 1 GWh
  ] as const)('%d W, %d-minute slots, capFactor %d e-4: %d Wh', (w, minutes, cap, wh) => {
    expect(slotLimitWh(w, zone(minutes, cap))).toBe(wh);
  });

  test('never above the exact product and less than 1 Wh below it (random capacities and zones)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_CAPACITY_W }),
        fc.constantFrom(...SLOT_MINUTES),
        fc.bigInt({ min: 1n, max: 10_000n }),
        (w, minutes, cap) => {
          const wh = slotLimitWh(w, zone(minutes, cap));
          // exact product in units of 1/(60 x 10000) Wh
          const exact = w * BigInt(minutes) * cap;
          const scale = 60n * 10_000n;
          expect(wh * scale <= exact).toBe(true);
          expect(exact - wh * scale < scale).toBe(true);
        },
      ),
    );
  });

  test('export and import each from their own capacity', () => {
    expect(meterLimits({ exportCapacityW: 4_000n, importCapacityW: 0n }, zone(15, 5_000n))).toEqual({
      exportWh: 500n,
      importWh: 0n,
    });
  });
});

describe('the slots of a meter', () => {
  const meter = { exportCapacityW: 7_777n, importCapacityW: 3_001n };
  const window = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

  test('every slot of the grid in [from, to), limits in kWh with 3 decimals', () => {
    const items = meterSlots(meter, zone(15, 5_000n), window('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z'));
    expect(items.map((s) => s.start)).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:15:00.000Z',
      '2026-03-01T10:30:00.000Z',
      '2026-03-01T10:45:00.000Z',
    ]);
    expect(items[0]).toEqual({
      start: '2026-03-01T10:00:00.000Z',
      exportLimitKwh: '0.972',
      exportContractedKwh: '0.000',
      importLimitKwh: '0.375', // 3.001 kW x 0.25 h x 0.5 = 0.375125
      importContractedKwh: '0.000',
    });
  });

  test('what is contracted shows in its slot', () => {
    const t = Date.parse('2026-03-01T10:15:00Z');
    const items = meterSlots(
      meter,
      zone(15, 5_000n),
      window('2026-03-01T10:00:00Z', '2026-03-01T10:30:00Z'),
      new Map([[t, { exportWh: 500n, importWh: 1n }]]),
    );
    expect(items[1]).toMatchObject({ exportContractedKwh: '0.500', importContractedKwh: '0.001' });
    expect(items[0]).toMatchObject({ exportContractedKwh: '0.000' });
  });

  test('from or to off the grid: VALIDATION_FAILED naming each', () => {
    const run = () =>
      meterSlots(meter, zone(15, 5_000n), window('2026-03-01T10:05:00Z', '2026-03-01T10:50:00Z'));
    expect(run).toThrow(HubError);
    try {
      run();
    } catch (e) {
      expect((e as HubError).details?.issues).toEqual([
        { path: 'from', message: expect.stringContaining('15-minute grid') },
        { path: 'to', message: expect.stringContaining('15-minute grid') },
      ]);
    }
  });
});

describe('the input of a meter', () => {
  const schema = meterInput(defaultMarketProfile());
  const base = {
    externalId: 'EAN.8716:859_0-1',
    zone: 'de-north',
    exportCapacityKw: '7.5',
    importCapacityKw: 0,
  };

  test("the zone in any case comes out in the profile's spelling; capacities in W", () => {
    expect(schema.parse(base)).toEqual({
      ...base,
      zone: 'DE-North',
      exportCapacityKw: 7_500n,
      importCapacityKw: 0n,
    });
  });

  test.each([
    [{ externalId: '' }, ['externalId']],
    [{ externalId: 'a'.repeat(65) }, ['externalId']],
    [{ externalId: 'EAN 1' }, ['externalId']],
    [{ zone: 'Mars' }, ['zone']],
    [{ exportCapacityKw: '1.0001' }, ['exportCapacityKw']],
    [{ exportCapacityKw: '-1' }, ['exportCapacityKw']],
    [{ importCapacityKw: '1000000.001' }, ['importCapacityKw']],
    [{ exportCapacityKw: '0', importCapacityKw: '0.000' }, ['exportCapacityKw', 'importCapacityKw']],
    [{ label: 'x'.repeat(65) }, ['label']],
    [{ colour: 'red' }, ['']],
    // a field's own issue is reported alone: the refinement of the whole waits for the fields
    [{ exportCapacityKw: 'lots', importCapacityKw: 0 }, ['exportCapacityKw']],
  ])('%j is refused at %j', (patch, paths) => {
    const r = schema.safeParse({ ...base, ...patch });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(paths);
  });
});
