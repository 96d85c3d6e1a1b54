import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { redisAvailable } from '../support/services.js';

const login = (node: TestHub, email: string, password: string) =>
  api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password } });

describe('auth rate limits (in-process)', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({ env: { AUTH_RATE_EMAIL_PER_15MIN: '3', AUTH_RATE_IP_PER_MINUTE: '1000' } });
  });
  afterAll(() => node?.stop());

  test('failed logins per email: 429 RATE_LIMITED with retryAfterMs, even for the right password', async () => {
    const t = await newTrader(node.url);
    for (let i = 0; i < 3; i++) expect((await login(node, t.user.email, 'wrong password')).status).toBe(401);
    const blocked = await login(node, t.user.email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(blocked.body.error.details.retryAfterMs).toBeGreaterThan(800_000);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    // another email from the same address is not affected
    const other = await newTrader(node.url);
    expect((await login(node, other.user.email, PASSWORD)).status).toBe(200);
  });

  test('a success clears the failures of that email', async () => {
    const t = await newTrader(node.url);
    for (let i = 0; i < 2; i++) await login(node, t.user.email, 'wrong password');
    expect((await login(node, t.user.email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 2; i++) await login(node, t.user.email, 'wrong password');
    expect((await login(node, t.user.email, PASSWORD)).status).toBe(200);
  });
});

describe('auth rate limits per IP, cluster-wide through Redis', async () => {
  const haveRedis = await redisAvailable('auth rate limits over Redis');
  test.skipIf(!haveRedis)('two nodes share one budget per address', async () => {
    const env = { AUTH_RATE_IP_PER_MINUTE: '4' };
    const a = await startHub({ redis: true, env });
    const b = await startHub({ redis: true, env, db: a.database });
    try {
      // both nodes see 127.0.0.1 and share the test's Redis namespace: 4 attempts in all
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await login(a, uniqueEmail(), PASSWORD)).status);
      for (let i = 0; i < 3; i++) statuses.push((await login(b, uniqueEmail(), PASSWORD)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
      const last = await login(a, uniqueEmail(), PASSWORD);
      expect(last.status).toBe(429);
      expect(last.body.error.details.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
