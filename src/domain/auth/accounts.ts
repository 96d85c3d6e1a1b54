import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.js';
import { validationFailed } from '../validation.js';
import { weakPasswordReason } from './password-strength.js';
import type { PasswordHasher } from './passwords.js';
import type { RevokedLogins } from './revoked-logins.js';
import {
  type AccessClaims,
  hashRefreshToken,
  type RefreshPolicy,
  type TokenService,
  unauthenticated,
} from './tokens.js';

/** A user as stored: never a hash, never a token. */
export interface User {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
}

/** What a user may do (PROTOCOL-MARKET.md, "Operators, readings and settlement"). */
export const ROLES = ['trader', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** A user as the protocol shows it (`GET /me`, a session's `user`): with the roles of this moment. */
export interface UserView extends User {
  /** `["trader"]`, or `["trader", "operator"]` for an email of OPERATOR_EMAILS; never stored */
  roles: Role[];
}

/**
 * Who is an operator: the emails of OPERATOR_EMAILS, in any letter case. Roles are computed from
 * this at each request or session, never stored, so a restart with another list changes them.
 */
export function operatorEmails(emails: readonly string[]): (email: string) => boolean {
  const set = new Set(emails.map((e) => e.toLowerCase()));
  return (email) => set.has(email.toLowerCase());
}

export interface Session {
  user: UserView;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
}

/**
 * Outcome of spending a refresh token, decided atomically by the store: `spent` rotated it now;
 * `retried` it was rotated within the reuse interval and its successor is still unused (a retry:
 * the same successor again); `reused` a spent token came back later (the login is now revoked).
 */
export type SpendResult =
  | { kind: 'spent' | 'retried'; user: User; familyId: string; loginEndsAt: Date }
  | { kind: 'reused'; familyId: string }
  | { kind: 'revoked' | 'expired' | 'unknown' | 'disabled' };

/** Whether an access token's login may still be used: its family, and its user. */
export type LoginState = 'live' | 'revoked' | 'disabled' | 'deleted';

/** What accounts need from storage. */
export interface AccountStore {
  /** returns undefined when the email is taken */
  createUser(user: {
    id: string;
    email: string;
    displayName: string;
    passwordHash: string;
  }): Promise<User | undefined>;
  findUserByEmail(email: string): Promise<(User & { passwordHash: string; disabled: boolean }) | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  /**
   * the first token of a new login (family), which starts now; false (nothing stored) when the
   * user is disabled or gone by the time it is stored
   */
  insertRefreshToken(t: {
    userId: string;
    familyId: string;
    hash: Buffer;
    expiresAt: Date;
  }): Promise<boolean>;
  /**
   * Spends the token of `hash` and stores `successorHash` in its family, in one transaction that
   * locks the token's row, so concurrent refreshes on any node are decided one after the other
   * (against the database's clock): a live token is spent; a spent one within
   * `policy.reuseSeconds` whose successor is unused is `retried`; any other spent one revokes its
   * family. The successor expires at min(now + ttl, family start + sessionMax); a family past its
   * end, or a token of a disabled or deleted user, spends nothing.
   */
  rotateRefreshToken(
    token: { hash: Buffer; successorHash: Buffer },
    policy: RefreshPolicy,
  ): Promise<SpendResult>;
  /** Revokes every token of the family of `hash` if it is `userId`'s; returns the family, if so. */
  revokeFamilyOf(hash: Buffer, userId: string): Promise<string | undefined>;
  /** one read, batched with other requests' reads: the family revoked? the user disabled or gone? */
  loginState(userId: string, familyId: string): Promise<LoginState>;
  /** the users among `userIds` that are disabled or deleted, in one query */
  inactiveUsers(userIds: string[]): Promise<string[]>;
  /** the logins (families) among `familyIds` that are revoked, in one query */
  revokedLogins(familyIds: string[]): Promise<string[]>;
}

const BAD_CREDENTIALS = 'Email or password is wrong';

/** Registration, login, token rotation and logout: the auth rules of PROTOCOL.md. */
export class Accounts {
  /**
   * @param loginRevoked told when a login ends here (logout or token reuse), so its live sockets
   * can be closed
   * @param isOperator whether an email is an operator's (`operatorEmails(OPERATOR_EMAILS)`); none by default
   * @param recent the node's memory of recent revocations, which socket handshakes check (`authenticate`'s 'stream')
   */
  constructor(
    private readonly store: AccountStore,
    private readonly hasher: PasswordHasher,
    readonly tokens: TokenService,
    private readonly loginRevoked: (familyId: string) => void,
    private readonly isOperator: (email: string) => boolean = () => false,
    private readonly recent?: Pick<RevokedLogins, 'loginState'>,
  ) {}

  /** The user as shown, with the roles their email has now. */
  view(user: User): UserView {
    return { ...user, roles: this.isOperator(user.email) ? ['trader', 'operator'] : ['trader'] };
  }

  /**
   * Verifies an access token, that its login was not revoked and its user is active; throws
   * UNAUTHENTICATED. `check`: 'exact' reads the database (a change committed before is seen: every
   * REST request); 'stream' asks the node's memory of recent changes while its event stream is
   * current, so a change committed elsewhere is seen once the stream brings it, within milliseconds
   * (a socket's handshake: the socket is closed when it comes; docs/security.md).
   */
  async authenticate(token: unknown, check: 'exact' | 'stream' = 'exact'): Promise<AccessClaims> {
    const claims = this.tokens.verifyAccess(token);
    const state =
      check === 'stream' && this.recent
        ? await this.recent.loginState(claims.userId, claims.familyId, this.store.loginState)
        : await this.store.loginState(claims.userId, claims.familyId);
    if (state === 'disabled') throw unauthenticated('disabled');
    if (state !== 'live') throw unauthenticated('revoked');
    if (claims.displayName === undefined) {
      // a token signed before tokens carried the name: read it once
      claims.displayName = (await this.me(claims.userId)).displayName;
    }
    return claims;
  }

  /** The users among `userIds` (connected ones) that were disabled or deleted since. */
  inactiveUsers(userIds: string[]): Promise<string[]> {
    return userIds.length ? this.store.inactiveUsers(userIds) : Promise.resolve([]);
  }

  /**
   * The logins among `familyIds` (of connected sockets) revoked since: also those revoked outside
   * this hub (`npm run user -- disable`, which no node hears of), even once the user is enabled again.
   */
  revokedLogins(familyIds: string[]): Promise<string[]> {
    return familyIds.length ? this.store.revokedLogins(familyIds) : Promise.resolve([]);
  }

  /** A guessable password is VALIDATION_FAILED before anything is hashed or stored. */
  async register(input: { email: string; password: string; displayName: string }): Promise<Session> {
    const weak = weakPasswordReason(input.password, input);
    if (weak) throw validationFailed([{ path: 'password', message: weak }]);
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
    // told only to whoever knows the password
    if (found.disabled) throw unauthenticated('disabled');
    const { passwordHash: _, disabled: __, ...user } = found;
    return this.openSession(user, randomUUID());
  }

  /**
   * Rotates a refresh token. A retry within the reuse interval gets the same successor (derived
   * again, never stored in plain text) and a freshly signed access token of the same login.
   */
  async refresh(refreshToken: string): Promise<Session> {
    const hash = hashRefreshToken(refreshToken);
    const successor = this.tokens.successorOf(hash);
    const result = await this.store.rotateRefreshToken(
      { hash, successorHash: successor.hash },
      this.tokens.refreshPolicy,
    );
    switch (result.kind) {
      case 'spent':
      case 'retried':
        return this.session(result.user, result.familyId, successor.token, result.loginEndsAt.getTime());
      case 'reused':
        this.loginRevoked(result.familyId);
        throw unauthenticated(
          'revoked',
          'This refresh token was already used; every token of this login is revoked',
        );
      case 'revoked':
        throw unauthenticated('revoked');
      case 'expired':
        throw unauthenticated('expired');
      case 'disabled':
        throw unauthenticated('disabled');
      default:
        throw unauthenticated('invalid');
    }
  }

  /**
   * Revokes the login of this refresh token if it is `userId`'s. Another user's token is treated
   * as an unknown one: nothing changes and the answer is the same, so a caller learns nothing
   * about it (not even that it is live) and cannot end someone else's login.
   */
  async logout(refreshToken: string, userId: string): Promise<void> {
    const familyId = await this.store.revokeFamilyOf(hashRefreshToken(refreshToken), userId);
    if (familyId) this.loginRevoked(familyId);
  }

  /** The user of `userId` with their roles: one read by primary key. */
  async me(userId: string): Promise<UserView> {
    const user = await this.store.findUserById(userId);
    if (!user) throw unauthenticated('invalid');
    return this.view(user);
  }

  private async openSession(user: User, familyId: string): Promise<Session> {
    const refresh = this.tokens.newRefreshToken();
    const { ttlSeconds, sessionMaxSeconds } = this.tokens.refreshPolicy;
    const stored = await this.store.insertRefreshToken({
      userId: user.id,
      familyId,
      hash: refresh.hash,
      expiresAt: new Date(Date.now() + 1000 * Math.min(ttlSeconds, sessionMaxSeconds)),
    });
    // disabled (or deleted) after the password was checked: no login outlives the disable
    if (!stored) throw unauthenticated('disabled');
    return this.session(user, familyId, refresh.token, Date.now() + 1000 * sessionMaxSeconds);
  }

  /** An access token never outlives its login (`loginEndsAt`, ms): no token is usable past SESSION_MAX_SECONDS. */
  private session(user: User, familyId: string, refreshToken: string, loginEndsAt: number): Session {
    const access = this.tokens.signAccess(user.id, familyId, Date.now(), loginEndsAt, user.displayName);
    return {
      user: this.view(user),
      accessToken: access.token,
      refreshToken,
      accessExpiresAt: new Date(access.expiresAt).toISOString(),
    };
  }
}
