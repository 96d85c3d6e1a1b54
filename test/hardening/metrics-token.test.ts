import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { api, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

// GET /metrics shows business counters: only a scraper holding METRICS_TOKEN reads it.
const TOKEN = randomBytes(24).toString('base64url');

describe('GET /metrics with METRICS_TOKEN set', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => node?.stop());

  test('the right bearer token: Prometheus text', async () => {
    const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('hub_http_requests_total');
  });

  test.each([
    ['no Authorization header', undefined, 'missing'],
    ['a wrong token', `Bearer ${randomBytes(24).toString('base64url')}`, 'invalid'],
    [
      'the token with one character changed',
      `Bearer ${TOKEN.slice(0, -1)}${TOKEN.endsWith('A') ? 'B' : 'A'}`,
      'invalid',
    ],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 16)}`, 'invalid'],
    ['the token and more', `Bearer ${TOKEN}x`, 'invalid'],
    ['the token without the scheme', TOKEN, 'invalid'],
    [
      'the token as Basic credentials',
      `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}`,
      'invalid',
    ],
  ])('%s: 401 UNAUTHENTICATED and no metrics', async (_name, authorization, reason) => {
    const res = await api(node.url, 'GET', '/metrics', { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason } });
    expect(JSON.stringify(res.body)).not.toContain('hub_');
  });

  test("a trader's access token is not a metrics token", async () => {
    const t = await newTrader(node.url);
    expect((await api(node.url, 'GET', '/metrics', { token: t.accessToken })).status).toBe(401);
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub();
  });
  afterAll(() => node?.stop());

  test('404 NOT_FOUND, with or without a token', async () => {
    const tries: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN}` }];
    for (const headers of tries) {
      const res = await api(node.url, 'GET', '/metrics', { headers });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });
});

test('METRICS_TOKEN shorter than 16 characters is refused at start-up', () => {
  expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), METRICS_TOKEN: 'too-short' })).toThrow(ConfigError);
  expect(loadConfig({ JWT_SECRET: 'x'.repeat(32), METRICS_TOKEN: 'x'.repeat(16) }).METRICS_TOKEN).toBe(
    'x'.repeat(16),
  );
});
