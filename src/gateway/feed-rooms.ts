import type { MarketKey } from '../domain/events.js';
import { SIDES } from '../domain/listing.js';
import type { FeedFilter } from '../domain/schemas.js';

const ANY = '*';

/**
 * Feed subscriptions as Socket.IO rooms, so the Redis adapter routes a market event only to the
 * nodes and sockets that want it. A filter joins one room per combination of its values, with
 * `*` for a dimension it leaves open; an event goes to the 8 rooms that can match it.
 */
export function roomsForFilter(filter: FeedFilter): string[] {
  const types = filter.energyTypes?.length ? filter.energyTypes : [ANY];
  const zones = filter.zones?.length ? filter.zones : [ANY];
  const side = filter.side ?? ANY;
  const rooms: string[] = [];
  for (const t of new Set(types)) for (const z of new Set(zones)) rooms.push(feedRoom(t, z, side));
  return rooms;
}

export function roomsForMarketEvent(key: MarketKey): string[] {
  const rooms: string[] = [];
  // a trade has no side: subscribers of either side get it, as those of any
  const sides = key.side === undefined ? [...SIDES, ANY] : [key.side, ANY];
  for (const t of [key.energyType, ANY]) {
    for (const z of [key.zone, ANY]) for (const s of sides) rooms.push(feedRoom(t, z, s));
  }
  return rooms;
}

const feedRoom = (energyType: string, zone: string, side: string) => `f:${energyType}:${zone}:${side}`;

export const isFeedRoom = (room: string) => room.startsWith('f:');
