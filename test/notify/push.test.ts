// Web Push (PROTOCOL-PUSH.md, "Web Push") on two nodes over one PostgreSQL and Redis, pushing to a
// real push service on loopback (test/support/push-service.ts) that checks each VAPID token and
// decrypts each aes128gcm payload with the browser's keys: subscribing, a push to a trader with no
// dashboard open (payload, Urgency, Topic, TTL), quiet while the trader is online anywhere unless
// asked, a subscription the push service says is gone, a push service asking to retry later, a
// retry that falls due while the trader is online or after the offer expired (dropped), bad input,
// and the per-user limit under a race from both nodes.
import { QueryTypes } from 'sequelize';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/client.js';
import { startHub, type TestHub, twoNodes } from '../support/hub.js';
import {
  CONTRACT_PUSH_EVENTS,
  type PushService,
  type ReceivedPush,
  startPushService,
  type TestSubscription,
} from '../support/push-service.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';

const ready = (await postgresAvailable('push')) && (await redisAvailable('push'));

const ENV = { PUSH_ALLOW_HTTP: 'true', NOTIFY_POLL_MS: '100' };

const DEFAULT_EVENTS = CONTRACT_PUSH_EVENTS;

interface PushSub {
  id: string;
  endpoint: string;
  events: string[];
  whileOnline: boolean;
  createdAt: string;
}

interface Payload {
  eventId: string;
  type: string;
  title: string;
  body: string;
  url: string;
}

const payloadOf = (p: ReceivedPush) => p.payload as Payload;

/** POST /api/v1/push/subscriptions for `sub` on `node` as `t`; the raw answer. */
function subscribe(
  node: TestHub,
  t: TestTrader,
  sub: Pick<TestSubscription, 'endpoint' | 'keys'>,
  extra: Record<string, unknown> = {},
) {
  return api<PushSub>(node.url, 'POST', '/api/v1/push/subscriptions', {
    token: t.session.accessToken,
    body: { endpoint: sub.endpoint, keys: sub.keys, ...extra },
  });
}

async function subscribed(
  node: TestHub,
  t: TestTrader,
  sub: Pick<TestSubscription, 'endpoint' | 'keys'>,
  extra: Record<string, unknown> = {},
): Promise<PushSub> {
  const res = await subscribe(node, t, sub, extra);
  expect([res.status, res.body]).toMatchObject([201, { endpoint: sub.endpoint }]);
  return res.body;
}

const listOf = async (node: TestHub, t: TestTrader) =>
  (
    await api<{ items: PushSub[] }>(node.url, 'GET', '/api/v1/push/subscriptions', {
      token: t.session.accessToken,
    })
  ).body.items;

/** A listing of a trader with no socket, through REST. */
async function restListing(node: TestHub, t: TestTrader): Promise<{ id: string }> {
  const res = await api<{ id: string }>(node.url, 'POST', '/api/v1/listings', {
    token: t.session.accessToken,
    body: { meterId: t.meterId, ...listingInput({ volumeKwh: '50' }) },
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** The user's events from the log (GET /api/v1/events), ids ascending. */
async function eventsOf(node: TestHub, t: TestTrader) {
  const res = await api<{ items: { id: string; type: string; data: { id?: string } }[] }>(
    node.url,
    'GET',
    '/api/v1/events?limit=1000',
    { token: t.session.accessToken },
  );
  return res.body.items;
}

/**
 * Resolves once the dispatcher has handled (sent or skipped) every event of the target up to
 * `eventId`: its position in the log is at or past it. The positive marker before asserting
 * that something was NOT pushed.
 */
async function handledUpTo(node: TestHub, targetId: string, eventId: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const [row] = await node.hub.db!.sequelize.query<{ cursor: string }>(
          'SELECT cursor::text AS cursor FROM notify_targets WHERE id = $1',
          { bind: [targetId], type: QueryTypes.SELECT },
        );
        return row ? BigInt(row.cursor) >= BigInt(eventId) : false;
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe(true);
}

/** How many retries of the target are pending (notify_retries). */
async function retriesOf(node: TestHub, targetId: string): Promise<number> {
  const [row] = await node.hub.db!.sequelize.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM notify_retries WHERE target_id = $1',
    { bind: [targetId], type: QueryTypes.SELECT },
  );
  return row?.n ?? 0;
}

/** A key pair for bad-input checks: 65 bytes starting with 4, and 16 bytes. */
const GOOD_KEYS = {
  p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
  auth: Buffer.alloc(16, 2).toString('base64url'),
};

describe.skipIf(!ready)('web push on two nodes', () => {
  const nodes = twoNodes({ a: ENV, b: ENV });
  let service: PushService;
  const clients: TestTrader[] = [];
  const make = async (node: TestHub, name: string, connect = true) => {
    const t = await trader(node.url, name, connect);
    clients.push(t);
    return t;
  };
  beforeAll(async () => {
    service = await startPushService();
  });
  afterEach(() => {
    service.respondWith();
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => service?.close());

  test('the VAPID key; subscribe with the default events; the same endpoint again updates it', async () => {
    const t = await make(nodes.a, 'push-sub', false);
    const keyA = await api<{ publicKey: string }>(nodes.a.url, 'GET', '/api/v1/push/key', {
      token: t.session.accessToken,
    });
    expect(keyA.status).toBe(200);
    const { publicKey } = keyA.body;
    expect(publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    const point = Buffer.from(publicKey, 'base64url');
    expect([point.length, point[0]]).toEqual([65, 4]);
    // every node signs with the same key: a browser's subscription is bound to it
    const keyB = await api(nodes.b.url, 'GET', '/api/v1/push/key', { token: t.session.accessToken });
    expect(keyB.body).toEqual({ publicKey });
    expect((await api(nodes.a.url, 'GET', '/api/v1/push/key')).status).toBe(401);

    const browser = service.subscribe();
    const res = await subscribe(nodes.a, t, browser);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      endpoint: browser.endpoint,
      events: DEFAULT_EVENTS,
      whileOnline: false,
      createdAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(res.body.createdAt))).toBe(false);

    // the browser subscribed again (new keys): the same subscription, updated, from either node
    const again = service.subscribe();
    const update = await subscribe(
      nodes.b,
      t,
      { endpoint: browser.endpoint, keys: again.keys },
      { whileOnline: true, events: ['swap.proposed'] },
    );
    expect(update.status).toBe(201);
    expect(update.body).toEqual({
      ...res.body,
      events: ['swap.proposed'],
      whileOnline: true,
    });
    expect(await listOf(nodes.a, t)).toEqual([update.body]);
  });

  test('a trader with no socket is pushed an offer on their listing; the online proposer is not', async () => {
    const owner = await make(nodes.a, 'push-owner', false);
    const proposer = await make(nodes.b, 'push-proposer');
    const { publicKey } = (
      await api<{ publicKey: string }>(nodes.b.url, 'GET', '/api/v1/push/key', {
        token: owner.session.accessToken,
      })
    ).body;
    const ownerBrowser = service.subscribe();
    const proposerBrowser = service.subscribe();
    await subscribed(nodes.a, owner, ownerBrowser);
    const proposerSub = await subscribed(nodes.b, proposer, proposerBrowser);
    const seen = recorder(proposer);

    const listing = await restListing(nodes.a, owner);
    const before = Date.now();
    const swap = await proposer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.12' });

    const [push] = await service.waitFor((p) => p.endpoint === ownerBrowser.endpoint, 15_000);
    const event = (await eventsOf(nodes.a, owner)).find((e) => e.type === 'swap.proposed');
    expect(event?.data.id).toBe(swap.id);
    expect(push!.payload).toEqual({
      eventId: event!.id,
      type: 'swap.proposed',
      title: 'New offer from push-proposer',
      body: 'Sell 1.000 kWh at 0.1200/kWh. Your turn.',
      url: `/?swap=${swap.id}`,
    });
    // their turn: high urgency; a newer push about the swap replaces this one; it lives until the offer expires
    expect(push!.urgency).toBe('high');
    expect(push!.topic).toBe(swap.id.replaceAll('-', ''));
    expect(push!.topic).toHaveLength(32);
    const secondsLeft = 600 - (Date.now() - before) / 1000;
    expect(push!.ttl).toBeGreaterThan(500);
    expect(push!.ttl).toBeLessThanOrEqual(600);
    expect(push!.ttl).toBeGreaterThanOrEqual(Math.floor(secondsLeft) - 1);
    expect(push!.headers['content-encoding']).toBe('aes128gcm');
    // signed with the key browsers subscribe with, for the push service's origin, by the operator
    expect(push!.vapid).toMatchObject({ k: publicKey, aud: service.url, sub: 'mailto:operator@localhost' });
    expect(service.rejected).toEqual([]);

    // the proposer is online: their own proposal was handled without a push
    const own = await seen.next(
      (e) => e.type === 'swap.proposed' && (e.data as { id: string }).id === swap.id,
    );
    await handledUpTo(nodes.b, proposerSub.id, own.id);
    expect(service.received.filter((p) => p.endpoint === proposerBrowser.endpoint)).toEqual([]);
    expect(service.received.filter((p) => p.endpoint === ownerBrowser.endpoint)).toHaveLength(1);
  });

  test('quiet while the trader has a socket on any node, unless whileOnline', async () => {
    // subscribed through node A, online through node B
    const owner = await make(nodes.b, 'online-owner');
    const other = await make(nodes.a, 'online-other');
    const browser = service.subscribe();
    const sub = await subscribed(nodes.a, owner, browser);
    const seen = recorder(owner);
    const listing = await owner.createListing(listingInput({ volumeKwh: '50' }));

    const s1 = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    const proposed = await seen.next('swap.proposed');
    expect(proposed.data).toMatchObject({ id: s1.id });
    await other.withdraw(s1.id);
    const withdrawn = await seen.next('swap.withdrawn');
    await handledUpTo(nodes.a, sub.id, withdrawn.id);
    expect(service.received.filter((p) => p.endpoint === browser.endpoint)).toEqual([]);

    // asked to push while online: the next offer comes through the push service too
    const updated = await subscribed(nodes.b, owner, browser, { whileOnline: true });
    expect([updated.id, updated.whileOnline]).toEqual([sub.id, true]);
    const s2 = await other.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.1' });
    const [push] = await service.waitFor((p) => p.endpoint === browser.endpoint, 15_000);
    expect(payloadOf(push!)).toMatchObject({ type: 'swap.proposed', url: `/?swap=${s2.id}` });
    expect((await seen.next('swap.proposed')).data).toMatchObject({ id: s2.id });
    // nothing of the first offer, which came while the owner was online
    const mine = service.received
      .filter((p) => p.endpoint === browser.endpoint)
      .map((p) => payloadOf(p).eventId);
    expect(mine).not.toContain(proposed.id);
    expect(mine).not.toContain(withdrawn.id);
  });

  test('a push service answering 410 removes the subscription', async () => {
    const owner = await make(nodes.b, 'gone-owner', false);
    const other = await make(nodes.a, 'gone-other');
    const browser = service.subscribe();
    await subscribed(nodes.b, owner, browser);
    const tried: ReceivedPush[] = [];
    service.respondWith((p) => {
      if (p.endpoint !== browser.endpoint) return 201;
      tried.push(p);
      return 410;
    });
    const listing = await restListing(nodes.b, owner);
    const swap = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await expect.poll(() => tried.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(payloadOf(tried[0]!)).toMatchObject({ type: 'swap.proposed', url: `/?swap=${swap.id}` });
    await expect.poll(() => listOf(nodes.a, owner), { timeout: 15_000 }).toEqual([]);
    expect(service.received.filter((p) => p.endpoint === browser.endpoint)).toEqual([]);
  });

  test('a push service answering 429 with Retry-After: the push is tried again later and delivered', async () => {
    const owner = await make(nodes.a, 'busy-owner', false);
    const other = await make(nodes.b, 'busy-other');
    const browser = service.subscribe();
    await subscribed(nodes.a, owner, browser);
    const tried: { at: number; push: ReceivedPush }[] = [];
    service.respondWith((p) => {
      if (p.endpoint !== browser.endpoint) return 201;
      tried.push({ at: Date.now(), push: p });
      return tried.length === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : 201;
    });
    const listing = await restListing(nodes.a, owner);
    const swap = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    const [push] = await service.waitFor((p) => p.endpoint === browser.endpoint, 20_000);
    expect(payloadOf(push!)).toMatchObject({ type: 'swap.proposed', url: `/?swap=${swap.id}` });
    // refused once, then accepted: the same event both times, at least Retry-After apart
    expect(tried).toHaveLength(2);
    expect(payloadOf(tried[1]!.push).eventId).toBe(payloadOf(tried[0]!.push).eventId);
    expect(tried[1]!.at - tried[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await listOf(nodes.b, owner)).toHaveLength(1);
  });

  test('a retry that falls due while the trader is online is dropped, not pushed nor kept due', async () => {
    const owner = await make(nodes.a, 'retry-online-owner', false);
    const other = await make(nodes.b, 'retry-online-other');
    const browser = service.subscribe();
    const sub = await subscribed(nodes.b, owner, browser);
    const tried: ReceivedPush[] = [];
    service.respondWith((p) => {
      if (p.endpoint !== browser.endpoint) return 201;
      tried.push(p);
      return 503;
    });
    const listing = await restListing(nodes.a, owner);
    await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await expect.poll(() => tried.length, { timeout: 15_000 }).toBe(1);
    await expect.poll(() => retriesOf(nodes.a, sub.id), { timeout: 15_000, interval: 50 }).toBe(1);
    // the dashboard opens before the retry (about 5 s later): the retry is dropped, as a first attempt would be
    await owner.connect();
    await expect.poll(() => retriesOf(nodes.a, sub.id), { timeout: 20_000, interval: 200 }).toBe(0);
    expect(tried).toHaveLength(1);
  });

  test('bad input is VALIDATION_FAILED and stores nothing; another trader’s subscription is NOT_FOUND', async () => {
    const t = await make(nodes.a, 'push-bad', false);
    const browser = service.subscribe();
    const short = (bytes: number, first = 4) =>
      Buffer.concat([Buffer.from([first]), Buffer.alloc(bytes - 1, 7)]).toString('base64url');
    for (const body of [
      {},
      { endpoint: browser.endpoint },
      { endpoint: 'not a url', keys: GOOD_KEYS },
      { endpoint: 'ftp://127.0.0.1/push', keys: GOOD_KEYS },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, p256dh: short(64) } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, p256dh: short(66) } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, p256dh: short(65, 2) } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, p256dh: `${GOOD_KEYS.p256dh.slice(0, -1)}+` } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, auth: short(15) } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, auth: short(17) } },
      { endpoint: browser.endpoint, keys: { p256dh: GOOD_KEYS.p256dh } },
      { endpoint: browser.endpoint, keys: { ...GOOD_KEYS, extra: 'x' } },
      { endpoint: browser.endpoint, keys: GOOD_KEYS, extra: 'x' },
      { endpoint: browser.endpoint, keys: GOOD_KEYS, events: ['market.trade'] },
      { endpoint: browser.endpoint, keys: GOOD_KEYS, events: [] },
      { endpoint: browser.endpoint, keys: GOOD_KEYS, events: ['swap.proposed', 'swap.proposed'] },
      { endpoint: browser.endpoint, keys: GOOD_KEYS, whileOnline: 'yes' },
      // 2,000 characters as sent, over 2,000 once percent-encoded as stored (the unique index on
      // endpoints would otherwise refuse the row: INTERNAL)
      { endpoint: `${browser.endpoint}/${'é'.repeat(2000 - browser.endpoint.length - 1)}`, keys: GOOD_KEYS },
    ]) {
      const res = await api(nodes.a.url, 'POST', '/api/v1/push/subscriptions', {
        token: t.session.accessToken,
        body,
      });
      expect([JSON.stringify(body), res.status, res.body.error?.code]).toEqual([
        JSON.stringify(body),
        400,
        'VALIDATION_FAILED',
      ]);
    }
    expect(await listOf(nodes.b, t)).toEqual([]);

    // another trader's subscription: as if it did not exist, and it stays
    const mine = await subscribed(nodes.a, t, browser);
    const stranger = await make(nodes.b, 'push-stranger', false);
    const del = (node: TestHub, who: TestTrader, id: string) =>
      api(node.url, 'DELETE', `/api/v1/push/subscriptions/${id}`, { token: who.session.accessToken });
    const theirs = await del(nodes.b, stranger, mine.id);
    expect([theirs.status, theirs.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect(await listOf(nodes.b, stranger)).toEqual([]);
    expect(await listOf(nodes.b, t)).toEqual([mine]);
    expect((await del(nodes.a, t, 'not-a-uuid')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await del(nodes.b, t, mine.id)).status).toBe(204);
    expect((await del(nodes.a, t, mine.id)).status).toBe(404);
    expect(await listOf(nodes.a, t)).toEqual([]);
  });

  test('at most 20 subscriptions per trader, whatever the race between the nodes', async () => {
    const t = await make(nodes.a, 'push-limit', false);
    const results = await Promise.all(
      Array.from({ length: 23 }, (_, i) =>
        subscribe(i % 2 ? nodes.b : nodes.a, t, {
          endpoint: `${service.url}/push/limit-${i}`,
          keys: GOOD_KEYS,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(20);
    expect(
      results
        .filter((r) => r.status !== 201)
        .map((r) => [r.status, (r.body as unknown as { error: { code: string } }).error.code]),
    ).toEqual([
      [409, 'CONFLICT'],
      [409, 'CONFLICT'],
      [409, 'CONFLICT'],
    ]);
    const listed = await listOf(nodes.b, t);
    expect(listed).toHaveLength(20);
    expect(new Set(listed.map((s) => s.endpoint)).size).toBe(20);
    // an existing endpoint is an update, not a 21st
    const again = await subscribe(
      nodes.a,
      t,
      { endpoint: listed[0]!.endpoint, keys: GOOD_KEYS },
      { whileOnline: true },
    );
    expect([again.status, again.body.id]).toEqual([201, listed[0]!.id]);
  });
});

describe.skipIf(!ready)('web push of an offer that expires before its retry', () => {
  let node: TestHub;
  let service: PushService;
  beforeAll(async () => {
    // long enough that the first push goes out before it on a loaded box, short of the first
    // retry (5 s, jittered by a fifth either way)
    node = await startHub({ env: { ...ENV, OFFER_TTL_SECONDS: '3' } });
    service = await startPushService();
  });
  afterAll(async () => {
    await service?.close();
    await node?.stop();
  });

  test('is not pushed once its TTL has run out; the expiry is', async () => {
    const owner = await trader(node.url, 'stale-owner', false);
    const other = await trader(node.url, 'stale-other');
    const browser = service.subscribe();
    const sub = await subscribed(node, owner, browser);
    const tried: ReceivedPush[] = [];
    service.respondWith((p) => {
      if (p.endpoint !== browser.endpoint) return 201;
      tried.push(p);
      return tried.length === 1 ? 503 : 201;
    });
    const listing = await restListing(node, owner);
    const swap = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await expect.poll(() => tried.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(payloadOf(tried[0]!)).toMatchObject({ type: 'swap.proposed', url: `/?swap=${swap.id}` });
    expect(tried[0]!.ttl).toBeLessThanOrEqual(60);
    // the offer expires (3 s) before the retry (4 to 6 s): the expiry is pushed, the stale offer never
    const [expired] = await service.waitFor(
      (p) => p.endpoint === browser.endpoint && payloadOf(p).type === 'swap.expired',
      15_000,
    );
    expect(expired!.topic).toBe(swap.id.replaceAll('-', ''));
    await expect.poll(() => retriesOf(node, sub.id), { timeout: 20_000, interval: 200 }).toBe(0);
    expect(tried.map((p) => payloadOf(p).type)).toEqual(['swap.proposed', 'swap.expired']);
    other.close();
  });
});

describe.skipIf(!ready)('web push on a hub without PUSH_ALLOW_HTTP', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub();
  });
  afterAll(() => node?.stop());

  test('refuses http: and loopback push endpoints', async () => {
    const t = await trader(node.url, 'push-https', false);
    for (const endpoint of [
      'http://push.example.com/x',
      'http://127.0.0.1:9/push',
      'https://127.0.0.1/push',
    ]) {
      const res = await api(node.url, 'POST', '/api/v1/push/subscriptions', {
        token: t.session.accessToken,
        body: { endpoint, keys: GOOD_KEYS },
      });
      expect([endpoint, res.status, res.body.error.code]).toEqual([endpoint, 400, 'VALIDATION_FAILED']);
    }
    expect(
      (await api(node.url, 'GET', '/api/v1/push/subscriptions', { token: t.session.accessToken })).body.items,
    ).toEqual([]);
  });
});
