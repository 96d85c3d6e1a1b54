import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type SyncMessage } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { userEventIds as eventIds, settled as settledBelowHorizon } from '../support/event-log.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, recorder, trader } from '../support/traders.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub({ env: { REPLAY_MAX: '5' } });
});
afterAll(() => node?.stop());

const userEventIds = (userId: string) => eventIds(node, userId);
const settled = (token: string, userId: string) => settledBelowHorizon(node, token, userId);

describe('replay on reconnect', () => {
  test('missed events in order, then sync, then live', async () => {
    const seller = await trader(node.url, 'seller');
    const buyer = await trader(node.url, 'buyer');
    const sellerLog = recorder(seller);
    const listing = await seller.createListing(listingInput());
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await sellerLog.next('swap.proposed');
    const resumeFrom = seller.lastEventId!;
    seller.close();

    // while the seller is away: two more events for the seller
    await buyer.withdraw(swap.id);
    const s2 = await buyer.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.1' });
    await settled(seller.session.accessToken, seller.user.id);

    const back = new HubClient(node.url, seller.session);
    back.lastEventId = resumeFrom;
    const order: string[] = [];
    back.onEvent((e) => order.push(`event:${e.type}`));
    back.onSync((m) => order.push(`sync:${m.replayed}:${m.truncated}`));
    const sync = await back.connect();
    expect(sync).toMatchObject({ replayed: 2, truncated: false });
    expect(order).toEqual(['event:swap.withdrawn', 'event:swap.proposed', 'sync:2:false']);
    expect(sync.lastEventId).toBe((await userEventIds(seller.user.id)).at(-1));

    const live = recorder(back);
    await buyer.withdraw(s2.id);
    expect((await live.next('swap.withdrawn')).data).toMatchObject({ id: s2.id });
    for (const c of [buyer, back]) c.close();
  });

  test('without lastEventId nothing is replayed and sync names the newest event', async () => {
    const t = await trader(node.url, 'fresh', false);
    await t.rest('POST', '/api/v1/listings', listingInput({ meterId: t.meterId }));
    await settled(t.session.accessToken, t.user.id);
    const sync = await t.connect();
    expect(sync).toEqual({
      lastEventId: (await userEventIds(t.user.id)).at(-1),
      replayed: 0,
      truncated: false,
    });
    t.close();
  });

  test('more missed than REPLAY_MAX: sync.truncated, and the client pages the rest over REST', async () => {
    const owner = await trader(node.url, 'owner');
    const ownerLog = recorder(owner);
    const first = await owner.createListing(listingInput());
    await ownerLog.next('listing.created');
    const resumeFrom = owner.lastEventId!;
    owner.close();
    for (let i = 0; i < 12; i++)
      await owner.rest('POST', '/api/v1/listings', listingInput({ meterId: owner.meterId }));
    await settled(owner.session.accessToken, owner.user.id);

    const back = new HubClient(node.url, owner.session);
    back.lastEventId = resumeFrom;
    const got: string[] = [];
    back.onEvent((e) => got.push(e.id));
    const synced = new Promise<SyncMessage>((resolve) => back.onSync(resolve));
    await back.connect();
    expect(await synced).toMatchObject({ replayed: 5, truncated: true });
    const all = await userEventIds(owner.user.id);
    expect(got).toEqual(all.slice(all.indexOf(resumeFrom) + 1));
    expect(got).toHaveLength(12);
    expect(first.id).toBeDefined();
    back.close();
  });

  test('a bad lastEventId is refused at the handshake', async () => {
    const t = await trader(node.url, 't', false);
    const c = new HubClient(node.url, t.session);
    c.lastEventId = undefined;
    (c as unknown as { last: unknown }).last = 'x';
    await expect(c.connect()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    c.close();
  });

  test('GET /api/v1/events pages a user’s own events ascending with hasMore', async () => {
    const t = await trader(node.url, 'pager', false);
    for (let i = 0; i < 7; i++)
      await t.rest('POST', '/api/v1/listings', listingInput({ meterId: t.meterId }));
    await settled(t.session.accessToken, t.user.id);
    const ids: string[] = [];
    let after = '0';
    for (;;) {
      const res = await api(node.url, 'GET', `/api/v1/events?after=${after}&limit=3`, {
        token: t.session.accessToken,
      });
      expect(res.status).toBe(200);
      ids.push(...res.body.items.map((e: { id: string }) => e.id));
      if (!res.body.hasMore) break;
      after = res.body.items.at(-1).id;
    }
    expect(ids).toEqual(await userEventIds(t.user.id));
    for (const q of ['after=abc', 'limit=0', 'limit=1001', 'other=1']) {
      const bad = await api(node.url, 'GET', `/api/v1/events?${q}`, { token: t.session.accessToken });
      expect(bad.status).toBe(400);
    }
  });

  test('under a stream of live events a reconnecting client ends with every event once, ascending', async () => {
    const seller = await trader(node.url, 'seller');
    const buyers = await Promise.all([1, 2, 3].map((i) => trader(node.url, `b${i}`, false)));
    const listing = await seller.createListing(listingInput({ volumeKwh: '1000' }));
    const received: bigint[] = [];
    seller.onEvent((e) => received.push(BigInt(e.id)));
    let stop = false;
    const load = Promise.all(
      buyers.map(async (b) => {
        await b.connect();
        while (!stop) {
          const s = await b.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
          await b.withdraw(s.id);
        }
      }),
    );
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150));
      seller.simulateDrop();
      await new Promise<void>((resolve) => {
        const off = seller.onSync(() => {
          off();
          resolve();
        });
      });
    }
    stop = true;
    await load;
    const all = await userEventIds(seller.user.id);
    await expect.poll(() => received.at(-1)?.toString(), { timeout: 10_000 }).toBe(all.at(-1));
    // every event of the seller since its first, each once, ascending, across three reconnects
    expect(received.map(String)).toEqual(all.slice(all.indexOf(received[0]!.toString())));
    expect(received.length).toBeGreaterThan(10);
    for (const c of [seller, ...buyers]) c.close();
  });
});
