import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { PROTECTED_ROUTES, PUBLIC_ROUTES } from '../support/routes.js';

// PROTOCOL.md: a request is authenticated first, then authorized, then its input validated. Without a
// valid token every protected route is 401 whatever the body or query; with one, bad input is 400.

const PUBLIC = PUBLIC_ROUTES;
/** the protected routes today; the test also picks up any route added later from /openapi.json */
const KNOWN_PROTECTED = PROTECTED_ROUTES;

interface Operation {
  route: string;
  method: string;
  path: string;
  /** true when the route declares `security: bearer` in the OpenAPI document */
  bearer: boolean;
  hasInput: boolean;
  body: boolean;
}

let node: TestHub;
let trader: Session;
let operator: Session;
let operations: Operation[];
const OPERATOR = 'check-order.operator@example.test';
/** an operator's route: a trader is FORBIDDEN there (authenticated, then authorized, then validated) */
const forOperators = (op: Operation) => op.path.startsWith('/api/v1/operator/');
beforeAll(async () => {
  node = await startHub({ env: { OPERATOR_EMAILS: OPERATOR } });
  trader = await newTrader(node.url);
  const reg = await api<Session>(node.url, 'POST', '/api/v1/auth/register', {
    body: { email: OPERATOR, password: PASSWORD, displayName: 'Operator' },
  });
  operator = reg.body;
  const doc = (await api(node.url, 'GET', '/openapi.json')).body;
  operations = [];
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries<any>(ops)) {
      operations.push({
        route: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        bearer: JSON.stringify(op.security ?? []).includes('bearer'),
        hasInput: (op.parameters ?? []).some((p: any) => p.in !== 'header') || !!op.requestBody,
        body: !!op.requestBody,
      });
    }
  }
});
afterAll(() => node?.stop());

/** A request the route must refuse as VALIDATION_FAILED: a bad id, an unknown query field, a bad body. */
function invalidRequest(op: Operation, headers: Record<string, string>) {
  const path = `${op.path.replace('{id}', 'not-a-uuid')}${op.method === 'GET' ? '?unknownField=1' : ''}`;
  return api(
    node.url,
    op.method,
    path,
    op.body ? { body: { unknownField: [1, 2, 3] }, headers } : { headers },
  );
}

describe('authenticate, then validate', () => {
  test('the API has the protected routes the protocol lists, each documented with its bearer token', () => {
    const protectedRoutes = operations.filter((o) => !PUBLIC.includes(o.route));
    expect(protectedRoutes.map((o) => o.route)).toEqual(expect.arrayContaining(KNOWN_PROTECTED));
    for (const op of protectedRoutes)
      expect({ route: op.route, bearer: op.bearer }).toEqual({ route: op.route, bearer: true });
    for (const op of operations.filter((o) => PUBLIC.includes(o.route))) expect(op.bearer).toBe(false);
  });

  test('every protected route: invalid input without a token is 401 missing, with a bad token 401 invalid', async () => {
    for (const op of operations.filter((o) => !PUBLIC.includes(o.route))) {
      const none = await invalidRequest(op, {});
      expect({ route: op.route, status: none.status, error: none.body?.error }).toMatchObject({
        route: op.route,
        status: 401,
        error: { code: 'UNAUTHENTICATED', details: { reason: 'missing' } },
      });
      const bad = await invalidRequest(op, { authorization: 'Bearer not.a.token' });
      expect({ route: op.route, status: bad.status, reason: bad.body?.error?.details?.reason }).toEqual({
        route: op.route,
        status: 401,
        reason: 'invalid',
      });
    }
  });

  test('every protected route: the same invalid input with a valid token is 400 VALIDATION_FAILED', async () => {
    for (const op of operations.filter((o) => !PUBLIC.includes(o.route) && o.hasInput)) {
      const res = await invalidRequest(op, {
        authorization: `Bearer ${(forOperators(op) ? operator : trader).accessToken}`,
      });
      expect({ route: op.route, status: res.status, code: res.body?.error?.code }).toEqual({
        route: op.route,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
  });

  test("an operator's route with a trader's token is 403 FORBIDDEN, before its input is read", async () => {
    const routes = operations.filter(forOperators);
    expect(routes.length).toBeGreaterThan(0);
    for (const op of routes) {
      const res = await invalidRequest(op, { authorization: `Bearer ${trader.accessToken}` });
      expect({ route: op.route, status: res.status, code: res.body?.error?.code }).toEqual({
        route: op.route,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
  });

  test('a body that is not even JSON, or too large, is 401 without a token: it is never read', async () => {
    const junk = await api(node.url, 'POST', '/api/v1/listings', {
      raw: '{"side":',
      headers: { 'content-type': 'application/json' },
    });
    expect(junk.status).toBe(401);
    const big = await api(node.url, 'POST', '/api/v1/auth/logout', {
      raw: JSON.stringify({ refreshToken: 'x'.repeat(100_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(401);
    const wrongType = await api(node.url, 'POST', '/api/v1/listings', {
      raw: 'side=supply',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(401);
  });

  test('the public routes validate without a token', async () => {
    for (const route of PUBLIC) {
      const [method, path] = route.split(' ') as [string, string];
      const res = await api(node.url, method, path, { body: { unknownField: true } });
      expect({ route, status: res.status }).toEqual({ route, status: 400 });
    }
  });
});
