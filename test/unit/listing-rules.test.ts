import { describe, expect, test } from 'vitest';
import { defaultMarketProfile } from '../../src/domain/energy/market-config.js';
import type { Zone } from '../../src/domain/energy/zones.js';
import { HubError } from '../../src/domain/errors.js';
import {
  changed,
  ENERGY_TYPES,
  isTradable,
  LISTING_STATUSES,
  type Listing,
  listingEvent,
  listingView,
} from '../../src/domain/listing.js';
import { checkNewListing } from '../../src/domain/listing-commands.js';
import { createListingCommand, feedFilterInput } from '../../src/domain/schemas.js';
import { plainText } from '../../src/domain/text.js';

const NOW = new Date('2026-11-26T08:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

/** Runs `fn`, which must throw a HubError; returns it. */
function hubError(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError, nothing was thrown');
}

describe('checkNewListing', () => {
  // a zone of the default profile with a 5-minute gate lead and 15-minute slots
  const ZONE = { ...defaultMarketProfile().zone('DE-North')!, gateLeadMinutes: 5, slotMinutes: 15 as const };
  const NO_GATE = { ...ZONE, gateLeadMinutes: 0 };
  const terms = { volumeKwh: 1_000n, pricePerKwh: 1_000n };
  const check = (start: number, end: number, zone: Zone = ZONE) =>
    checkNewListing({ deliveryStart: at(start), deliveryEnd: at(end), ...terms }, NOW, zone);

  test.each<[string, number, number, Zone]>([
    ['well ahead', 2 * HOUR, 3 * HOUR, ZONE],
    ['the first slot start after the gate lead', 15 * MIN, 30 * MIN, ZONE],
    ['one slot long', 2 * HOUR, 2 * HOUR + 15 * MIN, ZONE],
    ['96 slots long', 2 * HOUR, 2 * HOUR + 96 * 15 * MIN, ZONE],
    ['no gate lead, the next slot', 15 * MIN, HOUR, NO_GATE],
  ])('passes: %s', (_name, start, end, zone) => {
    expect(() => check(start, end, zone)).not.toThrow();
  });

  const END_BEFORE = { path: 'deliveryEnd', message: 'must be after deliveryStart' };
  const TOO_SOON = {
    path: 'deliveryStart',
    message: 'must be more than 5 minutes from now (the gate of zone DE-North closes then)',
  };
  const PAST = { path: 'deliveryStart', message: 'must be in the future' };
  const grid = (path: string) => ({
    path,
    message: "must be on the zone's 15-minute grid (a multiple of 15 minutes from midnight UTC)",
  });

  test.each<[string, number, number, Zone, { path: string; message: string }[]]>([
    ['end equal to start', 2 * HOUR, 2 * HOUR, ZONE, [END_BEFORE]],
    ['end before start', 3 * HOUR, 2 * HOUR, ZONE, [END_BEFORE]],
    ['start at now (on the grid), inside the gate lead', 0, HOUR, ZONE, [TOO_SOON]],
    ['start in the past', -HOUR, HOUR, ZONE, [TOO_SOON]],
    ['start equal to now, no gate lead', 0, HOUR, NO_GATE, [PAST]],
    ['both at once', -HOUR, -2 * HOUR, ZONE, [END_BEFORE, TOO_SOON]],
    ['a start off the grid', 2 * HOUR + 1, 3 * HOUR, ZONE, [grid('deliveryStart')]],
    ['an end off the grid', 2 * HOUR, 3 * HOUR + 5 * MIN, ZONE, [grid('deliveryEnd')]],
    [
      '97 slots',
      2 * HOUR,
      2 * HOUR + 97 * 15 * MIN,
      ZONE,
      [{ path: 'deliveryEnd', message: 'must be at most 96 slots of 15 minutes after deliveryStart' }],
    ],
  ])('fails: %s', (_name, start, end, zone, issues) => {
    const err = hubError(() => check(start, end, zone));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ issues });
  });
});

function listing(over: Partial<Listing> = {}): Listing {
  return {
    id: '0b6e4d1a-3c2f-4e8a-9b7d-5f1e2a3c4d5e',
    ownerId: 'user-1',
    ownerName: 'User one',
    side: 'supply',
    energyType: 'solar',
    volumeWh: 12_500n,
    availableWh: 7_250n,
    priceE4: 1_200n,
    currency: 'EUR',
    deliveryStart: at(2 * HOUR),
    deliveryEnd: at(3 * HOUR),
    zone: 'DE-LU',
    description: 'rooftop PV',
    status: 'active',
    version: 3,
    createdAt: at(-HOUR),
    updatedAt: at(-MIN),
    meterId: 'b1c2d3e4-0000-4000-8000-000000000001',
    slotMinutes: 60,
    allOrNone: false,
    gateClosesAt: at(2 * HOUR - 5 * MIN),
    ...over,
  };
}

describe('isTradable', () => {
  const GATE = 5 * MIN;

  test.each<[string, Partial<Listing>, number, boolean]>([
    ['active, well before the gate', {}, 0, true],
    ['active, 1 ms before the gate', {}, 2 * HOUR - GATE - 1, true],
    ['active, exactly at the gate', {}, 2 * HOUR - GATE, false],
    ['active, after the gate', {}, 2 * HOUR - GATE + 1, false],
    ['active, after delivery started', {}, 3 * HOUR, false],
    ...LISTING_STATUSES.filter((s) => s !== 'active').map(
      (status): [string, Partial<Listing>, number, boolean] => [
        `${status}, before the gate`,
        { status },
        0,
        false,
      ],
    ),
  ])('%s -> %s', (_name, over, nowOffset, expected) => {
    expect(isTradable(listing(over), at(nowOffset))).toBe(expected);
  });
});

describe('listingView', () => {
  test('shows quantities as fixed-scale strings and times as ISO strings', () => {
    const l = listing();
    expect(listingView(l)).toEqual({
      id: l.id,
      ownerId: 'user-1',
      ownerName: 'User one',
      side: 'supply',
      energyType: 'solar',
      volumeKwh: '12.500',
      availableKwh: '7.250',
      pricePerKwh: '0.1200',
      currency: 'EUR',
      deliveryStart: '2026-11-26T10:00:00.000Z',
      deliveryEnd: '2026-11-26T11:00:00.000Z',
      zone: 'DE-LU',
      description: 'rooftop PV',
      status: 'active',
      version: 3,
      createdAt: '2026-11-26T07:00:00.000Z',
      updatedAt: '2026-11-26T07:59:00.000Z',
      allOrNone: false,
      slots: [{ start: '2026-11-26T10:00:00.000Z', volumeKwh: '12.500' }],
    });
  });

  test('shows the meter to the owner only', () => {
    const l = listing();
    expect(listingView(l, 'user-1').meterId).toBe(l.meterId);
    expect(listingView(l, 'user-2')).not.toHaveProperty('meterId');
    expect(listingView(l)).not.toHaveProperty('meterId');
    expect(listingEvent('listing.created', l).data).not.toHaveProperty('meterId');
  });

  test('a listing from before meters shows its volume as one share from its delivery start', () => {
    const l = listing({ meterId: null, slotMinutes: null, deliveryEnd: at(2 * HOUR + 7 * MIN) });
    expect(listingView(l, 'user-1')).not.toHaveProperty('meterId');
    expect(listingView(l).slots).toEqual([{ start: '2026-11-26T10:00:00.000Z', volumeKwh: '12.500' }]);
  });

  test.each<[bigint, bigint, bigint, string, string, string]>([
    [1n, 0n, 0n, '0.001', '0.000', '0.0000'],
    [
      1_000_000_000_000n,
      1_000_000_000_000n,
      10_000_000_000n,
      '1000000000.000',
      '1000000000.000',
      '1000000.0000',
    ],
    [12_345n, 5n, 1n, '12.345', '0.005', '0.0001'],
  ])(
    'volume %s Wh, available %s Wh, price %s',
    (volumeWh, availableWh, priceE4, volume, available, price) => {
      const v = listingView(listing({ volumeWh, availableWh, priceE4 }));
      expect([v.volumeKwh, v.availableKwh, v.pricePerKwh]).toEqual([volume, available, price]);
    },
  );

  test('the view is JSON-safe (no bigint, no Date)', () => {
    const v = listingView(listing());
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });
});

describe('listingEvent', () => {
  test('is addressed to the owner and routed by type, zone and side', () => {
    const l = listing({ side: 'demand', energyType: 'wind', zone: 'NL' });
    expect(listingEvent('listing.updated', l)).toEqual({
      type: 'listing.updated',
      data: listingView(l),
      users: ['user-1'],
      market: { energyType: 'wind', zone: 'NL', side: 'demand' },
    });
  });
});

describe('changed', () => {
  const later = at(10 * MIN);

  test.each<[string, Partial<Pick<Listing, 'availableWh' | 'status'>>]>([
    ['no patch', {}],
    ['available volume', { availableWh: 1_000n }],
    ['status', { status: 'cancelled' }],
    ['both', { availableWh: 0n, status: 'filled' }],
  ])('%s: bumps the version by one and sets updatedAt', (_name, patch) => {
    const before = listing();
    const snapshot = structuredClone(before);
    const after = changed(before, patch, later);
    expect(after).toEqual({ ...snapshot, ...patch, version: 4, updatedAt: later });
    expect(after.createdAt).toEqual(snapshot.createdAt);
    expect(after).not.toBe(before);
    expect(before).toEqual(snapshot);
  });

  test('chained changes count up', () => {
    const a = changed(listing({ version: 1 }), { availableWh: 5_000n }, at(MIN));
    const b = changed(a, { status: 'filled', availableWh: 0n }, at(2 * MIN));
    expect([a.version, b.version]).toEqual([2, 3]);
    expect(b.updatedAt).toEqual(at(2 * MIN));
  });
});

describe('plainText', () => {
  test.each<[string, string]>([
    ['plain words', 'plain words'],
    ['<b>bold</b> and <i>italic</i>', 'bold and italic'],
    ['<script>alert(1)</script>after', 'after'],
    ['before<script type="text/javascript">document.cookie</script>', 'before'],
    ['<style>p { color: red }</style>styled', 'styled'],
    ['<a href="javascript:alert(1)">link</a>', 'link'],
    ['<img src=x onerror=alert(1)>img', 'img'],
    ['<p>one</p><p>two</p>', 'onetwo'],
    ['<!-- comment -->text', 'text'],
    ['5 < 6 & 7 > 2', '5 < 6 & 7 > 2'],
    ['5 &lt; 6 &amp; 7 &gt; 2', '5 < 6 & 7 > 2'],
    ['&quot;quoted&quot; &#39;single&#39; &#x41;&#66;', `"quoted" 'single' AB`],
    // decoded and stripped until nothing changes: no encoded layer brings a tag back
    ['&amp;lt;', '<'],
    ['&lt;b&gt;not a tag&lt;/b&gt;', 'not a tag'],
    ['  padded \n\t', 'padded'],
    ['  <b> inner </b>  ', 'inner'],
    ['', ''],
    ['<br/>', ''],
    ['ünïcödé ☀️', 'ünïcödé ☀️'],
  ])('%j -> %j', (input, expected) => {
    expect(plainText(input)).toEqual({ ok: true, text: expected });
  });
});

const REQUEST_ID = '3f0e8f5c-6a51-4c2e-9a7b-1d2e3f4a5b6c';
const GOOD = {
  requestId: REQUEST_ID,
  side: 'supply',
  energyType: 'solar',
  volumeKwh: '12.5',
  pricePerKwh: 0.12,
  deliveryStart: '2026-11-26T10:00:00.000Z',
  deliveryEnd: '2026-11-26T11:00:00+01:00',
  meterId: 'b1c2d3e4-0000-4000-8000-000000000001',
  zone: 'DE-LU',
  description: '<b>Rooftop</b> PV &amp; storage',
};

describe('createListingCommand', () => {
  test('parses a good payload into bigint units and Dates', () => {
    const out = createListingCommand.parse(GOOD);
    expect(out).toEqual({
      requestId: REQUEST_ID,
      side: 'supply',
      energyType: 'solar',
      volumeKwh: 12_500n,
      pricePerKwh: 1_200n,
      deliveryStart: new Date('2026-11-26T10:00:00.000Z'),
      deliveryEnd: new Date('2026-11-26T10:00:00.000Z'),
      meterId: 'b1c2d3e4-0000-4000-8000-000000000001',
      zone: 'DE-LU',
      description: 'Rooftop PV & storage',
    });
    expect(typeof out.volumeKwh).toBe('bigint');
    expect(typeof out.pricePerKwh).toBe('bigint');
    expect(out.deliveryStart).toBeInstanceOf(Date);
    expect(out.deliveryEnd).toBeInstanceOf(Date);
  });

  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['no description', { description: undefined }, { description: undefined }],
    ['volume as a number', { volumeKwh: 0.001 }, { volumeKwh: 1n }],
    ['largest volume', { volumeKwh: '1000000000' }, { volumeKwh: 1_000_000_000_000n }],
    ['price as a string', { pricePerKwh: '0.1234' }, { pricePerKwh: 1_234n }],
    ['free energy', { pricePerKwh: 0 }, { pricePerKwh: 0n }],
    ['largest price', { pricePerKwh: '1000000.0000' }, { pricePerKwh: 10_000_000_000n }],
    ['every energy type', { energyType: 'geothermal' }, { energyType: 'geothermal' }],
    ['demand side', { side: 'demand' }, { side: 'demand' }],
    ['zone of 64 chars', { zone: 'z'.repeat(64) }, { zone: 'z'.repeat(64) }],
    ['zone with _ and digits', { zone: 'NO_2' }, { zone: 'NO_2' }],
    ['no zone (the meter has one)', { zone: undefined }, { zone: undefined }],
    ['all or none', { allOrNone: true }, { allOrNone: true }],
    ['empty description', { description: '' }, { description: '' }],
    [
      'description of 500 chars after markup',
      { description: `<b>${'a'.repeat(500)}</b>` },
      { description: 'a'.repeat(500) },
    ],
    ['entities count once decoded', { description: '&amp;'.repeat(400) }, { description: '&'.repeat(400) }],
  ])('accepts %s', (_name, patch, expected) => {
    const r = createListingCommand.safeParse({ ...GOOD, ...patch });
    expect(r.error?.issues).toBeUndefined();
    expect(r.data).toMatchObject(expected);
  });

  test('every energy type is accepted', () => {
    for (const energyType of ENERGY_TYPES) {
      expect(createListingCommand.safeParse({ ...GOOD, energyType }).success).toBe(true);
    }
  });

  test.each<[string, Record<string, unknown>, string, string?]>([
    ['an unknown field', { price: 1 }, '', 'Unrecognized key: "price"'],
    ['an owner set by the client', { ownerId: 'someone' }, '', 'Unrecognized key: "ownerId"'],
    ['no requestId', { requestId: undefined }, 'requestId'],
    ['a requestId that is no UUID', { requestId: 'abc' }, 'requestId', 'must be a UUID'],
    ['a bad side', { side: 'buy' }, 'side'],
    ['a bad energy type', { energyType: 'nuclear' }, 'energyType'],
    ['an energy type in capitals', { energyType: 'Solar' }, 'energyType'],
    ['a volume of the wrong type', { volumeKwh: true }, 'volumeKwh'],
    ['a volume as an array', { volumeKwh: [12.5] }, 'volumeKwh'],
    ['a missing volume', { volumeKwh: undefined }, 'volumeKwh'],
    ['a volume with 4 decimals', { volumeKwh: '12.5001' }, 'volumeKwh', 'must have at most 3 decimals'],
    ['a number volume with 4 decimals', { volumeKwh: 0.0001 }, 'volumeKwh', 'must have at most 3 decimals'],
    ['a zero volume', { volumeKwh: 0 }, 'volumeKwh', 'must be at least 0.001'],
    ['a negative volume', { volumeKwh: '-1' }, 'volumeKwh', 'must be at least 0.001'],
    ['a volume over 1 TWh', { volumeKwh: '1000000000.001' }, 'volumeKwh', 'must be at most 1000000000.000'],
    [
      'a volume in exponent form',
      { volumeKwh: '1e3' },
      'volumeKwh',
      'must be a plain decimal such as "12.5"',
    ],
    ['a volume string over 40 chars', { volumeKwh: `1.${'0'.repeat(40)}` }, 'volumeKwh'],
    ['a volume of NaN', { volumeKwh: Number.NaN }, 'volumeKwh'],
    ['a price with 5 decimals', { pricePerKwh: '0.12345' }, 'pricePerKwh', 'must have at most 4 decimals'],
    ['a negative price', { pricePerKwh: -0.01 }, 'pricePerKwh', 'must be at least 0.0000'],
    ['a price of Infinity', { pricePerKwh: Number.POSITIVE_INFINITY }, 'pricePerKwh'],
    [
      'a price with a comma',
      { pricePerKwh: '0,12' },
      'pricePerKwh',
      'must be a plain decimal such as "12.5"',
    ],
    ['a time without offset', { deliveryStart: '2026-11-26T10:00:00' }, 'deliveryStart'],
    ['a date only', { deliveryEnd: '2026-11-26' }, 'deliveryEnd'],
    ['a time as epoch ms', { deliveryStart: 1_795_000_000_000 }, 'deliveryStart'],
    ['an impossible date', { deliveryStart: '2026-02-30T10:00:00Z' }, 'deliveryStart'],
    ['a zone with a space', { zone: 'DE LU' }, 'zone', 'must be 1 to 64 letters, digits, _ or -'],
    ['an empty zone', { zone: '' }, 'zone', 'must be 1 to 64 letters, digits, _ or -'],
    ['a zone of 65 chars', { zone: 'z'.repeat(65) }, 'zone', 'must be 1 to 64 letters, digits, _ or -'],
    ['a zone with a colon', { zone: 'DE:LU' }, 'zone', 'must be 1 to 64 letters, digits, _ or -'],
    ['the wildcard zone', { zone: '*' }, 'zone', 'must be 1 to 64 letters, digits, _ or -'],
    ['a zone as a number', { zone: 10 }, 'zone'],
    ['no meter', { meterId: undefined }, 'meterId'],
    ['a meter id that is no UUID', { meterId: 'meter-1' }, 'meterId', 'must be the id of one of your meters'],
    ['allOrNone as a string', { allOrNone: 'true' }, 'allOrNone'],
    [
      'a description over 500 chars after markup removal',
      { description: `<b>${'a'.repeat(501)}</b>` },
      'description',
      'must be at most 500 characters',
    ],
    ['a description over 2000 chars raw', { description: '<i></i>'.repeat(300) }, 'description'],
    ['a description that is not a string', { description: 42 }, 'description'],
  ])('refuses %s', (_name, patch, path, message) => {
    const r = createListingCommand.safeParse({ ...GOOD, ...patch });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(path);
    if (message !== undefined) expect(issues[0]!.message).toBe(message);
  });

  test('refuses a payload that is not an object', () => {
    for (const input of [null, undefined, 'x', 1, []]) {
      expect(createListingCommand.safeParse(input).success).toBe(false);
    }
  });
});

describe('feedFilterInput', () => {
  test.each<[string, unknown]>([
    ['an empty filter', {}],
    ['every field', { energyTypes: ['solar', 'wind'], zones: ['DE-LU', 'NL'], side: 'demand' }],
    ['empty lists', { energyTypes: [], zones: [] }],
    ['all 6 energy types', { energyTypes: [...ENERGY_TYPES] }],
    ['20 zones', { zones: Array.from({ length: 20 }, (_, i) => `Z${i}`) }],
    ['the side alone', { side: 'supply' }],
  ])('accepts %s unchanged', (_name, input) => {
    expect(feedFilterInput.parse(input)).toEqual(input);
  });

  test.each<[string, unknown, string]>([
    ['an unknown field', { energyType: 'solar' }, ''],
    ['a type that is no list', { energyTypes: 'solar' }, 'energyTypes'],
    ['an unknown type', { energyTypes: ['nuclear'] }, 'energyTypes.0'],
    ['7 types', { energyTypes: [...ENERGY_TYPES, 'solar'] }, 'energyTypes'],
    ['21 zones', { zones: Array.from({ length: 21 }, (_, i) => `Z${i}`) }, 'zones'],
    ['a bad zone', { zones: ['NL', 'DE LU'] }, 'zones.1'],
    ['a wildcard zone', { zones: ['*'] }, 'zones.0'],
    ['a zone as a number', { zones: [1] }, 'zones.0'],
    ['a bad side', { side: 'both' }, 'side'],
    ['a null side', { side: null }, 'side'],
  ])('refuses %s', (_name, input, path) => {
    const r = feedFilterInput.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual([path]);
  });
});
