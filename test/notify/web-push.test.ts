// Web Push end to end against a push service that checks VAPID and decrypts like a browser
// vendor's, the classification of its answers, the text of a push, and where the VAPID keys come from.

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import type { EventEnvelope } from '../../src/domain/events.js';
import {
  type PushMessage,
  type PushSubscriptionKeys,
  pushMessageFor,
  resolveVapidKeys,
  sendPush,
  swapTopic,
  type VapidKeys,
} from '../../src/notify/web-push.js';
import {
  loopbackPoster,
  type PushService,
  startPushService,
  type TestSubscription,
} from '../support/push-service.js';

const log = pino({ level: 'silent' });
const SEND = { allowPrivate: true, timeoutMs: 2_000 };
const SWAP_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

const keysOf = (s: TestSubscription): PushSubscriptionKeys => ({ endpoint: s.endpoint, ...s.keys });

const message = (over: Partial<PushMessage> = {}): PushMessage => ({
  payload: {
    eventId: '42',
    type: 'swap.proposed',
    title: 'New offer from Ada',
    body: 'Buy 12.500 kWh',
    url: `/?swap=${SWAP_ID}`,
  },
  ttlSeconds: 900,
  urgency: 'high',
  topic: swapTopic(SWAP_ID),
  ...over,
});

describe('sendPush to a push service', () => {
  let service: PushService;
  let vapid: VapidKeys;

  beforeAll(async () => {
    service = await startPushService();
    vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@renex.example' };
  });
  afterEach(() => service.respondWith());
  afterAll(() => service.close());

  it('delivers: the service verifies VAPID and decrypts the payload; TTL, Urgency and Topic as given', async () => {
    const sub = service.subscribe();
    const msg = message();
    const outcome = await sendPush(keysOf(sub), msg, vapid, loopbackPoster, SEND);
    expect(outcome).toEqual({ kind: 'delivered', status: 201 });
    const [push] = await service.waitFor((p) => p.endpoint === sub.endpoint);
    expect(push!.payload).toEqual(msg.payload);
    expect(push!.ttl).toBe(900);
    expect(push!.urgency).toBe('high');
    expect(push!.topic).toBe('0f8fad5bd9cb469fa16570867728950e');
    expect(push!.vapid).toMatchObject({
      aud: service.url,
      sub: 'mailto:ops@renex.example',
      k: vapid.publicKey,
    });
  });

  it('is refused by the service when signed with a key other than the one it names', async () => {
    const sub = service.subscribe();
    const other = webpush.generateVAPIDKeys();
    const outcome = await sendPush(
      keysOf(sub),
      message(),
      { ...vapid, privateKey: other.privateKey },
      loopbackPoster,
      SEND,
    );
    expect(outcome).toMatchObject({ kind: 'failed', status: 401 });
    expect(service.rejected.at(-1)).toMatchObject({
      endpoint: sub.endpoint,
      reason: 'the token is not signed by k',
    });
  });

  it('is refused by the service when encrypted for another browser', async () => {
    const sub = service.subscribe();
    const stranger = service.subscribe();
    const outcome = await sendPush(
      { ...keysOf(sub), p256dh: stranger.keys.p256dh },
      message(),
      vapid,
      loopbackPoster,
      SEND,
    );
    expect(outcome).toMatchObject({ kind: 'failed', status: 400 });
  });

  it.each([404, 410] as const)('%i: gone', async (status) => {
    service.respondWith(status);
    expect(await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, SEND)).toEqual({
      kind: 'gone',
      status,
    });
  });

  it('an unknown endpoint on the service is gone', async () => {
    const sub = service.subscribe();
    const outcome = await sendPush(
      { ...keysOf(sub), endpoint: `${service.url}/push/unknown` },
      message(),
      vapid,
      loopbackPoster,
      SEND,
    );
    expect(outcome).toEqual({ kind: 'gone', status: 404 });
  });

  it('429 with Retry-After: 7 is retried after 7 s', async () => {
    service.respondWith({ status: 429, headers: { 'retry-after': '7' } });
    expect(await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, SEND)).toMatchObject(
      {
        kind: 'retry',
        status: 429,
        retryAfterMs: 7000,
      },
    );
  });

  it('Retry-After as an HTTP date is honoured too', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    service.respondWith({ status: 503, headers: { 'retry-after': at } });
    const outcome = await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, SEND);
    expect(outcome.kind).toBe('retry');
    const ms = (outcome as { retryAfterMs?: number }).retryAfterMs!;
    expect(ms).toBeGreaterThan(110_000);
    expect(ms).toBeLessThanOrEqual(120_000);
  });

  it('503 is retried', async () => {
    service.respondWith({ status: 503, body: 'overloaded' });
    const outcome = await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, SEND);
    expect(outcome).toEqual({
      kind: 'retry',
      status: 503,
      error: 'the push service answered 503: overloaded',
    });
  });

  it('400 fails', async () => {
    service.respondWith(400);
    expect(await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, SEND)).toMatchObject(
      {
        kind: 'failed',
        status: 400,
      },
    );
  });

  it('a closed port is retried (network)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const sub = { ...keysOf(service.subscribe()), endpoint: `http://127.0.0.1:${port}/push/x` };
    expect(await sendPush(sub, message(), vapid, loopbackPoster, SEND)).toMatchObject({ kind: 'retry' });
  });

  it('a service that does not answer in time is retried (timeout)', async () => {
    let release!: () => void;
    const held = new Promise<number>((resolve) => {
      release = () => resolve(201);
    });
    service.respondWith(() => held);
    const outcome = await sendPush(keysOf(service.subscribe()), message(), vapid, loopbackPoster, {
      ...SEND,
      timeoutMs: 200,
    });
    release();
    expect(outcome).toMatchObject({ kind: 'retry', error: 'no answer within 200 ms' });
  });

  it('an endpoint the poster refuses fails without a retry', async () => {
    const sub = { ...keysOf(service.subscribe()), endpoint: 'ftp://127.0.0.1/push/x' };
    expect(await sendPush(sub, message(), vapid, loopbackPoster, SEND)).toMatchObject({ kind: 'failed' });
  });

  it('a subscription with a malformed key fails before anything is sent', async () => {
    const sub = { ...keysOf(service.subscribe()), p256dh: 'AAAA' };
    expect(await sendPush(sub, message(), vapid, loopbackPoster, SEND)).toMatchObject({ kind: 'failed' });
  });
});

describe('pushMessageFor', () => {
  const ADA = 'user-ada';
  const BOB = 'user-bob';
  const now = new Date('2030-01-01T12:00:00.000Z');
  const swap = (over: Record<string, unknown> = {}) => ({
    id: SWAP_ID,
    listingId: 'listing-1',
    initiatorId: ADA,
    initiatorName: 'Ada',
    recipientId: BOB,
    recipientName: 'Bob',
    buyerId: ADA,
    sellerId: BOB,
    status: 'open',
    round: 1,
    nextActorId: BOB,
    volumeKwh: '12.500',
    pricePerKwh: '0.1234',
    expiresAt: '2030-01-01T12:15:00.000Z',
    ...over,
  });
  const event = (type: string, data: unknown): EventEnvelope => ({
    id: '1001',
    type,
    at: now.toISOString(),
    data,
  });

  it('an offer on your turn: high urgency, TTL to its deadline, the exact decimals, a link to the swap', () => {
    expect(pushMessageFor(event('swap.proposed', swap()), BOB, now)).toEqual({
      payload: {
        eventId: '1001',
        type: 'swap.proposed',
        title: 'New offer from Ada',
        body: 'Sell 12.500 kWh at 0.1234/kWh. Your turn.',
        url: `/?swap=${SWAP_ID}`,
      },
      ttlSeconds: 900,
      urgency: 'high',
      topic: '0f8fad5bd9cb469fa16570867728950e',
    });
  });

  it('the same offer to its author: normal urgency', () => {
    const m = pushMessageFor(event('swap.proposed', swap()), ADA, now)!;
    expect(m.payload).toMatchObject({ title: 'Offer sent to Bob', body: 'Buy 12.500 kWh at 0.1234/kWh' });
    expect(m.urgency).toBe('normal');
  });

  it('a counter-offer close to its deadline keeps at least a minute', () => {
    const data = swap({
      round: 2,
      nextActorId: ADA,
      expiresAt: '2030-01-01T12:00:10.000Z',
      pricePerKwh: '0.1100',
    });
    const m = pushMessageFor(event('swap.countered', data), ADA, now)!;
    expect(m.payload).toMatchObject({
      title: 'Counter-offer from Bob',
      body: 'Buy 12.500 kWh at 0.1100/kWh. Your turn.',
    });
    expect(m.ttlSeconds).toBe(60);
    expect(m.urgency).toBe('high');
  });

  it('a closed swap has no deadline: 24 h', () => {
    const data = swap({ status: 'accepted', nextActorId: null, notional: '1.5425000' });
    const m = pushMessageFor(event('swap.accepted', data), BOB, now)!;
    expect(m.payload).toMatchObject({
      title: 'Trade agreed with Ada',
      body: 'Sell 12.500 kWh at 0.1234/kWh, total 1.5425000',
    });
    expect(m.ttlSeconds).toBe(86_400);
    expect(m.urgency).toBe('normal');
  });

  it('a voided swap says why', () => {
    const data = swap({ status: 'voided', nextActorId: null, reason: 'listing_filled' });
    expect(pushMessageFor(event('swap.voided', data), ADA, now)!.payload.body).toBe(
      'Buy 12.500 kWh at 0.1234/kWh: the listing was filled',
    );
  });

  it.each(['swap.rejected', 'swap.withdrawn', 'swap.expired'])('%s names the other party', (type) => {
    const m = pushMessageFor(event(type, swap({ status: type.slice(5), nextActorId: null })), ADA, now)!;
    expect(m.payload.title).toMatch(/: Bob$/);
    expect(m.payload.url).toBe(`/?swap=${SWAP_ID}`);
  });

  it('a settled trade shows what you pay, from your side', () => {
    const trade = {
      swapId: SWAP_ID,
      side: 'buy',
      counterpartyName: 'Bob',
      volumeKwh: '12.500',
      pricePerKwh: '0.1234',
      currency: 'EUR',
      status: 'settled',
      settlement: { buyerPays: '1.62', sellerReceives: '1.48' },
    };
    const m = pushMessageFor(event('trade.settled', trade), ADA, now)!;
    expect(m.payload).toMatchObject({
      title: 'Trade settled',
      body: 'Bought 12.500 kWh from Bob; you pay 1.62 EUR',
    });
    expect(m.payload.url).toBe(`/?swap=${SWAP_ID}`);
    expect(m.ttlSeconds).toBe(86_400);
    expect(m.topic).toBe(swapTopic(SWAP_ID));
  });

  it('a curtailed trade', () => {
    const trade = {
      swapId: SWAP_ID,
      side: 'sell',
      counterpartyName: 'Ada',
      volumeKwh: '3.000',
      status: 'confirmed',
    };
    expect(pushMessageFor(event('trade.curtailed', trade), BOB, now)!.payload).toMatchObject({
      title: 'Trade curtailed',
      body: 'Sold 3.000 kWh to Ada: the grid operator cut part of the delivery',
    });
  });

  it('events that are not pushed give nothing', () => {
    expect(pushMessageFor(event('listing.created', { id: 'l1' }), ADA, now)).toBeNull();
    expect(pushMessageFor(event('market.trade', { id: SWAP_ID }), ADA, now)).toBeNull();
  });
});

describe('resolveVapidKeys', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-vapid-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('generates the keys once into DATA_DIR, 0600, and finds them again', async () => {
    const dataDir = await tempDir();
    const first = await resolveVapidKeys({ dataDir }, log);
    expect(first.subject).toBe('mailto:operator@localhost');
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    const file = path.join(dataDir, 'vapid-keys.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      publicKey: first.publicKey,
      privateKey: first.privateKey,
    });
    expect(await resolveVapidKeys({ dataDir, subject: 'https://renex.example/contact' }, log)).toEqual({
      ...first,
      subject: 'https://renex.example/contact',
    });
  });

  it('two nodes starting at once agree on one pair', async () => {
    const dataDir = path.join(await tempDir(), 'not-yet');
    const all = await Promise.all([1, 2, 3, 4].map(() => resolveVapidKeys({ dataDir }, log)));
    for (const keys of all) expect(keys).toEqual(all[0]);
  });

  it('keys from the config win over the file', async () => {
    const dataDir = await tempDir();
    await resolveVapidKeys({ dataDir }, log);
    const mine = webpush.generateVAPIDKeys();
    expect(await resolveVapidKeys({ dataDir, ...mine }, log)).toEqual({
      ...mine,
      subject: 'mailto:operator@localhost',
    });
  });

  it('refuses one key without the other, keys that are not a pair, and a bad subject', async () => {
    const dataDir = await tempDir();
    const { publicKey, privateKey } = webpush.generateVAPIDKeys();
    await expect(resolveVapidKeys({ dataDir, publicKey }, log)).rejects.toThrow(
      /both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY/,
    );
    await expect(resolveVapidKeys({ dataDir, privateKey }, log)).rejects.toThrow(/both/);
    const other = webpush.generateVAPIDKeys();
    await expect(resolveVapidKeys({ dataDir, publicKey, privateKey: other.privateKey }, log)).rejects.toThrow(
      /does not belong/,
    );
    for (const subject of ['http://renex.example', 'operator@renex.example', 'ftp://x']) {
      await expect(resolveVapidKeys({ dataDir, subject }, log)).rejects.toThrow(/VAPID_SUBJECT must be/);
    }
  });

  it('refuses a damaged key file rather than replacing it (that would orphan every subscription)', async () => {
    const dataDir = await tempDir();
    await writeFile(path.join(dataDir, 'vapid-keys.json'), '{"publicKey": "x"}\n', { mode: 0o600 });
    await expect(resolveVapidKeys({ dataDir }, log)).rejects.toThrow(/no usable VAPID keys/);
  });
});
