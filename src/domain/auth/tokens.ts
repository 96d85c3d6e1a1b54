import { createHash, createSecretKey, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { HubError } from '../errors.js';

/** Why a token was refused, as `details.reason` of UNAUTHENTICATED. */
export type TokenFailure = 'missing' | 'invalid' | 'expired' | 'revoked';

export const unauthenticated = (reason: TokenFailure, message?: string): HubError =>
  new HubError('UNAUTHENTICATED', message ?? MESSAGES[reason], { reason });

const MESSAGES: Record<TokenFailure, string> = {
  missing: 'An access token is required',
  invalid: 'The token is not valid',
  expired: 'The token has expired',
  revoked: 'The token has been revoked',
};

/** The verified claims of an access token. */
export interface AccessClaims {
  userId: string;
  /** the login (refresh-token family) the token was issued to */
  familyId: string;
  /** expiry, ms since the epoch */
  expiresAt: number;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const ACCESS_TYPE = 'access';

/**
 * Issues and verifies HS256 access tokens and opaque refresh tokens. The key is a KeyObject:
 * jsonwebtoken verifies with one in microseconds, while a string secret is re-imported per call.
 */
export class TokenService {
  private readonly key: KeyObject;

  constructor(private readonly settings: TokenSettings) {
    this.key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
  }

  get refreshTtlMs(): number {
    return this.settings.refreshTtlSeconds * 1000;
  }

  signAccess(userId: string, familyId: string, now = Date.now()): { token: string; expiresAt: number } {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.settings.accessTtlSeconds;
    const token = jwt.sign({ typ: ACCESS_TYPE, sid: familyId, iat, exp }, this.key, {
      algorithm: 'HS256',
      subject: userId,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      jwtid: randomUUID(),
    });
    return { token, expiresAt: exp * 1000 };
  }

  /** Verifies signature, algorithm, issuer, audience, expiry and type; throws UNAUTHENTICATED. */
  verifyAccess(token: unknown): AccessClaims {
    if (typeof token !== 'string' || token.length === 0) throw unauthenticated('missing');
    if (token.length > 4096) throw unauthenticated('invalid');
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
      }) as jwt.JwtPayload;
    } catch (err) {
      throw unauthenticated(err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid');
    }
    if (
      payload.typ !== ACCESS_TYPE ||
      typeof payload.sub !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof payload.exp !== 'number'
    ) {
      throw unauthenticated('invalid');
    }
    return { userId: payload.sub, familyId: payload.sid, expiresAt: payload.exp * 1000 };
  }

  /** A new opaque refresh token and the hash under which it is stored. */
  newRefreshToken(): { token: string; hash: Buffer } {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    return { token, hash: hashRefreshToken(token) };
  }
}

export const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token).digest();
