import { QueryTypes, type Sequelize, UniqueConstraintError } from 'sequelize';
import type { AccountStore, SpendResult, User } from '../domain/auth/accounts.js';
import { handshakeReads } from './event-log.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  created_at: Date;
  password_hash?: string;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  displayName: r.display_name,
  createdAt: new Date(r.created_at).toISOString(),
});

/** Users and refresh tokens in PostgreSQL. */
export function createAccountStore(sequelize: Sequelize): AccountStore {
  const select = <T extends object>(sql: string, bind: unknown[]) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });

  const handshake = handshakeReads(sequelize);

  return {
    async createUser(u) {
      try {
        const [row] = await select<UserRow>(
          `INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, created_at`,
          [u.id, u.email, u.passwordHash, u.displayName],
        );
        return toUser(row!);
      } catch (err) {
        if (err instanceof UniqueConstraintError) return undefined;
        throw err;
      }
    },

    async findUserByEmail(email) {
      const [row] = await select<UserRow>(
        'SELECT id, email, display_name, created_at, password_hash FROM users WHERE email = $1',
        [email],
      );
      return row ? { ...toUser(row), passwordHash: row.password_hash! } : undefined;
    },

    async findUserById(id) {
      const [row] = await select<UserRow>(
        'SELECT id, email, display_name, created_at FROM users WHERE id = $1',
        [id],
      );
      return row ? toUser(row) : undefined;
    },

    async insertRefreshToken(t) {
      await sequelize.query(
        `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4)`,
        { bind: [t.userId, t.familyId, t.hash, t.expiresAt] },
      );
    },

    async rotateRefreshToken(hash, next): Promise<SpendResult> {
      return sequelize.transaction(async (transaction) => {
        // Spend it only if it is live; the row lock makes two concurrent refreshes see each other.
        const [spent] = await sequelize.query<{ user_id: string; family_id: string }>(
          `UPDATE refresh_tokens SET spent_at = now()
           WHERE token_hash = $1 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING user_id, family_id`,
          { bind: [hash], transaction, type: QueryTypes.SELECT },
        );
        if (spent) {
          const successor = next({ userId: spent.user_id, familyId: spent.family_id });
          await sequelize.query(
            `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
             VALUES (gen_random_uuid(), $1, $2, $3, $4)`,
            { bind: [spent.user_id, spent.family_id, successor.hash, successor.expiresAt], transaction },
          );
          return { kind: 'spent', userId: spent.user_id, familyId: spent.family_id };
        }
        const [known] = await sequelize.query<{ family_id: string; spent: boolean; revoked: boolean }>(
          `SELECT family_id, spent_at IS NOT NULL AS spent, revoked_at IS NOT NULL AS revoked
           FROM refresh_tokens WHERE token_hash = $1`,
          { bind: [hash], transaction, type: QueryTypes.SELECT },
        );
        if (!known) return { kind: 'unknown' };
        if (known.revoked) return { kind: 'revoked' };
        if (known.spent) {
          // reuse of a spent token: someone holds a copy; end the whole login
          await sequelize.query(
            'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
            { bind: [known.family_id], transaction },
          );
          return { kind: 'reused', familyId: known.family_id };
        }
        return { kind: 'expired' };
      });
    },

    async revokeFamilyOf(hash) {
      const [row] = await select<{ family_id: string }>(
        `WITH f AS (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
         UPDATE refresh_tokens SET revoked_at = now()
         WHERE family_id = (SELECT family_id FROM f) AND revoked_at IS NULL
         RETURNING family_id`,
        [hash],
      );
      if (row) return row.family_id;
      const [known] = await select<{ family_id: string }>(
        'SELECT family_id FROM refresh_tokens WHERE token_hash = $1',
        [hash],
      );
      return known?.family_id;
    },

    // asked by every handshake: batched with the other handshakes' reads (event-log.ts)
    isFamilyRevoked: (familyId) => handshake.familyRevoked(familyId),
  };
}
