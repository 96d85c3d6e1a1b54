// Hand-made access tokens for every way a token can be wrong.
import { createHmac } from 'node:crypto';
import { TokenService } from '../../src/domain/auth/tokens.js';
import { TEST_JWT_SECRET } from './hub.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const settings = {
  issuer: 'renex-hub',
  audience: 'renex-clients',
  accessTtlSeconds: 900,
  refreshTtlSeconds: 3600,
};

/** Hand-made tokens for every way a token can be wrong. */
export function badTokens(userId: string, familyId = '00000000-0000-4000-8000-000000000000') {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: userId,
    sid: familyId,
    typ: 'access',
    iss: 'renex-hub',
    aud: 'renex-clients',
    iat: now,
    exp: now + 600,
  };
  const hs256 = (payload: object, header: object = { alg: 'HS256', typ: 'JWT' }) => {
    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${createHmac('sha256', TEST_JWT_SECRET).update(body).digest('base64url')}`;
  };
  return {
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
    otherKey: new TokenService({ ...settings, secret: 'another-key-another-key-another-key-42' }).signAccess(
      userId,
      familyId,
    ).token,
    expired: new TokenService({ ...settings, secret: TEST_JWT_SECRET }).signAccess(
      userId,
      familyId,
      Date.now() - 3_600_000,
    ).token,
    wrongType: hs256({ ...claims, typ: 'refresh' }),
    wrongAudience: hs256({ ...claims, aud: 'someone-else' }),
    wrongIssuer: hs256({ ...claims, iss: 'someone-else' }),
    garbage: 'not.a.token',
  };
}
