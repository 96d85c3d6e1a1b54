// The servers fanout measures: the hub (a publisher trader creating listings) and the bare relay.
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import type { Listing } from '../../../src/client/index.js';
import { listingInput, registerTraders } from '../../harness.js';
import type { FanoutTarget } from './deliveries.js';

/**
 * The hub as a fanout target: `traders` subscriber accounts (socket i uses trader i % traders) and
 * one publisher on urls[0] creating listings.
 */
export async function hubTarget(
  urls: string[],
  pids: number[],
  maxSubscribers: number,
  socketsPerTrader: number,
): Promise<{ target: FanoutTarget; template: () => Listing | undefined; close(): void }> {
  const traders = Math.max(1, Math.ceil(maxSubscribers / socketsPerTrader));
  // trader 0 (the publisher) is on urls[0]; registerTraders spreads the others over the nodes
  const clients = await registerTraders(urls, traders + 1, 'fan');
  const [publisher, ...subs] = clients;
  await publisher!.connect();
  let template: Listing | undefined;
  return {
    target: {
      name: urls.length > 1 ? `hub x${urls.length}` : 'hub',
      urls,
      pids,
      auth: (i) => ({ token: subs[i % subs.length]!.session.accessToken }),
      async publish(seq, stamp) {
        const listing = await publisher!.createListing({
          ...listingInput('10', publisher!.meterId),
          description: `fanout ${seq} ${stamp.toFixed(3)}`,
        });
        template ??= listing;
      },
    },
    template: () => template,
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

/** A listing with the hub's fields, for the bare relay when no hub listing was captured. */
function syntheticListing(): Listing {
  const input = listingInput('10', '');
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    ownerId: randomUUID(),
    side: 'supply',
    energyType: input.energyType,
    volumeKwh: '10.000',
    availableKwh: '10.000',
    pricePerKwh: '0.1000',
    currency: 'EUR',
    deliveryStart: input.deliveryStart,
    deliveryEnd: input.deliveryEnd,
    zone: input.zone,
    description: '',
    status: 'active',
    version: 1,
    createdAt: at,
    updatedAt: at,
    allOrNone: false,
    slots: [{ start: input.deliveryStart, volumeKwh: '10.000' }],
  } as Listing;
}

/** The bare relay as a fanout target: the publisher is a raw socket on urls[0] emitting feed:publish. */
export async function relayTarget(
  urls: string[],
  pids: number[],
  template: Listing | undefined,
): Promise<{ target: FanoutTarget; close(): void }> {
  const pub = io(urls[0]!, { transports: ['websocket'], auth: { userId: 'publisher' } });
  await new Promise<void>((resolve, reject) => {
    pub.once('connect', () => resolve());
    pub.once('connect_error', reject);
  });
  const base = template ?? syntheticListing();
  return {
    target: {
      name: urls.length > 1 ? `bare relay x${urls.length}` : 'bare relay',
      urls,
      pids,
      auth: (i) => ({ userId: `sub-${i % 16}` }),
      async publish(seq, stamp) {
        const answer = (await pub.timeout(20_000).emitWithAck('feed:publish', {
          ...base,
          id: randomUUID(),
          description: `fanout ${seq} ${stamp.toFixed(3)}`,
        })) as { ok: boolean };
        if (!answer.ok) throw new Error('not ok');
      },
    },
    close: () => pub.close(),
  };
}
