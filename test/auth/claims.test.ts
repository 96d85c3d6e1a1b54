import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, type Session } from '../support/client.js';
import { startHub, TEST_JWT_SECRET, type TestHub } from '../support/hub.js';

let node: TestHub;
let trader: Session;
let familyId: string;
beforeAll(async () => {
  node = await startHub();
  trader = await newTrader(node.url);
  familyId = JSON.parse(Buffer.from(trader.accessToken.split('.')[1]!, 'base64url').toString()).sid;
});
afterAll(() => node?.stop());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** an HS256 token signed with the hub's own key: only the claims are wrong */
const forge = (overrides: Record<string, unknown>, drop: string[] = []) => {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    typ: 'access',
    sub: trader.user.id,
    sid: familyId,
    iss: 'renex-hub',
    aud: 'renex-clients',
    iat: now,
    exp: now + 600,
    jti: '5b1f6c8e-8a0e-4b55-9f53-2f8f0a3c1d11',
    ...overrides,
  };
  for (const k of drop) delete claims[k];
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', TEST_JWT_SECRET).update(body).digest('base64url')}`;
};
const me = (token: string) => api(node.url, 'GET', '/api/v1/me', { token });

describe('access-token claims are checked beyond the signature', () => {
  test('the forger is right about everything else: a well-formed token passes', async () => {
    expect((await me(forge({}))).status).toBe(200);
    // a clock a little ahead on the signing node is tolerated
    expect((await me(forge({ iat: Math.floor(Date.now() / 1000) + 10 }))).status).toBe(200);
  });

  test.each([
    ['an aud array holding the audience', { aud: ['renex-clients', 'someone-else'] }, []],
    ['an iat in the future', { iat: Math.floor(Date.now() / 1000) + 120 }, []],
    ['no iat', {}, ['iat']],
    ['a sub that is no uuid', { sub: 'admin' }, []],
    ['a sid that is no uuid', { sid: 'any-login' }, []],
    ['a sub of upper-case junk around a uuid', { sub: `x${'0'.repeat(8)}-0000-4000-8000-000000000000` }, []],
    ['no typ', {}, ['typ']],
    ['a typ other than access', { typ: 'Access' }, []],
  ])('%s: 401 invalid', async (_name, overrides, drop) => {
    const res = await me(forge(overrides, drop));
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'invalid' } });
  });
});
