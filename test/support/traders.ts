// Traders for tests: registered through REST, connected with the bundled client (src/client).
import { type EventEnvelope, HubClient, type Listing, type Meter } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from './client.js';

type WithMeter<T> = Omit<T, 'meterId'> & { meterId?: string };
type ListingArgs = Parameters<HubClient['createListing']>[0];
type ProposeArgs = Parameters<HubClient['propose']>[0];

/**
 * A test trader: a HubClient with a meter of its own, which createListing and propose name when
 * the input names none (the hub still checks it like any other meter).
 */
export interface TestTrader extends HubClient {
  meterId: string;
  /** the meter's externalId, when this trader registered it (readings name meters by it) */
  meterExternalId: string;
  createListing(input: WithMeter<ListingArgs>): ReturnType<HubClient['createListing']>;
  propose(input: WithMeter<ProposeArgs>): ReturnType<HubClient['propose']>;
}

/** A meter for a test trader: in DE-North, the largest capacities (limits never in the way). */
export const BIG_METER = { zone: 'DE-North', exportCapacityKw: '1000000', importCapacityKw: '1000000' };

let meters = 0;

/** Registers a meter for `client` (POST /api/v1/meters); its view. */
export function registerMeter(
  client: HubClient,
  meter: { zone: string; exportCapacityKw: string; importCapacityKw: string; label?: string } = BIG_METER,
): Promise<Meter> {
  const externalId = `TEST-${process.pid}-${Date.now().toString(36)}-${++meters}`;
  return client.rest<Meter>('POST', '/api/v1/meters', { externalId, ...meter });
}

/** `client` with a meter of its own (registered now, or `meterId`) named by default in its listings and proposals. */
export async function withMeter(client: HubClient, meter: Partial<typeof BIG_METER> | { id: string } = {}) {
  const registered = 'id' in meter ? undefined : await registerMeter(client, { ...BIG_METER, ...meter });
  const meterId = registered?.id ?? (meter as { id: string }).id;
  const t = client as TestTrader;
  t.meterExternalId = registered?.externalId ?? '';
  const create = client.createListing.bind(client);
  const propose = client.propose.bind(client);
  t.meterId = meterId;
  t.createListing = (input) => create({ meterId, ...input } as ListingArgs);
  t.propose = (input) => propose({ meterId, ...input } as ProposeArgs);
  return t;
}

export async function trader(
  baseUrl: string,
  name = 'trader',
  connect = true,
  meter: Partial<typeof BIG_METER> = {},
  options?: Parameters<typeof HubClient.register>[2],
): Promise<TestTrader> {
  const client = await HubClient.register(
    baseUrl,
    { email: uniqueEmail(name), password: PASSWORD, displayName: name },
    options,
  );
  const t = await withMeter(client, meter);
  if (connect) await client.connect();
  return t;
}

/** Collects a client's events; `next(type)` waits for the next one of that type. */
export function recorder(client: HubClient) {
  const seen: EventEnvelope[] = [];
  const waiters: { match: (e: EventEnvelope) => boolean; resolve: (e: EventEnvelope) => void }[] = [];
  let read = 0;
  client.onEvent((e) => {
    seen.push(e);
    for (const w of [...waiters]) {
      if (w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  return {
    seen,
    /** the first event after those already waited for that matches */
    next(match: string | ((e: EventEnvelope) => boolean)): Promise<EventEnvelope> {
      const fn = typeof match === 'string' ? (e: EventEnvelope) => e.type === match : match;
      const found = seen.slice(read).find(fn);
      if (found) {
        read = seen.indexOf(found) + 1;
        return Promise.resolve(found);
      }
      return new Promise((resolve) =>
        waiters.push({
          match: fn,
          resolve: (e) => {
            read = seen.indexOf(e) + 1;
            resolve(e);
          },
        }),
      );
    },
  };
}

/** A listing input delivering from `hoursAhead` hours from now for one hour. */
export function listingInput(overrides: Partial<Parameters<HubClient['createListing']>[0]> = {}) {
  const start = new Date(Date.now() + 24 * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    side: 'supply' as const,
    energyType: 'solar',
    volumeKwh: '100',
    pricePerKwh: '0.12',
    deliveryStart: start.toISOString(),
    deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
    zone: 'DE-North',
    ...overrides,
  };
}

export type { Listing };
