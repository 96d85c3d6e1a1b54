// Traders for tests: registered through REST, connected with the bundled client (src/client).
import { type EventEnvelope, HubClient, type Listing } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from './client.js';

export async function trader(baseUrl: string, name = 'trader', connect = true): Promise<HubClient> {
  const client = await HubClient.register(baseUrl, {
    email: uniqueEmail(name),
    password: PASSWORD,
    displayName: name,
  });
  if (connect) await client.connect();
  return client;
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
