import type { MigrationContext } from '../migrate.js';

/**
 * Accounts that can be switched off, and logins that end: `users.disabled_at` (set by
 * `npm run user -- disable`), and the start of each login on every refresh token of it, copied
 * to each successor, so a login cannot be refreshed past start + SESSION_MAX_SECONDS.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    ALTER TABLE users ADD COLUMN disabled_at timestamptz;

    ALTER TABLE refresh_tokens ADD COLUMN family_created_at timestamptz;
    -- tokens are never deleted, so a family's oldest token is its start
    UPDATE refresh_tokens t SET family_created_at = f.started
      FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) f
      WHERE f.family_id = t.family_id;
    ALTER TABLE refresh_tokens ALTER COLUMN family_created_at SET DEFAULT now();
    ALTER TABLE refresh_tokens ALTER COLUMN family_created_at SET NOT NULL;

    -- revoking every login of a user (disable), and the revocation read per request by family
    CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
    CREATE INDEX refresh_tokens_revoked_family_idx ON refresh_tokens (family_id) WHERE revoked_at IS NOT NULL;
  `);
}
