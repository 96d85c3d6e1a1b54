import {
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import jwt from 'jsonwebtoken';
import { HubError } from '../errors.js';

/** Why a token was refused, as `details.reason` of UNAUTHENTICATED. */
export type TokenFailure = 'missing' | 'invalid' | 'expired' | 'revoked' | 'disabled';

export const unauthenticated = (reason: TokenFailure, message?: string): HubError =>
  new HubError('UNAUTHENTICATED', message ?? MESSAGES[reason], { reason });

const MESSAGES: Record<TokenFailure, string> = {
  missing: 'An access token is required',
  invalid: 'The token is not valid',
  expired: 'The token has expired',
  revoked: 'The token has been revoked',
  disabled: 'This account is disabled',
};

/** The verified claims of an access token. */
export interface AccessClaims {
  userId: string;
  /** the login (refresh-token family) the token was issued to */
  familyId: string;
  /** expiry, ms since the epoch */
  expiresAt: number;
  /**
   * the user's display name as the token was signed (the `name` claim): what the hub stores with
   * the listings and swaps the user opens. Tokens signed before the claim existed lack it; the
   * hub then reads it (Accounts.authenticate).
   */
  displayName?: string;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  /** a spent refresh token presented again this soon after its rotation gets the same successor; @default 10 */
  refreshReuseSeconds?: number;
  /** no login is refreshed past this long after it began; @default 2592000 (30 days) */
  sessionMaxSeconds?: number;
}

const ACCESS_TYPE = 'access';

/** Longest `name` claim accepted: display names are at most 64 characters (src/http/schemas.ts). */
const MAX_NAME_CLAIM = 256;

/** Clock skew allowed between the node that signed a token and the one verifying it. */
export const CLOCK_SKEW_SECONDS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** HKDF labels: the successor key is a key of its own, never the JWT key itself. */
const SUCCESSOR_SALT = 'renex-hub refresh tokens';
const SUCCESSOR_INFO = 'refresh-successor';

/**
 * Issues and verifies HS256 access tokens and opaque refresh tokens. The key is a KeyObject:
 * jsonwebtoken verifies with one in microseconds, while a string secret is re-imported per call.
 */
export class TokenService {
  private readonly key: KeyObject;
  private readonly successorKey: KeyObject;

  constructor(private readonly settings: TokenSettings) {
    this.key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
    this.successorKey = createSecretKey(
      Buffer.from(hkdfSync('sha256', settings.secret, SUCCESSOR_SALT, SUCCESSOR_INFO, 32)),
    );
  }

  get refreshTtlMs(): number {
    return this.settings.refreshTtlSeconds * 1000;
  }

  /** How refresh tokens rotate: their life, the reuse interval, and the most a login may last. */
  get refreshPolicy(): RefreshPolicy {
    return {
      ttlSeconds: this.settings.refreshTtlSeconds,
      reuseSeconds: this.settings.refreshReuseSeconds ?? 10,
      sessionMaxSeconds: this.settings.sessionMaxSeconds ?? 2_592_000,
    };
  }

  /**
   * `notAfter` (ms since the epoch): the token expires then at the latest (the end of its login);
   * `name`: the user's display name, carried as the `name` claim.
   */
  signAccess(
    userId: string,
    familyId: string,
    now = Date.now(),
    notAfter = Number.POSITIVE_INFINITY,
    name?: string,
  ): { token: string; expiresAt: number } {
    const iat = Math.floor(now / 1000);
    const exp = Math.min(
      iat + this.settings.accessTtlSeconds,
      Math.max(iat + 1, Math.floor(notAfter / 1000)),
    );
    const token = jwt.sign({ typ: ACCESS_TYPE, sid: familyId, name, iat, exp }, this.key, {
      algorithm: 'HS256',
      subject: userId,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      jwtid: randomUUID(),
    });
    return { token, expiresAt: exp * 1000 };
  }

  /**
   * Verifies signature, algorithm, issuer, expiry, and that the claims are exactly what signAccess
   * writes: `typ` access, `sub` and `sid` uuids, `aud` the audience itself (not an array holding
   * it), `iat` not in the future beyond CLOCK_SKEW_SECONDS; throws UNAUTHENTICATED.
   */
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
    // jsonwebtoken accepts an `aud` array that merely contains the audience, and an `iat` in the
    // future; ids that are no uuids would reach SQL casts. Only what signAccess writes passes.
    if (
      payload.typ !== ACCESS_TYPE ||
      typeof payload.sub !== 'string' ||
      !UUID.test(payload.sub) ||
      typeof payload.sid !== 'string' ||
      !UUID.test(payload.sid) ||
      payload.aud !== this.settings.audience ||
      typeof payload.iat !== 'number' ||
      payload.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS ||
      typeof payload.exp !== 'number' ||
      (payload.name !== undefined &&
        (typeof payload.name !== 'string' || payload.name.length > MAX_NAME_CLAIM))
    ) {
      throw unauthenticated('invalid');
    }
    return {
      userId: payload.sub,
      familyId: payload.sid,
      expiresAt: payload.exp * 1000,
      displayName: payload.name,
    };
  }

  /** A new opaque refresh token and the hash under which it is stored. */
  newRefreshToken(): { token: string; hash: Buffer } {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    return { token, hash: hashRefreshToken(token) };
  }

  /**
   * The one successor of a refresh token: HMAC-SHA256 under a key derived from the JWT secret
   * (HKDF) of "refresh-successor" and the spent token's hash. Deterministic, so a retry within
   * the reuse interval gets the same successor back while only its hash is ever stored; nobody
   * without the secret can compute it.
   */
  successorOf(spentHash: Buffer): { token: string; hash: Buffer } {
    const mac = createHmac('sha256', this.successorKey).update(SUCCESSOR_INFO).update(spentHash).digest();
    const token = `rt_${mac.toString('base64url')}`;
    return { token, hash: hashRefreshToken(token) };
  }
}

/** Rotation rules of refresh tokens, applied by the store against the database's clock. */
export interface RefreshPolicy {
  /** a new refresh token lives this long (capped by the end of its login) */
  ttlSeconds: number;
  /** a spent token presented again within this many seconds of its rotation gets its successor again */
  reuseSeconds: number;
  /** a login cannot be refreshed past its start plus this */
  sessionMaxSeconds: number;
}

export const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token).digest();
