// A client that missed more than the hub replays pages the rest over REST (sync.truncated). Here a
// front (as a load balancer stands before the hub) refuses those pages for a while: the client asks
// again, holds the live events meanwhile, and tells its listeners of the sync only once it has
// caught up (connect() resolves then); a connection that drops during the catch-up resumes from
// the last event delivered; a market event held meanwhile is not dropped behind paged events.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type SyncMessage } from '../../src/client/index.js';
import { settled, userEventIds } from '../support/event-log.js';
import { type FrontProxy, frontProxy } from '../support/front-proxy.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';

let node: TestHub;
let front: FrontProxy;
beforeAll(async () => {
  node = await startHub({ env: { REPLAY_MAX: '5' } });
  front = await frontProxy(node.url);
});
afterAll(async () => {
  await front?.close();
  await node?.stop();
});

/** A trader who saw their first listing's event, then missed `missed` more (a listing each). */
async function away(name: string, missed: number): Promise<{ owner: TestTrader; resumeFrom: string }> {
  const owner = await trader(node.url, name);
  const log = recorder(owner);
  await owner.createListing(listingInput());
  await log.next('listing.created');
  const resumeFrom = owner.lastEventId!;
  owner.close();
  for (let i = 0; i < missed; i++)
    await owner.rest('POST', '/api/v1/listings', listingInput({ meterId: owner.meterId }));
  await settled(node, owner.session.accessToken, owner.user.id);
  return { owner, resumeFrom };
}

/** The trader back through the front from `resumeFrom`, with what it receives and its syncs. */
function resuming(owner: TestTrader, resumeFrom: string) {
  const back = new HubClient(front.url, owner.session);
  back.lastEventId = resumeFrom;
  const got: string[] = [];
  back.onEvent((e) => got.push(e.id));
  const syncs: SyncMessage[] = [];
  back.onSync((m) => syncs.push(m));
  return { back, got, syncs };
}

/** The pages of GET /events the front has seen (passed or refused). */
const pages = () => front.seen.filter((r) => r.startsWith('GET /api/v1/events')).length;

describe('catching up through a front that refuses pages', () => {
  let down = false;
  beforeAll(() => {
    front.refuse = (req) => (down && req.url?.startsWith('/api/v1/events') ? 503 : undefined);
  });

  test('a refused page is asked again; a live event held meanwhile comes after, each event once, ascending', async () => {
    const { owner, resumeFrom } = await away('refused', 8);
    const { back, got, syncs } = resuming(owner, resumeFrom);
    down = true;
    const before = pages();
    try {
      // connect() resolves once caught up, with the sync
      let connected: SyncMessage | undefined;
      const connecting = back.connect().then((m) => {
        connected = m;
      });
      // refused twice: the client keeps asking, and has not told of the sync
      await expect.poll(() => pages() - before).toBeGreaterThanOrEqual(2);
      expect(syncs).toEqual([]);
      expect(connected).toBeUndefined();
      // an event while it is stuck: held, not delivered ahead of the ones it misses
      await owner.rest('POST', '/api/v1/listings', listingInput({ meterId: owner.meterId }));
      await settled(node, owner.session.accessToken, owner.user.id);
      expect(got).toHaveLength(5);
      down = false;
      await expect.poll(() => syncs.length).toBe(1);
      expect(syncs[0]).toMatchObject({ replayed: 5, truncated: true });
      await connecting;
      expect(connected).toBe(syncs[0]);
      const all = await userEventIds(node, owner.user.id);
      await expect.poll(() => got.length).toBe(9);
      expect(got).toEqual(all.slice(all.indexOf(resumeFrom) + 1));
    } finally {
      down = false;
      back.close();
    }
  });

  test('a connection dropped while a page is refused resumes from the last event delivered: none lost', async () => {
    const { owner, resumeFrom } = await away('dropped', 14);
    const { back, got, syncs } = resuming(owner, resumeFrom);
    down = true;
    try {
      const first = pages();
      const connecting = back.connect();
      await expect.poll(() => pages() - first).toBeGreaterThanOrEqual(1);
      expect(got).toHaveLength(5);
      // the connection drops: the reconnect replays the next five, and the rest is refused again
      const second = pages();
      back.simulateDrop();
      await expect.poll(() => got.length).toBe(10);
      await expect.poll(() => pages() - second).toBeGreaterThanOrEqual(1);
      expect(syncs).toEqual([]);
      down = false;
      await expect.poll(() => syncs.length).toBe(1);
      expect(await connecting).toBe(syncs[0]);
      const all = await userEventIds(node, owner.user.id);
      expect(got).toEqual(all.slice(all.indexOf(resumeFrom) + 1));
      expect(got).toHaveLength(14);
    } finally {
      down = false;
      back.close();
    }
  });

  test("a market event held during the catch-up is not dropped behind the trader's own events paged after it", async () => {
    const { owner, resumeFrom } = await away('feed', 8);
    const other = await trader(node.url, 'feed-other');
    const { back, got } = resuming(owner, resumeFrom);
    // the feed, subscribed as soon as the socket is up (before the catch-up ends)
    back.onState((s) => s === 'connected' && void back.subscribeFeed({}));
    const types: string[] = [];
    back.onEvent((e) =>
      types.push(`${e.type}:${(e.data as { ownerId?: string }).ownerId === owner.user.id ? 'own' : 'other'}`),
    );
    down = true;
    const before = pages();
    try {
      const connecting = back.connect();
      await expect.poll(() => pages() - before).toBeGreaterThanOrEqual(1);
      // held: another trader's listing (a market event), then one of the owner's (a later id)
      const market = await other.createListing(listingInput());
      await owner.rest('POST', '/api/v1/listings', listingInput({ meterId: owner.meterId }));
      await settled(node, owner.session.accessToken, owner.user.id);
      down = false;
      await connecting;
      await expect.poll(() => got.length).toBe(10);
      expect(types.filter((t) => t.endsWith(':other'))).toEqual(['listing.created:other']);
      expect(got.map(BigInt)).toEqual([...got.map(BigInt)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(market.id).toBeDefined();
    } finally {
      down = false;
      back.close();
      other.close();
    }
  });
});
