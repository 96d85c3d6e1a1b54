// The login: the refresh token lives in localStorage so a reload keeps the session. Every use of
// it (restore on load, rotation while running) happens under a Web Lock and reads the stored
// token first, so two tabs never spend the same refresh token (which would revoke the login).
import { HubClient, HubClientError, request, type Session } from '../../src/client/index.js';

const KEY = 'renex.refreshToken';

export const storedToken = (): string | null => localStorage.getItem(KEY);
const store = (token: string) => localStorage.setItem(KEY, token);
export const forget = (): void => localStorage.removeItem(KEY);

function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? locks.request('renex-session', fn) : fn();
}

/** The hub client, keeping the stored refresh token current whenever it rotates. */
export class DashboardClient extends HubClient {
  private rotating: Promise<void> | undefined;

  override refresh(): Promise<void> {
    this.rotating ??= withLock(async () => {
      const latest = storedToken();
      // another tab of this login rotated it: ours is spent, theirs is the live one
      if (latest && latest !== this.session.refreshToken) {
        this.session = { ...this.session, refreshToken: latest };
      }
      const before = this.session.refreshToken;
      const who = this.session.user.id;
      try {
        await super.refresh();
        // another tab signed in as someone else: this screen must not go on as them
        if (this.session.user.id !== who) {
          this.close();
          this.onSessionOver();
          return;
        }
      } catch (err) {
        if (isSessionOver(err)) {
          forget();
          this.onSessionOver();
        }
        throw err;
      } finally {
        // rotated, even if handing the new access token to the socket then failed
        if (this.session.refreshToken !== before) store(this.session.refreshToken);
      }
    }).finally(() => {
      this.rotating = undefined;
    });
    return this.rotating;
  }

  /** called once when the login is over (revoked, or refused on refresh) */
  onSessionOver: () => void = () => {};

  override async logout(): Promise<void> {
    const latest = storedToken();
    if (latest) this.session = { ...this.session, refreshToken: latest };
    try {
      await super.logout();
    } finally {
      this.close();
      forget();
    }
  }
}

const base = () => location.origin;

export async function register(body: { email: string; password: string; displayName: string }) {
  const session = await request<Session>(base(), 'POST', '/api/v1/auth/register', { body });
  return start(session);
}

export async function login(email: string, password: string) {
  const session = await request<Session>(base(), 'POST', '/api/v1/auth/login', { body: { email, password } });
  return start(session);
}

/**
 * The session of the last visit, through POST /api/v1/auth/refresh; undefined when there is none
 * or the hub refused it (then the stored token is dropped). Network failures are thrown.
 */
export async function restore(): Promise<DashboardClient | undefined> {
  const session = await withLock(async () => {
    const token = storedToken();
    if (!token) return undefined;
    try {
      const s = await request<Session>(base(), 'POST', '/api/v1/auth/refresh', {
        body: { refreshToken: token },
      });
      store(s.refreshToken);
      return s;
    } catch (err) {
      if (
        err instanceof HubClientError &&
        (err.code === 'UNAUTHENTICATED' || err.code === 'VALIDATION_FAILED')
      ) {
        forget();
        return undefined;
      }
      throw err;
    }
  });
  return session && new DashboardClient(base(), session);
}

function start(session: Session): DashboardClient {
  store(session.refreshToken);
  return new DashboardClient(base(), session);
}

/** True for errors that mean the login is over (revoked, or the refresh token was spent elsewhere). */
export const isSessionOver = (err: unknown): boolean =>
  err instanceof HubClientError && err.code === 'UNAUTHENTICATED';
