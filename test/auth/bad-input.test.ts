import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD, type Session, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { badTokens } from '../support/tokens.js';

let node: TestHub;
let trader: Session;
beforeAll(async () => {
  node = await startHub();
  trader = await newTrader(node.url);
});
afterAll(() => node?.stop());

describe('bad credentials are refused and change nothing', () => {
  test.each(['algNone', 'otherKey', 'wrongType', 'wrongAudience', 'wrongIssuer', 'garbage'] as const)(
    'an access token that is %s: 401 invalid',
    async (kind) => {
      const res = await api(node.url, 'GET', '/api/v1/me', { token: badTokens(trader.user.id)[kind] });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'invalid' } });
    },
  );

  test('an expired access token: 401 expired', async () => {
    const res = await api(node.url, 'GET', '/api/v1/me', { token: badTokens(trader.user.id).expired });
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'expired' } });
  });

  test('a refresh token used as an access token, and the reverse', async () => {
    const asAccess = await api(node.url, 'GET', '/api/v1/me', { token: trader.refreshToken });
    expect(asAccess.status).toBe(401);
    expect(asAccess.body.error.details).toEqual({ reason: 'invalid' });
    const asRefresh = await api(node.url, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: trader.accessToken },
    });
    expect(asRefresh.status).toBe(401);
    expect(asRefresh.body.error.details).toEqual({ reason: 'invalid' });
    expect((await api(node.url, 'GET', '/api/v1/me', { token: trader.accessToken })).status).toBe(200);
  });

  test.each([
    ['no header', undefined, 'missing'],
    ['a Basic header', 'Basic dXNlcjpwYXNz', 'invalid'],
    ['Bearer with nothing', 'Bearer ', 'invalid'],
    ['two tokens', 'Bearer a b', 'invalid'],
  ])('Authorization: %s', async (_name, header, reason) => {
    const res = await api(node.url, 'GET', '/api/v1/me', {
      headers: header === undefined ? {} : { authorization: header },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.details).toEqual({ reason });
  });
});

describe('bad bodies are VALIDATION_FAILED with details.issues', () => {
  const register = (body: unknown) => api(node.url, 'POST', '/api/v1/auth/register', { body });
  const good = () => ({ email: uniqueEmail(), password: PASSWORD, displayName: 'X' });

  test.each([
    ['a missing field', { email: 'a@b.example', password: PASSWORD }, 'displayName'],
    [
      'an extra field',
      { ...{ email: 'a@b.example', password: PASSWORD, displayName: 'X' }, admin: true },
      '',
    ],
    ['a wrong type', { email: 'a@b.example', password: 1234567890123, displayName: 'X' }, 'password'],
    ['a short password', { email: 'a@b.example', password: 'short', displayName: 'X' }, 'password'],
    [
      'an over-long password',
      { email: 'a@b.example', password: 'x'.repeat(129), displayName: 'X' },
      'password',
    ],
    [
      'an over-long name',
      { email: 'a@b.example', password: PASSWORD, displayName: 'x'.repeat(65) },
      'displayName',
    ],
    ['a bad email', { email: 'not-an-email', password: PASSWORD, displayName: 'X' }, 'email'],
    ['an array', [1, 2], ''],
  ])('%s', async (_name, body, path) => {
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining(path) })]),
    );
    expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |SELECT |INSERT /);
  });

  test('a body over the limit', async () => {
    const res = await register({ ...good(), displayName: 'x'.repeat(70_000) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('malformed JSON', async () => {
    const res = await api(node.url, 'POST', '/api/v1/auth/login', {
      raw: '{"email":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('nothing was created by the refused registrations', async () => {
    const res = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: 'a@b.example', password: PASSWORD },
    });
    expect(res.status).toBe(401);
  });
});
