import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub();
});
afterAll(() => node?.stop());

const logout = (refreshToken: string, token: string) =>
  api(node.url, 'POST', '/api/v1/auth/logout', { body: { refreshToken }, token });
const refresh = (refreshToken: string) =>
  api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
const me = (token: string) => api(node.url, 'GET', '/api/v1/me', { token });

describe('logout with a refresh token', () => {
  test("another user's token is treated as unknown: the same 204, and that login lives on", async () => {
    const mallory = await newTrader(node.url, 'mallory');
    const victim = await newTrader(node.url, 'victim');
    const unknown = await logout(`rt_${'A'.repeat(43)}`, mallory.accessToken);
    const other = await logout(victim.refreshToken, mallory.accessToken);
    expect(other.status).toBe(204);
    expect({ status: other.status, body: other.body }).toEqual({
      status: unknown.status,
      body: unknown.body,
    });
    // nothing of the victim's login ended
    expect((await me(victim.accessToken)).status).toBe(200);
    const renewed = await refresh(victim.refreshToken);
    expect(renewed.status).toBe(200);
    // nor the caller's own
    expect((await me(mallory.accessToken)).status).toBe(200);
  });

  test('a user may end another login of their own', async () => {
    const t = await newTrader(node.url);
    const phone = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: t.user.email, password: PASSWORD },
    });
    expect((await logout(phone.body.refreshToken, t.accessToken)).status).toBe(204);
    expect((await me(phone.body.accessToken)).body.error.details).toEqual({ reason: 'revoked' });
    expect((await me(t.accessToken)).status).toBe(200);
  });
});
