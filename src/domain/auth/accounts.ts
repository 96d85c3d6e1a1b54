import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.js';
import type { PasswordHasher } from './passwords.js';
import { type AccessClaims, hashRefreshToken, type TokenService, unauthenticated } from './tokens.js';

/** A user as the protocol shows it: never a hash, never a token. */
export interface User {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
}

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
}

/** Outcome of spending a refresh token, decided atomically by the store. */
export type SpendResult =
  | { kind: 'spent'; userId: string; familyId: string }
  | { kind: 'reused'; familyId: string }
  | { kind: 'revoked' | 'expired' | 'unknown' };

/** What accounts need from storage. */
export interface AccountStore {
  /** returns undefined when the email is taken */
  createUser(user: {
    id: string;
    email: string;
    displayName: string;
    passwordHash: string;
  }): Promise<User | undefined>;
  findUserByEmail(email: string): Promise<(User & { passwordHash: string }) | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  insertRefreshToken(t: { userId: string; familyId: string; hash: Buffer; expiresAt: Date }): Promise<void>;
  /** Marks the token spent and stores its successor in one transaction; a spent token revokes its family. */
  rotateRefreshToken(
    hash: Buffer,
    next: (spent: { userId: string; familyId: string }) => { hash: Buffer; expiresAt: Date },
  ): Promise<SpendResult>;
  /** Revokes every token of the family of `hash`; returns the family, if the token was known. */
  revokeFamilyOf(hash: Buffer): Promise<string | undefined>;
  isFamilyRevoked(familyId: string): Promise<boolean>;
}

const BAD_CREDENTIALS = 'Email or password is wrong';

/** Registration, login, token rotation and logout: the auth rules of PROTOCOL.md. */
export class Accounts {
  /** called when a login ends (logout or token reuse), so its live sockets can be closed */
  onLoginRevoked: (familyId: string) => void = () => {};

  constructor(
    private readonly store: AccountStore,
    private readonly hasher: PasswordHasher,
    readonly tokens: TokenService,
  ) {}

  /** Verifies an access token and that its login was not revoked; throws UNAUTHENTICATED. */
  async authenticate(token: unknown): Promise<AccessClaims> {
    const claims = this.tokens.verifyAccess(token);
    if (await this.store.isFamilyRevoked(claims.familyId)) throw unauthenticated('revoked');
    return claims;
  }

  async register(input: { email: string; password: string; displayName: string }): Promise<Session> {
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.store.createUser({
      id: randomUUID(),
      email: input.email,
      displayName: input.displayName,
      passwordHash,
    });
    if (!user) throw new HubError('CONFLICT', 'This email is already registered');
    return this.openSession(user, randomUUID());
  }

  /** One message for an unknown email and a wrong password; an unknown email still costs one hash. */
  async login(input: { email: string; password: string }): Promise<Session> {
    const found = await this.store.findUserByEmail(input.email);
    const ok = await this.hasher.verify(found?.passwordHash, input.password);
    if (!found || !ok) throw new HubError('UNAUTHENTICATED', BAD_CREDENTIALS, { reason: 'invalid' });
    const { passwordHash: _, ...user } = found;
    return this.openSession(user, randomUUID());
  }

  async refresh(refreshToken: string): Promise<Session> {
    let issued: { token: string; hash: Buffer } | undefined;
    const result = await this.store.rotateRefreshToken(hashRefreshToken(refreshToken), () => {
      issued = this.tokens.newRefreshToken();
      return { hash: issued.hash, expiresAt: new Date(Date.now() + this.tokens.refreshTtlMs) };
    });
    switch (result.kind) {
      case 'spent': {
        const user = await this.store.findUserById(result.userId);
        if (!user || !issued) throw unauthenticated('invalid');
        return this.session(user, result.familyId, issued.token);
      }
      case 'reused':
        this.onLoginRevoked(result.familyId);
        throw unauthenticated(
          'revoked',
          'This refresh token was already used; every token of this login is revoked',
        );
      case 'revoked':
        throw unauthenticated('revoked');
      case 'expired':
        throw unauthenticated('expired');
      default:
        throw unauthenticated('invalid');
    }
  }

  /** Revokes the login of this refresh token; an unknown token changes nothing. */
  async logout(refreshToken: string): Promise<void> {
    const familyId = await this.store.revokeFamilyOf(hashRefreshToken(refreshToken));
    if (familyId) this.onLoginRevoked(familyId);
  }

  async me(userId: string): Promise<User> {
    const user = await this.store.findUserById(userId);
    if (!user) throw unauthenticated('invalid');
    return user;
  }

  private async openSession(user: User, familyId: string): Promise<Session> {
    const refresh = this.tokens.newRefreshToken();
    await this.store.insertRefreshToken({
      userId: user.id,
      familyId,
      hash: refresh.hash,
      expiresAt: new Date(Date.now() + this.tokens.refreshTtlMs),
    });
    return this.session(user, familyId, refresh.token);
  }

  private session(user: User, familyId: string, refreshToken: string): Session {
    const access = this.tokens.signAccess(user.id, familyId);
    return {
      user,
      accessToken: access.token,
      refreshToken,
      accessExpiresAt: new Date(access.expiresAt).toISOString(),
    };
  }
}
