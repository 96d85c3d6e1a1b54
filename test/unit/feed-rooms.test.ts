import { describe, expect, test } from 'vitest';
import type { MarketKey } from '../../src/domain/events.js';
import { ENERGY_TYPES, SIDES } from '../../src/domain/listing.js';
import { type FeedFilter, feedFilterInput } from '../../src/domain/schemas.js';
import { isFeedRoom, roomsForFilter, roomsForMarketEvent } from '../../src/gateway/feed-rooms.js';

const ZONES = ['DE-LU', 'NL', 'FR'] as const;

/** The meaning of a feed filter, stated directly. */
function matches(filter: FeedFilter, event: MarketKey): boolean {
  const typeOk = !filter.energyTypes?.length || (filter.energyTypes as string[]).includes(event.energyType);
  const zoneOk = !filter.zones?.length || filter.zones.includes(event.zone);
  const sideOk = filter.side === undefined || filter.side === event.side;
  return typeOk && zoneOk && sideOk;
}

/** What the rooms deliver: the socket is in a room the event is sent to. */
function delivered(filter: FeedFilter, event: MarketKey): boolean {
  const joined = new Set(roomsForFilter(filter));
  return roomsForMarketEvent(event).some((room) => joined.has(room));
}

/** Subsets of `values` with at most `max` elements, in a stable order. */
function subsets<T>(values: readonly T[], max: number): T[][] {
  const out: T[][] = [[]];
  for (const v of values) {
    for (const s of [...out]) if (s.length < max) out.push([...s, v]);
  }
  return out;
}

/** Lists of 0-2 values; an empty list as well as an absent one. */
function choices<T>(values: readonly T[]): (T[] | undefined)[] {
  return [undefined, ...subsets(values, 2)];
}

const FILTERS: FeedFilter[] = [];
for (const energyTypes of choices(ENERGY_TYPES)) {
  for (const zones of choices(ZONES)) {
    for (const side of [undefined, ...SIDES]) {
      const f: FeedFilter = {};
      if (energyTypes) f.energyTypes = energyTypes;
      if (zones) f.zones = zones;
      if (side) f.side = side;
      FILTERS.push(f);
    }
  }
}

const EVENTS: MarketKey[] = [];
for (const energyType of ENERGY_TYPES) {
  for (const zone of ZONES) for (const side of SIDES) EVENTS.push({ energyType, zone, side });
}

describe('the generated cases', () => {
  test('cover every combination of the small set of values', () => {
    // type lists: absent, [], 6 singles, 15 pairs; zone lists: absent, [], 3 singles, 3 pairs; 3 sides
    expect(FILTERS).toHaveLength((2 + 6 + 15) * (2 + 3 + 3) * 3);
    expect(EVENTS).toHaveLength(6 * 3 * 2);
  });

  test('every filter is one a client can send', () => {
    for (const f of FILTERS) expect(feedFilterInput.parse(f)).toEqual(f);
  });

  test('the direct predicate is not trivial', () => {
    const results = FILTERS.flatMap((f) => EVENTS.map((e) => matches(f, e)));
    expect(results).toContain(true);
    expect(results).toContain(false);
  });
});

describe('a socket gets an event exactly when its filter matches', () => {
  test('over all filters and events', () => {
    const wrong: { filter: FeedFilter; event: MarketKey; matches: boolean }[] = [];
    let matched = 0;
    for (const filter of FILTERS) {
      for (const event of EVENTS) {
        const m = matches(filter, event);
        if (m) matched++;
        if (delivered(filter, event) !== m) wrong.push({ filter, event, matches: m });
      }
    }
    expect(wrong).toEqual([]);
    expect(matched).toBeGreaterThan(0);
  });

  test.each<[string, FeedFilter, MarketKey, boolean]>([
    ['an empty filter takes everything', {}, { energyType: 'hydro', zone: 'FR', side: 'demand' }, true],
    [
      'empty lists take everything',
      { energyTypes: [], zones: [] },
      { energyType: 'other', zone: 'NL', side: 'supply' },
      true,
    ],
    [
      'the type matches',
      { energyTypes: ['wind', 'solar'] },
      { energyType: 'solar', zone: 'NL', side: 'supply' },
      true,
    ],
    [
      'the type does not match',
      { energyTypes: ['wind', 'hydro'] },
      { energyType: 'solar', zone: 'NL', side: 'supply' },
      false,
    ],
    [
      'the zone matches',
      { zones: ['FR', 'NL'] },
      { energyType: 'biomass', zone: 'NL', side: 'demand' },
      true,
    ],
    [
      'the zone does not match',
      { zones: ['FR'] },
      { energyType: 'biomass', zone: 'NL', side: 'demand' },
      false,
    ],
    ['the side matches', { side: 'demand' }, { energyType: 'wind', zone: 'FR', side: 'demand' }, true],
    [
      'the side does not match',
      { side: 'supply' },
      { energyType: 'wind', zone: 'FR', side: 'demand' },
      false,
    ],
    [
      'all three match',
      { energyTypes: ['geothermal'], zones: ['DE-LU'], side: 'supply' },
      { energyType: 'geothermal', zone: 'DE-LU', side: 'supply' },
      true,
    ],
    [
      'all but the side match',
      { energyTypes: ['geothermal'], zones: ['DE-LU'], side: 'supply' },
      { energyType: 'geothermal', zone: 'DE-LU', side: 'demand' },
      false,
    ],
    [
      'zones are case-sensitive',
      { zones: ['nl'] },
      { energyType: 'solar', zone: 'NL', side: 'supply' },
      false,
    ],
  ])('%s', (_name, filter, event, expected) => {
    expect(matches(filter, event)).toBe(expected);
    expect(delivered(filter, event)).toBe(expected);
  });
});

describe('roomsForFilter', () => {
  test('one room per combination, * for an open dimension', () => {
    expect(roomsForFilter({})).toEqual(['f:*:*:*']);
    expect(roomsForFilter({ energyTypes: [], zones: [] })).toEqual(['f:*:*:*']);
    expect(roomsForFilter({ side: 'supply' })).toEqual(['f:*:*:supply']);
    expect(roomsForFilter({ energyTypes: ['solar', 'wind'], zones: ['NL'] })).toEqual([
      'f:solar:NL:*',
      'f:wind:NL:*',
    ]);
    expect(
      roomsForFilter({ energyTypes: ['solar', 'wind'], zones: ['NL', 'FR'], side: 'demand' }).sort(),
    ).toEqual(['f:solar:FR:demand', 'f:solar:NL:demand', 'f:wind:FR:demand', 'f:wind:NL:demand']);
  });

  test('repeated values join a room once', () => {
    expect(roomsForFilter({ energyTypes: ['solar', 'solar'], zones: ['NL', 'NL', 'FR'] }).sort()).toEqual([
      'f:solar:FR:*',
      'f:solar:NL:*',
    ]);
  });

  test.each(FILTERS.filter((_, i) => i % 37 === 0))('%j: |types| x |zones| distinct feed rooms', (filter) => {
    const rooms = roomsForFilter(filter);
    const n = (filter.energyTypes?.length || 1) * (filter.zones?.length || 1);
    expect(rooms).toHaveLength(n);
    expect(new Set(rooms).size).toBe(n);
    expect(rooms.every(isFeedRoom)).toBe(true);
  });

  test('the largest filter a client can send joins 6 x 20 rooms', () => {
    const filter = feedFilterInput.parse({
      energyTypes: [...ENERGY_TYPES],
      zones: Array.from({ length: 20 }, (_, i) => `Z${i}`),
      side: 'supply',
    });
    expect(new Set(roomsForFilter(filter)).size).toBe(120);
  });
});

describe('roomsForMarketEvent', () => {
  test.each(EVENTS.filter((_, i) => i % 7 === 0))('%j goes to the 8 rooms that can match it', (event) => {
    const { energyType: t, zone: z, side: s } = event;
    const rooms = roomsForMarketEvent(event);
    expect(rooms).toHaveLength(8);
    expect([...rooms].sort()).toEqual(
      [
        `f:${t}:${z}:${s}`,
        `f:${t}:${z}:*`,
        `f:${t}:*:${s}`,
        `f:${t}:*:*`,
        `f:*:${z}:${s}`,
        `f:*:${z}:*`,
        `f:*:*:${s}`,
        'f:*:*:*',
      ].sort(),
    );
    expect(rooms.every(isFeedRoom)).toBe(true);
  });

  test('an event of one market shares no room with a filter for another', () => {
    const a = roomsForMarketEvent({ energyType: 'solar', zone: 'NL', side: 'supply' });
    const b = roomsForFilter({ energyTypes: ['wind'], zones: ['FR'], side: 'demand' });
    expect(a.filter((r) => b.includes(r))).toEqual([]);
  });
});

describe('isFeedRoom', () => {
  test.each<[string, boolean]>([
    ['f:*:*:*', true],
    ['f:solar:NL:supply', true],
    ['u:user-1', false],
    ['feed', false],
    ['', false],
  ])('%j -> %s', (room, expected) => {
    expect(isFeedRoom(room)).toBe(expected);
  });
});
