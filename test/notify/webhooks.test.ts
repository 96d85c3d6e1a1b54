// Webhooks (PROTOCOL-PUSH.md, "Webhooks") on two nodes over one PostgreSQL and Redis, delivering to
// local receivers that check each Standard Webhooks signature with the `standardwebhooks` package:
// every event of the owner, first attempts in event-id order, retried on a shortened schedule when
// the receiver is down, never held up by a receiver that hangs; rotation, replay, the delivery log,
// disabling, the per-user limit under a race, and SSRF refusals at registration.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClient } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { startHub, type TestHub, twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, type TestTrader, trader } from '../support/traders.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const ready = (await postgresAvailable('webhooks')) && (await redisAvailable('webhooks'));

const ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_SCHEDULE_MS: '200,400,800,1600',
  // long enough that a receiver in this busy process is never taken for a hanging one (which
  // would be tried again and counted twice); the hanging receiver's test waits for it
  WEBHOOK_TIMEOUT_MS: '4000',
  PUSH_TIMEOUT_MS: '4000',
  NOTIFY_POLL_MS: '100',
};

interface Hook {
  id: string;
  url: string;
  events: string[];
  status: string;
  secret: string;
}

async function register(t: HubClient, receiver: Receiver, body: Record<string, unknown> = {}): Promise<Hook> {
  const hook = await t.rest<Hook>('POST', '/api/v1/webhooks', { url: receiver.url, ...body });
  receiver.secrets.push(hook.secret);
  return hook;
}

/** The owner's events (GET /api/v1/events), ids ascending. */
async function eventsOf(t: HubClient): Promise<{ id: string; type: string }[]> {
  return (await t.rest<{ items: { id: string; type: string }[] }>('GET', '/api/v1/events?limit=1000')).items;
}

/** A listing of `owner` and `n` proposals on it by `other` (each withdrawn): 1 + 2n events for the owner. */
async function activity(owner: TestTrader, other: TestTrader, n: number) {
  const listing = await owner.createListing(listingInput({ volumeKwh: '50' }));
  for (let i = 0; i < n; i++) {
    const s = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await other.withdraw(s.id);
  }
  return listing;
}

describe.skipIf(!ready)('webhooks on two nodes', () => {
  const nodes = twoNodes({ a: ENV, b: ENV });
  let receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    receivers = [];
  });

  test('every event of the owner, signed, first attempts in event-id order, once each', async () => {
    const r = await receiver();
    const owner = await trader(nodes.a.url, 'hook-owner');
    const other = await trader(nodes.b.url, 'hook-other');
    const hook = await register(owner, r);
    expect(hook).toMatchObject({
      url: r.url,
      status: 'active',
      events: expect.arrayContaining(['swap.proposed', 'webhook.disabled']),
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    await activity(owner, other, 4);
    // listing.created, 4 x (swap.proposed, swap.withdrawn), once below the horizon
    await expect.poll(async () => (await eventsOf(owner)).length).toBe(9);
    const events = await eventsOf(owner);
    await r.waitFor((x) => x.delivered.length >= events.length);
    expect(r.delivered.map((d) => d.id)).toEqual(events.map((e) => e.id));
    expect(r.requests.every((d) => d.verified)).toBe(true);
    const first = r.delivered[0]!;
    expect(first.body).toMatchObject({ id: events[0]!.id, type: 'listing.created' });
    expect(first.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(first.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);

    // the log: one delivered attempt per event, newest first; paged (a round's attempts are written
    // after its sends: wait for the last)
    await expect
      .poll(
        async () =>
          (await owner.rest<{ items: unknown[] }>('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).items
            .length,
      )
      .toBe(events.length);
    const log = await owner.rest<{ items: Record<string, unknown>[]; nextCursor: string | null }>(
      'GET',
      `/api/v1/webhooks/${hook.id}/deliveries?limit=5`,
    );
    expect(log.items).toHaveLength(5);
    expect(log.items[0]).toMatchObject({
      eventId: events.at(-1)!.id,
      attempt: 1,
      status: 'delivered',
      responseStatus: 200,
      error: null,
      nextAttemptAt: null,
    });
    const rest = await owner.rest<{ items: { eventId: string }[]; nextCursor: string | null }>(
      'GET',
      `/api/v1/webhooks/${hook.id}/deliveries?limit=5&cursor=${log.nextCursor}`,
    );
    expect([...log.items, ...rest.items].map((i) => i.eventId).reverse()).toEqual(events.map((e) => e.id));
    expect(rest.nextCursor).toBeNull();
    // the list shows no secret; another trader sees nothing of it
    const listed = await owner.rest<{ items: Record<string, unknown>[] }>('GET', '/api/v1/webhooks');
    expect(listed.items).toEqual([
      {
        id: hook.id,
        url: r.url,
        events: hook.events,
        description: '',
        status: 'active',
        createdAt: expect.any(String),
      },
    ]);
    const stranger = await api(nodes.b.url, 'GET', `/api/v1/webhooks/${hook.id}/deliveries`, {
      token: other.session.accessToken,
    });
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'NOT_FOUND']);
    for (const c of [owner, other]) c.close();
  });

  test('a receiver down for a while: retried on the schedule until it is back, none lost, first attempts in order', async () => {
    const r = await receiver();
    const owner = await trader(nodes.b.url, 'down-owner');
    const other = await trader(nodes.a.url, 'down-other');
    const hook = await register(owner, r, { events: ['swap.proposed', 'swap.withdrawn'] });
    let down = true;
    r.answer = () => (down ? 503 : 204);
    await activity(owner, other, 3);
    // listing.created and 3 x (swap.proposed, swap.withdrawn), once below the horizon
    await expect.poll(async () => (await eventsOf(owner)).length).toBe(7);
    const wanted = (await eventsOf(owner)).filter((e) => e.type.startsWith('swap.'));
    await r.waitFor((x) => x.requests.length >= wanted.length + 2);
    down = false;
    await r.waitFor((x) => new Set(x.delivered.map((d) => d.id)).size === wanted.length);
    expect([...new Set(r.delivered.map((d) => d.id))].sort()).toEqual(wanted.map((e) => e.id).sort());
    // the first attempt of each event left in event-id order
    const firsts: string[] = [];
    for (const d of r.requests) if (!firsts.includes(d.id)) firsts.push(d.id);
    expect(firsts).toEqual(wanted.map((e) => e.id));
    await expect
      .poll(
        async () =>
          (
            await owner.rest<{ items: { status: string }[] }>(
              'GET',
              `/api/v1/webhooks/${hook.id}/deliveries?limit=100`,
            )
          ).items.filter((i) => i.status === 'delivered').length,
      )
      .toBe(wanted.length);
    const log = await owner.rest<{
      items: {
        eventId: string;
        attempt: number;
        status: string;
        responseStatus: number;
        nextAttemptAt: string | null;
      }[];
    }>('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=100`);
    const retrying = log.items.filter((i) => i.status === 'retrying');
    expect(retrying.length).toBeGreaterThan(0);
    expect(retrying.every((i) => i.responseStatus === 503 && i.nextAttemptAt !== null)).toBe(true);
    for (const e of wanted)
      expect(log.items.filter((i) => i.eventId === e.id && i.status === 'delivered')).toHaveLength(1);
    for (const c of [owner, other]) c.close();
  });

  test('a receiver that hangs holds up neither commands nor sockets; it times out and is tried again', async () => {
    const r = await receiver();
    const owner = await trader(nodes.a.url, 'hang-owner');
    const other = await trader(nodes.b.url, 'hang-other');
    const hook = await register(owner, r);
    r.answer = 'hang';
    const seen = recorder(owner);
    const listing = await owner.createListing(listingInput({ volumeKwh: '50' }));
    await r.waitFor((x) => x.requests.length >= 1);
    // while the receiver holds its request: commands commit and their events reach the sockets
    for (let i = 0; i < 3; i++) {
      const s = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      expect((await seen.next('swap.proposed')).data).toMatchObject({ id: s.id });
      await other.withdraw(s.id);
    }
    // the attempt timed out (4 s here) and is logged for a retry
    await expect
      .poll(
        async () =>
          (
            await owner.rest<{ items: { attempt: number; status: string; error: string }[] }>(
              'GET',
              `/api/v1/webhooks/${hook.id}/deliveries`,
            )
          ).items.find((i) => i.status === 'retrying')?.error,
        { timeout: 15_000 },
      )
      .toMatch(/^timeout/);
    r.answer = 200;
    r.releaseHung(503);
    const events = await eventsOf(owner);
    await r.waitFor((x) => events.every((e) => x.delivered.some((d) => d.id === e.id)));
    for (const c of [owner, other]) c.close();
  });

  test('a rotated secret: both sign for the overlap; replay sends the events after an id again', async () => {
    const r = await receiver();
    const owner = await trader(nodes.b.url, 'rotate-owner');
    const other = await trader(nodes.a.url, 'rotate-other');
    const hook = await register(owner, r);
    const oldSecret = hook.secret;
    const listing = await activity(owner, other, 1);
    await r.waitFor((x) => x.delivered.length >= 3);
    const { secret } = await owner.rest<{ secret: string }>(
      'POST',
      `/api/v1/webhooks/${hook.id}/rotate-secret`,
    );
    expect(secret).not.toBe(oldSecret);
    await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await r.waitFor((x) => x.delivered.length >= 4);
    const signed = r.delivered[3]!;
    expect(String(signed.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const only of [[oldSecret], [secret]]) {
      r.secrets = only;
      // each secret alone verifies the delivery
      const { Webhook } = await import('standardwebhooks');
      expect(() =>
        new Webhook(only[0]!).verify(JSON.stringify(signed.body), {
          'webhook-id': signed.id,
          'webhook-timestamp': String(signed.headers['webhook-timestamp']),
          'webhook-signature': String(signed.headers['webhook-signature']),
        }),
      ).not.toThrow();
    }
    r.secrets = [secret];

    // listing.created, swap.proposed, swap.withdrawn, swap.proposed: all below the horizon
    await expect.poll(async () => (await eventsOf(owner)).length).toBe(4);
    const events = await eventsOf(owner);
    const before = r.delivered.length;
    const replay = await owner.rest('POST', `/api/v1/webhooks/${hook.id}/replay`, { after: events[0]!.id });
    expect(replay).toEqual({});
    await r.waitFor((x) => x.delivered.length >= before + events.length - 1);
    expect(r.delivered.slice(before).map((d) => d.id)).toEqual(events.slice(1).map((e) => e.id));
    expect(r.delivered.slice(before).every((d) => d.verified)).toBe(true);
    for (const c of [owner, other]) c.close();
  });

  test('bad input is VALIDATION_FAILED and changes nothing; at most 10 webhooks, whatever the race', async () => {
    const t = await trader(nodes.a.url, 'hook-limits', false);
    const token = t.session.accessToken;
    const post = (node: TestHub, body: unknown) => api(node.url, 'POST', '/api/v1/webhooks', { token, body });
    for (const body of [
      {},
      { url: 'not a url' },
      { url: 'ftp://example.com/x' },
      { url: 'http://127.0.0.1/x', events: [] },
      { url: 'http://127.0.0.1/x', events: ['market.trade'] },
      { url: 'http://127.0.0.1/x', events: ['swap.proposed', 'swap.proposed'] },
      { url: 'http://127.0.0.1/x', secret: 'mine' },
      { url: 'http://127.0.0.1/x', description: 'x'.repeat(201) },
    ]) {
      const res = await post(nodes.a, body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([
        JSON.stringify(body),
        400,
        'VALIDATION_FAILED',
      ]);
    }
    const hookId = crypto.randomUUID();
    for (const [method, path, body] of [
      ['POST', `/api/v1/webhooks/${hookId}/replay`, { after: '1' }],
      ['POST', '/api/v1/webhooks/x/replay', { after: '1' }],
      ['GET', `/api/v1/webhooks/${hookId}/deliveries?cursor=zz`],
    ] as const) {
      const res = await api(nodes.a.url, method, path, { token, body });
      expect(res.body.error.code).toBe(path.includes('/x/') ? 'VALIDATION_FAILED' : 'NOT_FOUND');
    }
    const results = await Promise.all(
      Array.from({ length: 13 }, (_, i) =>
        post(i % 2 ? nodes.b : nodes.a, { url: `http://127.0.0.1:9/${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
      [409, 'CONFLICT'],
      [409, 'CONFLICT'],
      [409, 'CONFLICT'],
    ]);
    const own = await api(nodes.b.url, 'GET', '/api/v1/webhooks', { token });
    expect(own.body.items).toHaveLength(10);
    const bad = await api(nodes.a.url, 'POST', `/api/v1/webhooks/${own.body.items[0].id}/replay`, {
      token,
      body: { after: '-1' },
    });
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const gone = await api(nodes.b.url, 'DELETE', `/api/v1/webhooks/${own.body.items[0].id}`, { token });
    expect(gone.status).toBe(204);
    expect(
      (await api(nodes.a.url, 'DELETE', `/api/v1/webhooks/${own.body.items[0].id}`, { token })).status,
    ).toBe(404);
  });
});

describe.skipIf(!ready)('a webhook failing for the disable period', () => {
  const nodes = twoNodes({
    a: { ...ENV, WEBHOOK_DISABLE_AFTER_MS: '1500' },
    b: { ...ENV, WEBHOOK_DISABLE_AFTER_MS: '1500' },
  });
  test('is disabled, its owner hears webhook.disabled, and a replay makes it active again', async () => {
    const r = await startReceiver();
    try {
      const owner = await trader(nodes.a.url, 'failing-owner');
      const other = await trader(nodes.b.url, 'failing-other');
      const hook = await register(owner, r, { events: ['swap.proposed'] });
      r.answer = 500;
      const seen = recorder(owner);
      const listing = await owner.createListing(listingInput({ volumeKwh: '50' }));
      const s1 = await other.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      const disabled = await seen.next('webhook.disabled');
      expect(disabled.data).toMatchObject({ id: hook.id, url: r.url, status: 'disabled' });
      expect(JSON.stringify(disabled.data)).not.toContain(hook.secret);
      const listed = await owner.rest<{ items: { status: string }[] }>('GET', '/api/v1/webhooks');
      expect(listed.items[0]!.status).toBe('disabled');
      // nothing more is sent to it
      const count = r.requests.length;
      await other.withdraw(s1.id);
      const s2 = await other.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.1' });
      await new Promise((res) => setTimeout(res, 500));
      expect(r.requests.length).toBe(count);
      // a replay from before: active again, and the events come
      r.answer = 200;
      const first = (await eventsOf(owner))[0]!;
      await owner.rest('POST', `/api/v1/webhooks/${hook.id}/replay`, { after: first.id });
      await r.waitFor((x) =>
        x.delivered.some(
          (d) => d.body.type === 'swap.proposed' && (d.body.data as { id: string }).id === s2.id,
        ),
      );
      for (const c of [owner, other]) c.close();
    } finally {
      await r.close();
    }
  });
});

describe.skipIf(!ready)('SSRF: a hub with the default rules', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub();
  });
  afterAll(() => node?.stop());

  test('refuses webhook URLs and push endpoints that are not https: or resolve to private addresses', async () => {
    const t = await trader(node.url, 'ssrf', false);
    const token = t.session.accessToken;
    for (const url of [
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://10.0.0.8/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://2130706433/hook',
    ]) {
      const res = await api(node.url, 'POST', '/api/v1/webhooks', { token, body: { url } });
      expect([url, res.status, res.body.error.code, res.body.error.details.issues[0].path]).toEqual([
        url,
        400,
        'VALIDATION_FAILED',
        'url',
      ]);
    }
    const keys = {
      p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
      auth: Buffer.alloc(16, 2).toString('base64url'),
    };
    for (const endpoint of ['http://push.example.com/x', 'https://127.0.0.1/push']) {
      const res = await api(node.url, 'POST', '/api/v1/push/subscriptions', {
        token,
        body: { endpoint, keys },
      });
      expect([endpoint, res.status, res.body.error.code]).toEqual([endpoint, 400, 'VALIDATION_FAILED']);
    }
    expect((await api(node.url, 'GET', '/api/v1/webhooks', { token })).body.items).toEqual([]);
  });
});
