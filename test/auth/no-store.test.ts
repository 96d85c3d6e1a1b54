import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, PASSWORD, type Session, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub();
});
afterAll(() => node?.stop());

const noStore = (res: { headers: Headers }) => expect(res.headers.get('cache-control')).toBe('no-store');

describe('Cache-Control: no-store on every auth answer', () => {
  test('register, login, refresh, me and logout, and their errors', async () => {
    const email = uniqueEmail();
    const reg = await api<Session>(node.url, 'POST', '/api/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: 'N' },
    });
    expect(reg.status).toBe(201);
    noStore(reg);
    const login = await api<Session>(node.url, 'POST', '/api/v1/auth/login', {
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    noStore(login);
    const renewed = await api<Session>(node.url, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(renewed.status).toBe(200);
    noStore(renewed);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: renewed.body.accessToken });
    expect(me.status).toBe(200);
    noStore(me);
    const out = await api(node.url, 'POST', '/api/v1/auth/logout', {
      body: { refreshToken: renewed.body.refreshToken },
      token: renewed.body.accessToken,
    });
    expect(out.status).toBe(204);
    noStore(out);

    for (const res of [
      await api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'a wrong password' } }),
      await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: 'rt_unknown' } }),
      await api(node.url, 'POST', '/api/v1/auth/register', { body: { email } }),
      await api(node.url, 'GET', '/api/v1/me'),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      noStore(res);
    }
  });
});
