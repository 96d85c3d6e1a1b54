import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, PASSWORD, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

// PROTOCOL-MARKET.md, "Operators, readings and settlement": a user whose email is in
// OPERATOR_EMAILS (any letter case) is an operator; GET /me and sessions show `roles`; every route
// under /api/v1/operator/ is FORBIDDEN to everyone else, before its body is read.

const OPERATOR = `grid-op-${randomBytes(4).toString('hex')}@test.renex`;
let node: TestHub;
let operator: Session;
let trader: Session;

async function register(email: string, name: string): Promise<Session> {
  const res = await api<Session>(node.url, 'POST', '/api/v1/auth/register', {
    body: { email, password: PASSWORD, displayName: name },
  });
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(async () => {
  // listed in another letter case, among others, with spaces
  node = await startHub({ env: { OPERATOR_EMAILS: ` someone@else.example , ${OPERATOR.toUpperCase()}` } });
  [operator, trader] = await Promise.all([
    register(OPERATOR, 'grid operator'),
    register(`trader-${randomBytes(4).toString('hex')}@test.renex`, 'trader'),
  ]);
});
afterAll(() => node?.stop());

const me = (base: string, who: Session) => api(base, 'GET', '/api/v1/me', { token: who.accessToken });

describe('roles', () => {
  test('GET /me: an operator has ["trader", "operator"], a trader ["trader"]', async () => {
    const op = await me(node.url, operator);
    expect(op.status).toBe(200);
    expect(op.body).toEqual({
      id: operator.user.id,
      email: OPERATOR,
      displayName: 'grid operator',
      createdAt: expect.any(String),
      roles: ['trader', 'operator'],
    });
    const tr = await me(node.url, trader);
    expect(tr.status).toBe(200);
    expect(tr.body.roles).toEqual(['trader']);
  });

  test("a session's user shows the roles: register, login, refresh", async () => {
    expect((operator.user as unknown as { roles: string[] }).roles).toEqual(['trader', 'operator']);
    expect((trader.user as unknown as { roles: string[] }).roles).toEqual(['trader']);
    const login = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: OPERATOR.toUpperCase(), password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(login.body.user.roles).toEqual(['trader', 'operator']);
    const refreshed = await api(node.url, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: login.body.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.user.roles).toEqual(['trader', 'operator']);
    const traderLogin = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: trader.user.email, password: PASSWORD },
    });
    expect(traderLogin.body.user.roles).toEqual(['trader']);
  });

  test('roles come from the configuration of the node asked, never from the token or the database', async () => {
    const other = await startHub({ db: node.database, env: { OPERATOR_EMAILS: '' } });
    try {
      // the same access token, on a node whose OPERATOR_EMAILS does not list the operator
      expect((await me(other.url, operator)).body.roles).toEqual(['trader']);
      const forbidden = await api(other.url, 'POST', '/api/v1/operator/readings', {
        token: operator.accessToken,
        body: { readings: [] },
      });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.code).toBe('FORBIDDEN');
      // and still an operator on the node that lists them
      expect((await me(node.url, operator)).body.roles).toEqual(['trader', 'operator']);
    } finally {
      await other.stop();
    }
  });

  test('OpenAPI: the User schema has roles', async () => {
    const doc = (await api(node.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.components.schemas.User.properties)).toContain('roles');
    const op = doc.paths['/api/v1/operator/readings'].post;
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op.responses)).toContain('403');
  });
});

describe('the operator guard', () => {
  const route = '/api/v1/operator/readings';

  test('a trader is FORBIDDEN on an operator route, whatever the body: it is never read', async () => {
    for (const opts of [
      { body: { readings: [] } },
      { body: { nonsense: true } },
      { raw: 'meter,slot_start,exported_kwh,imported_kwh\n', headers: { 'content-type': 'text/csv' } },
      { raw: '{"readings":', headers: { 'content-type': 'application/json' } },
      { raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { raw: 'x'.repeat(5 * 1024 * 1024), headers: { 'content-type': 'text/csv' } },
    ]) {
      const res = await api(node.url, 'POST', route, { token: trader.accessToken, ...opts });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
    }
  });

  test('without a token it is 401, as every protected route', async () => {
    const res = await api(node.url, 'POST', route, { body: { readings: [] } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  test('an operator passes the guard; an unknown operator route is NOT_FOUND', async () => {
    const ok = await api(node.url, 'POST', route, { token: operator.accessToken, body: { readings: [] } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ accepted: 0 });
    const missing = await api(node.url, 'GET', '/api/v1/operator/nothing-here', {
      token: operator.accessToken,
    });
    expect(missing.status).toBe(404);
  });
});
