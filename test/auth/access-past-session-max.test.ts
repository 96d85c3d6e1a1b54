import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

const SESSION_MAX_SECONDS = 3;

let node: TestHub;
beforeAll(async () => {
  // an access token that would outlive its login by far
  node = await startHub({
    env: { SESSION_MAX_SECONDS: String(SESSION_MAX_SECONDS), ACCESS_TOKEN_TTL_SECONDS: '3600' },
  });
});
afterAll(() => node?.stop());

const me = (token: string) => api(node.url, 'GET', '/api/v1/me', { token });
const refresh = (refreshToken: string) =>
  api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an access token issued near the end of its login', () => {
  test('expires with the login: nothing is usable past start + SESSION_MAX_SECONDS', async () => {
    const started = Date.now();
    const t = await newTrader(node.url, 'longlived');
    expect(Date.parse(t.accessExpiresAt)).toBeLessThanOrEqual(started + SESSION_MAX_SECONDS * 1000 + 2000);
    await sleep(1000);
    const renewed = await refresh(t.refreshToken);
    expect(renewed.status).toBe(200);
    // the answer tells the client when the token ends: with the login, not an hour later
    expect(Date.parse(renewed.body.accessExpiresAt)).toBeLessThanOrEqual(
      started + SESSION_MAX_SECONDS * 1000 + 2000,
    );
    // until past the login's end, as the hub states it (the access token ends with the login):
    // on a loaded box the login may have begun well after `started`
    await sleep(Math.max(0, Date.parse(renewed.body.accessExpiresAt) + 1500 - Date.now()));
    // the login is over: its refresh token is refused, and so must be its access tokens
    expect((await refresh(renewed.body.refreshToken)).body.error.details).toEqual({ reason: 'expired' });
    const res = await me(renewed.body.accessToken);
    expect(res.status).toBe(401);
    expect((await me(t.accessToken)).status).toBe(401);
  });
});
