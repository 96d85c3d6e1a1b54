import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, trader } from '../support/traders.js';

const METRICS_TOKEN = 'metrics-token-of-the-visibility-test';
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
let node: TestHub;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk));
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  node = await startHub({ log: pino({ level: 'trace' }, sink), env: { METRICS_TOKEN } });
});
afterAll(() => node?.stop());

describe('logs', () => {
  test('one line per command and request with its id, user, type, outcome and latency; never a secret', async () => {
    const seller = await trader(node.url, 'seller');
    const buyer = await trader(node.url, 'buyer');
    const listing = await seller.createListing(listingInput());
    await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await expect(
      buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: seller.user.email, password: 'wrong password!' },
    });
    await seller.refresh();
    await seller.logout();

    const commands = lines.filter((l) => l.msg === 'command');
    expect(commands).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          command: 'listing:create',
          userId: seller.user.id,
          outcome: 'ok',
          requestId: expect.any(String),
          ms: expect.any(Number),
        }),
        expect.objectContaining({ command: 'swap:propose', userId: buyer.user.id, outcome: 'ok' }),
        expect.objectContaining({ command: 'swap:propose', userId: buyer.user.id, outcome: 'CONFLICT' }),
      ]),
    );
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          method: 'POST',
          route: '/api/v1/auth/login',
          status: 401,
          ms: expect.any(Number),
          reqId: expect.any(String),
        }),
        expect.objectContaining({
          method: 'POST',
          route: '/api/v1/auth/logout',
          status: 204,
          userId: seller.user.id,
        }),
      ]),
    );
    const all = raw.join('');
    for (const secret of [
      PASSWORD,
      'wrong password!',
      METRICS_TOKEN,
      seller.session.accessToken,
      seller.session.refreshToken,
      buyer.session.accessToken,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).not.toMatch(/\$argon2id\$/);
    buyer.close();
  });
});

describe('GET /metrics', () => {
  test('Prometheus text with the hub’s metrics and Node’s', async () => {
    const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'hub_sockets_connected',
      'hub_commands_total{command="swap:propose",outcome="CONFLICT"} 1',
      'hub_command_duration_seconds_bucket',
      'hub_transaction_duration_seconds_bucket',
      'hub_events_appended_total',
      'hub_events_published_total',
      'hub_outbox_lag_seconds',
      'hub_replayed_events_total',
      'hub_rate_limited_total',
      'hub_database_up 1',
      'hub_nodejs_eventloop_lag_p99_seconds',
      'hub_http_requests_total',
    ]) {
      expect(text).toContain(name);
    }
  });
});
