import type { MigrationContext } from '../migrate.js';

/**
 * Every change of who may use an access token, told to every node through the event log: the
 * database writes an `access.changed` event in the transaction of each change, whoever makes it
 * (the hub's logout and refresh-token reuse, `npm run user -- disable`, an operator's SQL), and
 * each node's stream takes it in (src/domain/auth/revoked-logins.ts), so a handshake checks its
 * login in memory. The event is internal: addressed to no user and no market, sent to no client.
 *
 * data: `{change: 'revoked', userId, familyIds}` (logins whose tokens were revoked, those with a
 * token made within a day and 5 minutes: older ones have no unexpired access token, whose lifetime
 * is at most a day), `{change: 'disabled' | 'enabled' | 'deleted', userId}`.
 *
 * Ids: (transaction id << 16) + a position counted down from 65535, so they never meet the
 * positions of a command's events (from 0) or of those derived from rows (from 32768).
 *
 * Also: the index a starting node reads recent changes by, and the revoked tokens by time.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE FUNCTION renex_access_changed(change text, uid uuid, families text[]) RETURNS void
    LANGUAGE plpgsql AS $fn$
    DECLARE
      base bigint := pg_current_xact_id()::text::bigint << 16;
    BEGIN
      INSERT INTO events (id, type, at, user_a, user_b, data)
      SELECT base + 65535 - count(*), 'access.changed', now(), NULL, NULL,
        jsonb_strip_nulls(jsonb_build_object('change', change, 'userId', uid, 'familyIds', to_jsonb(families)))
      FROM events WHERE id BETWEEN base + 49152 AND base + 65535 AND type = 'access.changed';
    END
    $fn$;

    CREATE FUNCTION renex_tokens_revoked() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    DECLARE
      r record;
    BEGIN
      FOR r IN
        SELECT f.user_id, array_agg(f.family_id::text ORDER BY f.family_id) AS families
        FROM (SELECT n.user_id, n.family_id FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE o.revoked_at IS NULL AND n.revoked_at IS NOT NULL
              GROUP BY n.user_id, n.family_id
              HAVING max(n.created_at) > now() - interval '1 day 5 minutes') f
        GROUP BY f.user_id
      LOOP
        PERFORM renex_access_changed('revoked', r.user_id, r.families);
      END LOOP;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER refresh_tokens_access_changed AFTER UPDATE ON refresh_tokens
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION renex_tokens_revoked();

    -- both triggers on users: a disable or an enable (UPDATE), a deletion (DELETE)
    CREATE FUNCTION renex_users_changed() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    DECLARE
      r record;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        FOR r IN SELECT id FROM old_rows ORDER BY id LOOP
          PERFORM renex_access_changed('deleted', r.id, NULL);
        END LOOP;
        RETURN NULL;
      END IF;
      FOR r IN
        SELECT n.id, n.disabled_at IS NOT NULL AS disabled FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (o.disabled_at IS NULL) <> (n.disabled_at IS NULL) ORDER BY n.id
      LOOP
        PERFORM renex_access_changed(CASE WHEN r.disabled THEN 'disabled' ELSE 'enabled' END, r.id, NULL);
      END LOOP;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER users_access_changed AFTER UPDATE ON users
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION renex_users_changed();
    CREATE TRIGGER users_access_deleted AFTER DELETE ON users
      REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION renex_users_changed();

    CREATE INDEX events_access_changed_idx ON events (at) WHERE type = 'access.changed';
    CREATE INDEX refresh_tokens_revoked_at_idx ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
  `);
}
