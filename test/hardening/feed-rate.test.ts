// feed:subscribe, feed:unsubscribe and auth:refresh spend from a per-user budget of their own
// (FEED_RATE_PER_SECOND sustained plus FEED_RATE_BURST), cluster-wide when Redis is configured.
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, connectSocket, emitAck, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { redisAvailable } from '../support/services.js';
import { BIG_METER, listingInput } from '../support/traders.js';

const RATE = 2;
const BURST = 5;
const FEED_ENV = { FEED_RATE_PER_SECOND: String(RATE), FEED_RATE_BURST: String(BURST) };

type Answer =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: string; details: { retryAfterMs: number } } };

/** `n` feed:subscribe at once on `sockets` in turn; the answers and how long the burst took */
async function subscribeBurst(sockets: Socket[], n: number) {
  const began = Date.now();
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      emitAck<Answer>(sockets[i % sockets.length]!, 'feed:subscribe', {
        energyTypes: ['solar', 'wind'],
        zones: [`z${i % 7}`],
      }),
    ),
  );
  return { answers, seconds: (Date.now() - began) / 1000 };
}

/** what a burst may get: the burst allowance and the sustained rate over every window it touched */
const most = (seconds: number) => BURST + RATE * (Math.ceil(seconds) + 1);

function expectLimited(answers: Answer[]) {
  for (const a of answers.filter((x) => !x.ok)) {
    expect(a.ok === false && a.error.code).toBe('RATE_LIMITED');
    expect(a.ok === false && a.error.details.retryAfterMs).toBeGreaterThan(0);
  }
}

describe('feed commands on one node', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({ env: FEED_ENV });
  });
  afterAll(() => node?.stop());

  test('a burst of 100 feed:subscribe: burst plus the rate acknowledged, the rest RATE_LIMITED; others unaffected', async () => {
    const flooder = await newTrader(node.url, 'flooder');
    // a meter to post a listing on (over REST: no feed budget spent)
    const meter = await api(node.url, 'POST', '/api/v1/meters', {
      token: flooder.accessToken,
      body: { externalId: `FLOOD-${crypto.randomUUID()}`, ...BIG_METER },
    });
    expect(meter.status).toBe(201);
    const socket = await connectSocket(node.url, { token: flooder.accessToken });
    const { answers, seconds } = await subscribeBurst([socket], 100);
    const acked = answers.filter((a) => a.ok).length;
    expect(acked).toBeGreaterThanOrEqual(BURST);
    expect(acked).toBeLessThanOrEqual(most(seconds));
    expect(100 - acked).toBeGreaterThanOrEqual(100 - most(seconds));
    expectLimited(answers);
    expect(socket.connected).toBe(true);

    // the same budget: unsubscribe and auth:refresh are refused too while it is spent (a few may
    // pass if a second has gone by and the sustained rate refilled; the rest are refused)
    const more = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2
          ? emitAck<Answer>(socket, 'auth:refresh', { token: flooder.accessToken })
          : emitAck<Answer>(socket, 'feed:unsubscribe', {}),
      ),
    );
    expectLimited(more);
    for (const kind of [0, 1]) {
      expect(more.filter((a, i) => i % 2 === kind && !a.ok).length).toBeGreaterThan(0);
    }

    // market commands have a budget of their own
    const created = await emitAck<Answer>(socket, 'listing:create', {
      requestId: crypto.randomUUID(),
      ...listingInput({ meterId: meter.body.id }),
    });
    expect(created.ok).toBe(true);

    // another user is unaffected
    const other = await newTrader(node.url, 'calm');
    const calm = await connectSocket(node.url, { token: other.accessToken });
    expect(await emitAck(calm, 'feed:subscribe', { zones: ['NL'] })).toEqual({
      ok: true,
      data: { filter: { zones: ['NL'] } },
    });
    expect(await emitAck(calm, 'auth:refresh', { token: other.accessToken })).toMatchObject({ ok: true });

    // the budget refills: after the advertised wait the flooder may subscribe again
    const limited = answers.find((a) => !a.ok) as Extract<Answer, { ok: false }>;
    await expect
      .poll(async () => (await emitAck<Answer>(socket, 'feed:subscribe', {})).ok, {
        timeout: 15_000,
        interval: Math.min(1000, limited.error.details.retryAfterMs),
      })
      .toBe(true);
    for (const s of [socket, calm]) s.close();
  });
});

const withRedis = await redisAvailable('feed budget shared by the cluster');

describe.runIf(withRedis)('feed commands across two nodes', () => {
  let a: TestHub;
  let b: TestHub;
  beforeAll(async () => {
    a = await startHub({ redis: true, env: FEED_ENV });
    b = await startHub({ redis: true, env: FEED_ENV, db: a.database });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  test('one user’s budget is shared by every node', async () => {
    const user: Session = await newTrader(a.url, 'two-nodes');
    const sockets = [
      await connectSocket(a.url, { token: user.accessToken }),
      await connectSocket(b.url, { token: user.accessToken }),
    ];
    const { answers, seconds } = await subscribeBurst(sockets, 100);
    const acked = answers.filter((x) => x.ok).length;
    expect(acked).toBeGreaterThanOrEqual(BURST);
    expect(acked).toBeLessThanOrEqual(most(seconds));
    expectLimited(answers);
    for (const s of sockets) s.close();
  });
});
