import type { StoredEvent } from '../events.js';
import type { LoginState } from './accounts.js';

/** The data of an `access.changed` event (src/store/db/migrations/0012-revoked-logins.ts). */
export type AccessChange =
  | { change: 'revoked'; userId: string; familyIds: string[] }
  | { change: 'disabled' | 'enabled' | 'deleted'; userId: string };

/** How long a node keeps a revoked login beyond the access token's lifetime (clock skew, a refresh in flight). */
export const REVOKED_MARGIN_SECONDS = 300;

/** How long after its revocation a login may still hold an unexpired access token, in seconds. */
export const keepRevokedSeconds = (accessTtlSeconds: number): number =>
  accessTtlSeconds + REVOKED_MARGIN_SECONDS;

/**
 * Who may not use an access token, as far as revocation goes: the logins (token families) revoked
 * lately and the users disabled or deleted lately, in memory, so that a socket's handshake checks
 * its login without a read of the database. A login's access tokens all expire within the access
 * token's lifetime of its revocation (no token is signed for a revoked login, or for a disabled or
 * deleted user, but by a refresh that committed just before): what changed longer ago than
 * `keepMs` is refused by the token's expiry, and is forgotten here.
 *
 * Filled by `load` (the database's recent changes, read once the node's stream runs), by the
 * stream's `access.changed` events (`observe`), which the database writes with every change, and
 * by this node's own revocations (`revoke`, before its stream brings them): every change is in
 * one or the other. `loginState` answers from memory only while `usable` (loaded, and the stream
 * current); otherwise from the database.
 */
export class RevokedLogins {
  /** revoked logins, by when this node learnt of it */
  private readonly families = new Map<string, number>();
  /**
   * users disabled or deleted, and users enabled again ('ask': their logins are checked in the
   * database until the change is old, as the order of a disable and an enable committed close
   * together is not their events' order)
   */
  private readonly users = new Map<string, { state: 'disabled' | 'deleted' | 'ask'; at: number }>();
  /** the stream's changes that came before `load`: applied at once, and again after it (they are newer) */
  private early: AccessChange[] | undefined = [];
  private prunedAt: number;

  constructor(
    private readonly opts: {
      /** how long a change is kept: the access token's lifetime plus REVOKED_MARGIN_SECONDS */
      keepMs: number;
      /** whether this node's stream is current (it took a relay step lately) */
      current: () => boolean;
      /** told of each login revoked and each user cut off by an event (their sockets here close) */
      closed?: (room: { familyId: string } | { userId: string }) => void;
      /** counts each check by where its answer came from */
      counted?: (from: 'memory' | 'log') => void;
      now?: () => number;
    },
  ) {
    this.prunedAt = this.now();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * The recent changes read from the database, in order (read after the stream started); then
   * those the stream brought meanwhile. Answers begin.
   */
  load(changes: readonly { change: AccessChange; at: number }[]): void {
    for (const c of changes) this.apply(c.change, c.at);
    const early = this.early ?? [];
    this.early = undefined;
    for (const c of early) this.apply(c, this.now());
  }

  /** A login ended on this node: refused here at once, before the stream brings its event. */
  revoke(familyId: string): void {
    this.apply({ change: 'revoked', userId: '', familyIds: [familyId] }, this.now());
  }

  /**
   * The events the node's stream handed out: the `access.changed` ones are taken in, as of now
   * (when this node learnt of them: at or after their commit).
   */
  observe(events: readonly StoredEvent[]): void {
    for (const e of events) {
      if (e.type !== 'access.changed') continue;
      const change = e.data as AccessChange;
      this.early?.push(change);
      this.apply(change, this.now());
      if (change.change === 'revoked') {
        for (const familyId of change.familyIds) this.opts.closed?.({ familyId });
      } else if (change.change !== 'enabled') this.opts.closed?.({ userId: change.userId });
    }
  }

  /** Whether answers come from memory: loaded, and the stream current. */
  usable(): boolean {
    return this.early === undefined && this.opts.current();
  }

  /**
   * Whether the login may be refused from what is known here: as the database would answer
   * (deleted, then disabled, then revoked), or undefined for a user whose logins the database checks.
   */
  state(userId: string, familyId: string): LoginState | undefined {
    const user = this.users.get(userId);
    if (user?.state === 'ask') return undefined;
    return user?.state ?? (this.families.has(familyId) ? 'revoked' : 'live');
  }

  /** The login's state from memory while `usable`, else from `read` (the database). */
  loginState(
    userId: string,
    familyId: string,
    read: (userId: string, familyId: string) => Promise<LoginState>,
  ): Promise<LoginState> {
    const known = this.usable() ? this.state(userId, familyId) : undefined;
    this.opts.counted?.(known ? 'memory' : 'log');
    return known ? Promise.resolve(known) : read(userId, familyId);
  }

  /** how many logins and users are kept (metrics, tests) */
  get size(): number {
    return this.families.size + this.users.size;
  }

  private apply(c: AccessChange, at: number): void {
    if (c.change === 'revoked') {
      for (const id of c.familyIds) this.families.set(id, Math.max(this.families.get(id) ?? at, at));
    } else {
      // an enable stays asked of the database for a while, whatever comes after it: a disable and
      // an enable committed close together reach the stream in either order
      const asked = c.change === 'disabled' && this.users.get(c.userId)?.state === 'ask';
      this.users.set(c.userId, { state: c.change === 'enabled' || asked ? 'ask' : c.change, at });
    }
    this.prune();
  }

  /** Forgets what changed longer than `keepMs` ago, at most once a minute. */
  private prune(): void {
    const now = this.now();
    if (now - this.prunedAt < 60_000) return;
    this.prunedAt = now;
    const before = now - this.opts.keepMs;
    for (const [id, at] of this.families) if (at < before) this.families.delete(id);
    for (const [id, u] of this.users) if (u.at < before) this.users.delete(id);
  }
}
