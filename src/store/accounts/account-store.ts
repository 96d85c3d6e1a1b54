import { fn, Op, QueryTypes, type Sequelize, UniqueConstraintError } from 'sequelize';
import type { AccountStore, SpendResult, User } from '../../domain/auth/accounts.js';
import { models, type UserModel } from '../models/models.js';
import type { HandshakeReads } from '../outbox/event-log.js';
import { isUuidText } from '../reads/read-batcher.js';

/**
 * Class id of the per-login advisory locks (two-key form, a key space apart from the hub's
 * one-key locks): the refreshes of one login are decided one at a time on every node.
 */
const LOGIN_LOCK_CLASS = 7263;

/** The state of a presented refresh token, read under its login's lock. */
interface SpendRow {
  id: string;
  family_id: string;
  spent: boolean;
  revoked: boolean;
  expired: boolean;
  login_over: boolean;
  login_ends_at: Date;
  recent: boolean;
  successor_known: boolean;
  successor_spent: boolean;
  successor_expired: boolean;
  user_id: string | null;
  email: string;
  display_name: string;
  created_at: Date;
  disabled: boolean;
}

// A login counts as revoked once any of its tokens is: a logout racing a rotation may miss the
// successor the rotation is inserting, never the tokens it revoked.
const SPEND_STATE_SQL = `SELECT t.id, t.family_id, t.spent_at IS NOT NULL AS spent,
    EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = t.family_id AND r.revoked_at IS NOT NULL) AS revoked,
    t.expires_at <= now() AS expired,
    t.family_created_at + make_interval(secs => $3) <= now() AS login_over,
    t.family_created_at + make_interval(secs => $3) AS login_ends_at,
    COALESCE(t.spent_at > clock_timestamp() - make_interval(secs => $4), false) AS recent,
    n.id IS NOT NULL AS successor_known,
    COALESCE(n.spent_at IS NOT NULL, false) AS successor_spent,
    COALESCE(n.expires_at <= now(), false) AS successor_expired,
    u.id AS user_id, u.email, u.display_name, u.created_at, COALESCE(u.disabled_at IS NOT NULL, false) AS disabled
  FROM refresh_tokens t
  LEFT JOIN users u ON u.id = t.user_id
  LEFT JOIN refresh_tokens n ON n.token_hash = $2 AND n.family_id = t.family_id
  WHERE t.token_hash = $1`;

// The successor keeps its login's start, and never outlives the login.
const SPEND_SQL = `WITH spent AS (
    UPDATE refresh_tokens SET spent_at = now() WHERE id = $1
    RETURNING user_id, family_id, family_created_at)
  INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, family_created_at)
  SELECT gen_random_uuid(), user_id, family_id, $2,
    LEAST(now() + make_interval(secs => $3), family_created_at + make_interval(secs => $4)), family_created_at
  FROM spent`;

const USER_ATTRIBUTES = ['id', 'email', 'displayName', 'createdAt'] as const;

type UserRecord = Pick<UserModel, (typeof USER_ATTRIBUTES)[number]>;

const toUser = (r: UserRecord): User => ({
  id: r.id,
  email: r.email,
  displayName: r.displayName,
  createdAt: new Date(r.createdAt).toISOString(),
});

/**
 * Users and refresh tokens in PostgreSQL. `handshake`: the database's one batcher of handshake
 * reads (see handshakeReads), which `loginState` asks.
 */
export function createAccountStore(sequelize: Sequelize, handshake: HandshakeReads): AccountStore {
  const { User, RefreshToken } = models(sequelize);
  const select = <T extends object>(sql: string, bind: unknown[]) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });

  return {
    async createUser(u) {
      try {
        const created = await User.create(
          { id: u.id, email: u.email, passwordHash: u.passwordHash, displayName: u.displayName },
          { returning: true },
        );
        return toUser(created);
      } catch (err) {
        if (err instanceof UniqueConstraintError) return undefined;
        throw err;
      }
    },

    async findUserByEmail(email) {
      const row = await User.findOne({ where: { email }, raw: true });
      return row
        ? { ...toUser(row), passwordHash: row.passwordHash, disabled: row.disabledAt !== null }
        : undefined;
    },

    async findUserById(id) {
      const row = await User.findByPk(id, { attributes: [...USER_ATTRIBUTES], raw: true });
      return row ? toUser(row) : undefined;
    },

    async insertRefreshToken(t) {
      // Only for an active user, read under a share lock of the user's row: a disable (which
      // updates that row, then revokes every login) either commits first, and nothing is stored,
      // or sees this token and revokes it. A plain insert could land after the disable's revocation.
      const rows = await select<{ id: string }>(
        `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         SELECT gen_random_uuid(), u.id, $2, $3, $4
         FROM (SELECT id FROM users WHERE id = $1 AND disabled_at IS NULL FOR SHARE) u
         RETURNING id`,
        [t.userId, t.familyId, t.hash, t.expiresAt],
      );
      return rows.length > 0;
    },

    async rotateRefreshToken({ hash, successorHash }, policy): Promise<SpendResult> {
      return sequelize.transaction(async (transaction) => {
        const q = <T extends object>(sql: string, bind: unknown[]) =>
          sequelize.query<T>(sql, { bind, transaction, type: QueryTypes.SELECT });
        // Concurrent refreshes of one login, on any node, wait here for each other; each then
        // reads (a new snapshot: READ COMMITTED) what the one before it committed.
        const [known] = await q<{ locked: unknown }>(
          `SELECT pg_advisory_xact_lock(${LOGIN_LOCK_CLASS}, hashtext(family_id::text)) AS locked
           FROM refresh_tokens WHERE token_hash = $1`,
          [hash],
        );
        if (!known) return { kind: 'unknown' };
        const [t] = await q<SpendRow>(SPEND_STATE_SQL, [
          hash,
          successorHash,
          policy.sessionMaxSeconds,
          policy.reuseSeconds,
        ]);
        if (!t) return { kind: 'unknown' }; // its user was deleted meanwhile
        if (t.revoked) return { kind: 'revoked' };
        if (t.user_id === null || t.disabled) return { kind: 'disabled' };
        const user = toUser({
          id: t.user_id,
          email: t.email,
          displayName: t.display_name,
          createdAt: t.created_at,
        });
        if (!t.spent) {
          if (t.expired || t.login_over) return { kind: 'expired' };
          await sequelize.query(SPEND_SQL, {
            bind: [t.id, successorHash, policy.ttlSeconds, policy.sessionMaxSeconds],
            transaction,
          });
          return { kind: 'spent', user, familyId: t.family_id, loginEndsAt: new Date(t.login_ends_at) };
        }
        // Spent: a retry (within the interval, its successor not used yet) gets that successor
        // again; anything else means two parties hold the token: end the whole login.
        if (t.recent && t.successor_known && !t.successor_spent) {
          return t.successor_expired
            ? { kind: 'expired' }
            : { kind: 'retried', user, familyId: t.family_id, loginEndsAt: new Date(t.login_ends_at) };
        }
        await sequelize.query(
          'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
          { bind: [t.family_id], transaction },
        );
        return { kind: 'reused', familyId: t.family_id };
      });
    },

    async revokeFamilyOf(hash, userId) {
      // only the caller's own logins: another user's token names no family here
      const token = await RefreshToken.findOne({
        where: { tokenHash: hash, userId },
        attributes: ['familyId'],
        raw: true,
      });
      if (!token) return undefined;
      await RefreshToken.update(
        { revokedAt: fn('now') },
        { where: { familyId: token.familyId, revokedAt: null } },
      );
      return token.familyId;
    },

    async inactiveUsers(userIds) {
      const ids = userIds.filter(isUuidText);
      if (!ids.length) return [];
      const active = await User.findAll({
        where: { id: { [Op.in]: ids }, disabledAt: null },
        attributes: ['id'],
        raw: true,
      });
      const live = new Set(active.map((u) => u.id));
      return ids.filter((id) => !live.has(id));
    },

    async revokedLogins(familyIds) {
      const ids = familyIds.filter(isUuidText);
      if (!ids.length) return [];
      const rows = await RefreshToken.findAll({
        where: { familyId: { [Op.in]: ids }, revokedAt: { [Op.ne]: null } },
        attributes: ['familyId'],
        group: ['familyId'],
        raw: true,
      });
      return rows.map((r) => r.familyId);
    },

    // asked by every request and handshake: batched with the other handshakes' reads (event-log.ts)
    loginState: (userId, familyId) => handshake.loginState(userId, familyId),
  };
}

/**
 * Disables (or enables again) the user of `email`; disabling also revokes every login of the
 * user. Their live sockets are closed by each node's account watch (src/gateway/account-watch.ts).
 * Returns undefined when there is no such user.
 */
export async function setUserDisabled(
  sequelize: Sequelize,
  email: string,
  disabled: boolean,
): Promise<{ id: string; revokedLogins: number } | undefined> {
  const { User, RefreshToken } = models(sequelize);
  return sequelize.transaction(async (transaction) => {
    const [, users] = await User.update(
      // disabling twice keeps the first time
      { disabledAt: disabled ? fn('COALESCE', sequelize.col('disabled_at'), fn('now')) : null },
      { where: { email: email.trim().toLowerCase() }, returning: true, transaction },
    );
    const user = users[0];
    if (!user) return undefined;
    if (!disabled) return { id: user.id, revokedLogins: 0 };
    const [, revoked] = await RefreshToken.update(
      { revokedAt: fn('now') },
      { where: { userId: user.id, revokedAt: null }, returning: true, transaction },
    );
    return { id: user.id, revokedLogins: new Set(revoked.map((t) => t.familyId)).size };
  });
}
