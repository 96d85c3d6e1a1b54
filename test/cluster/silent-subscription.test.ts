// A node whose subscription to the relay's stream is gone without a word (a re-subscription a Redis
// Cluster refused during a fail-over is only logged by the client): the relay's heartbeats stop
// reaching it, and after a few seconds of silence it catches up from the log and subscribes again.
// Here the node's own subscriber client is unsubscribed behind its back.
import { describe, expect, test } from 'vitest';
import { TestRedis } from '../support/cluster.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = await postgresAvailable('a silent subscription');

describe.skipIf(!ready)('a subscription gone without a word', () => {
  test("the node's clients still get their events, and then live ones again", async () => {
    const redis = await TestRedis.start();
    const db = await freshDatabase();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `t-${db.id}` };
    const a = await startHub({ db, env });
    await expect.poll(() => a.hub.relay?.isLeader, { timeout: 10_000 }).toBe(true);
    const b = await startHub({ db, env });
    const seller = await trader(a.url, 'seller');
    const buyer = await trader(b.url, 'buyer');
    try {
      const buyerLog = recorder(buyer);
      const listing = await seller.createListing(listingInput());
      // node B stops hearing the relay's stream; nothing tells the hub
      await b.hub.redis!.sub.sunsubscribe(`${env.REDIS_PREFIX}#events`);
      const offer = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      await seller.counter({ swapId: offer.id, round: 1, volumeKwh: '1', pricePerKwh: '0.2' });
      // the counter reaches the buyer on node B: from the log after the silence
      expect((await buyerLog.next('swap.countered')).data).toMatchObject({ id: offer.id });
      // and subscribed anew (both nodes on the channel again), so live steps reach it once more
      await expect
        .poll(
          async () =>
            Number(
              await b.hub
                .redis!.pub.call('PUBSUB', 'SHARDNUMSUB', `${env.REDIS_PREFIX}#events`)
                .then((r) => (r as [string, number])[1]),
            ),
          { timeout: 10_000 },
        )
        .toBe(2);
      await buyer.reject(offer.id, 2);
      await buyerLog.next('swap.rejected');
    } finally {
      for (const t of [seller, buyer]) t.close();
      await b.stop();
      await a.stop();
      await db.drop();
      await redis.stop();
    }
  });
});
