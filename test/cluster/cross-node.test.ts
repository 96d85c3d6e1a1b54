import { describe, expect, test } from 'vitest';
import type { Listing, Swap } from '../../src/client/index.js';
import { marketView } from '../support/client.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready =
  (await postgresAvailable('cross-node delivery')) && (await redisAvailable('cross-node delivery'));

describe.skipIf(!ready)('two nodes over Redis', () => {
  const nodes = twoNodes();

  test('a trader on node A negotiates with a trader on node B and both see everything live', async () => {
    const seller = await trader(nodes.a.url, 'seller');
    const buyer = await trader(nodes.b.url, 'buyer');
    const watcher = await trader(nodes.b.url, 'watcher');
    await watcher.subscribeFeed({ energyTypes: ['wind'] });
    const [sellerLog, buyerLog, watcherLog] = [recorder(seller), recorder(buyer), recorder(watcher)];

    const listing = await seller.createListing(listingInput({ energyType: 'wind', volumeKwh: '10' }));
    // the market's event carries the listing without its owner's meterId
    expect((await watcherLog.next('listing.created')).data).toEqual(marketView(listing));
    const proposed = await buyer.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1' });
    expect((await sellerLog.next('swap.proposed')).data).toEqual(proposed);
    const countered = await seller.counter({
      swapId: proposed.id,
      round: 1,
      volumeKwh: '10',
      pricePerKwh: '0.11',
    });
    expect((await buyerLog.next('swap.countered')).data).toEqual(countered);
    const accepted = await buyer.accept(proposed.id, 2);
    expect((await sellerLog.next('swap.accepted')).data).toEqual(accepted);
    const closed = await watcherLog.next('listing.closed');
    expect(closed.data).toMatchObject({ id: listing.id, status: 'filled', availableKwh: '0.000' });

    // both parties saw the same events, in the same ascending order
    const personal = (log: ReturnType<typeof recorder>) =>
      log.seen.filter((e) => e.type.startsWith('swap.')).map((e) => e.id);
    await buyerLog.next('swap.accepted');
    expect(personal(buyerLog)).toEqual(personal(sellerLog));
    for (const log of [sellerLog, buyerLog, watcherLog]) {
      const ids = log.seen.map((e) => BigInt(e.id));
      expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : 1)));
    }
    expect((accepted as Swap).status).toBe('accepted');
    expect((closed.data as Listing).version).toBe(2);
    for (const c of [seller, buyer, watcher]) c.close();
  });

  test('exactly one node relays the outbox', () => {
    expect([nodes.a.hub.relay!.isLeader, nodes.b.hub.relay!.isLeader].filter(Boolean)).toHaveLength(1);
  });
});
