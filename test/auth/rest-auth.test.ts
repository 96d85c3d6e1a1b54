import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

let node: TestHub;
beforeAll(async () => {
  // no reuse interval: presenting a spent token again is reuse at once (test/auth/refresh-reuse.test.ts has the interval)
  node = await startHub({ env: { REFRESH_REUSE_SECONDS: '0' } });
});
afterAll(() => node?.stop());

const post = (path: string, body: unknown, token?: string) =>
  api(node.url, 'POST', `/api/v1${path}`, { body, token });
const me = (token: string) => api(node.url, 'GET', '/api/v1/me', { token });

describe('REST accounts', () => {
  test('register, login and me; no hash or token in the user', async () => {
    const email = uniqueEmail('ada');
    const reg = await post('/auth/register', {
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
      displayName: 'Ada',
    });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toEqual({
      id: expect.any(String),
      email,
      displayName: 'Ada',
      createdAt: expect.any(String),
      roles: ['trader'],
    });
    expect(reg.body.accessToken).toMatch(/^ey/);
    expect(reg.body.refreshToken).toMatch(/^rt_/);
    expect(Date.parse(reg.body.accessExpiresAt)).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(JSON.stringify(reg.body.user)).not.toMatch(/argon|hash|password/i);

    const login = await post('/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body.user).toEqual(reg.body.user);

    const who = await me(login.body.accessToken);
    expect(who.status).toBe(200);
    expect(who.body).toEqual(reg.body.user);
  });

  test('an email taken in another case is CONFLICT', async () => {
    const email = uniqueEmail('dup');
    expect((await post('/auth/register', { email, password: PASSWORD, displayName: 'A' })).status).toBe(201);
    const again = await post('/auth/register', {
      email: email.toUpperCase(),
      password: PASSWORD,
      displayName: 'B',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });

  test('one answer for an unknown email and a wrong password', async () => {
    const t = await newTrader(node.url);
    const wrong = await post('/auth/login', { email: t.user.email, password: 'not the password' });
    const unknown = await post('/auth/login', { email: uniqueEmail('nobody'), password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('UNAUTHENTICATED');
  });

  test('refresh rotates: a new pair, the old refresh token spent', async () => {
    const t = await newTrader(node.url);
    const r1 = await post('/auth/refresh', { refreshToken: t.refreshToken });
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(t.refreshToken);
    expect(r1.body.user.id).toBe(t.user.id);
    expect((await me(r1.body.accessToken)).status).toBe(200);
    const r2 = await post('/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect(r2.status).toBe(200);
  });

  test('reuse of a spent refresh token revokes the whole login', async () => {
    const t = await newTrader(node.url);
    const rotated = await post('/auth/refresh', { refreshToken: t.refreshToken });
    expect(rotated.status).toBe(200);

    const reuse = await post('/auth/refresh', { refreshToken: t.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.details).toEqual({ reason: 'revoked' });

    // the legitimate successor dies with the family, and so do its access tokens
    const successor = await post('/auth/refresh', { refreshToken: rotated.body.refreshToken });
    expect(successor.status).toBe(401);
    expect(successor.body.error.details).toEqual({ reason: 'revoked' });
    const access = await me(rotated.body.accessToken);
    expect(access.status).toBe(401);
    expect(access.body.error.details).toEqual({ reason: 'revoked' });

    // another login of the same user is untouched
    const other = await post('/auth/login', { email: t.user.email, password: PASSWORD });
    expect((await me(other.body.accessToken)).status).toBe(200);
  });

  test('logout revokes that login only', async () => {
    const t = await newTrader(node.url);
    const second = await post('/auth/login', { email: t.user.email, password: PASSWORD });
    const out = await post('/auth/logout', { refreshToken: t.refreshToken }, t.accessToken);
    expect(out.status).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: t.refreshToken })).status).toBe(401);
    expect((await me(t.accessToken)).body.error.details).toEqual({ reason: 'revoked' });
    expect((await me(second.body.accessToken)).status).toBe(200);
  });
});
