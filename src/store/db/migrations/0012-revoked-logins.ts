import type { MigrationContext } from '../migrate.js';

/**
 * Every change of who may use an access token, told to every node through the event log: the
 * database writes an `access.changed` event in the transaction of each change, whoever makes it
 * (the hub's logout and refresh-token reuse, `npm run user -- disable`, an operator's SQL), and
 * each node's stream takes it in (src/domain/auth/revoked-logins.ts), so a handshake checks its
 * login in memory. The event is internal: addressed to no user and no market, sent to no client.
 *
 * data: `{change: 'revoked', userId, familyIds}` (logins whose tokens were revoked),
 * `{change: 'disabled' | 'enabled' | 'deleted', userId}`.
 *
 * Ids: (transaction id << 16) + a position counted down from 65535 to 49152, so they never meet the
 * positions of a command's events (from 0) or of those derived from rows (from 32768). One
 * transaction may so write 16,384 of them; one more fails the transaction with
 * program_limit_exceeded (change that many users in batches).
 *
 * Also: the index a starting node reads recent changes by, and the revoked tokens by time.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    -- the id below which the next n access.changed events of this transaction go (top - 1, top - 2, ...)
    CREATE FUNCTION renex_access_ids(n bigint) RETURNS bigint
    LANGUAGE plpgsql AS $fn$
    DECLARE
      base bigint := pg_current_xact_id()::text::bigint << 16;
      top bigint;
    BEGIN
      SELECT COALESCE(min(id), base + 65536) INTO top FROM events WHERE id BETWEEN base + 49152 AND base + 65535;
      IF top - n < base + 49152 THEN
        RAISE EXCEPTION 'at most 16384 access changes in one transaction' USING ERRCODE = 'program_limit_exceeded';
      END IF;
      RETURN top;
    END
    $fn$;

    -- the events of one statement's changes: rows of (user id, change, family ids or null)
    CREATE FUNCTION renex_access_changed(changes jsonb) RETURNS void
    LANGUAGE plpgsql AS $fn$
    DECLARE
      n bigint := jsonb_array_length(changes);
      top bigint;
    BEGIN
      IF n = 0 THEN RETURN; END IF;
      top := renex_access_ids(n);
      INSERT INTO events (id, type, at, user_a, user_b, data)
      SELECT top - c.i, 'access.changed', now(), NULL, NULL, jsonb_strip_nulls(c.v)
      FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(v, i);
    END
    $fn$;

    CREATE FUNCTION renex_tokens_revoked() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM renex_access_changed(COALESCE(jsonb_agg(jsonb_build_object(
          'change', 'revoked', 'userId', f.user_id, 'familyIds', f.families) ORDER BY f.user_id), '[]'))
      FROM (SELECT n.user_id, jsonb_agg(DISTINCT n.family_id::text) AS families
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE o.revoked_at IS NULL AND n.revoked_at IS NOT NULL
            GROUP BY n.user_id) f;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER refresh_tokens_access_changed AFTER UPDATE ON refresh_tokens
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION renex_tokens_revoked();

    -- both triggers on users: a disable or an enable (UPDATE), a deletion (DELETE)
    CREATE FUNCTION renex_users_changed() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM renex_access_changed(COALESCE(jsonb_agg(jsonb_build_object(
            'change', 'deleted', 'userId', o.id) ORDER BY o.id), '[]'))
        FROM old_rows o;
        RETURN NULL;
      END IF;
      PERFORM renex_access_changed(COALESCE(jsonb_agg(jsonb_build_object(
          'change', CASE WHEN n.disabled_at IS NULL THEN 'enabled' ELSE 'disabled' END, 'userId', n.id)
          ORDER BY n.id), '[]'))
      FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (o.disabled_at IS NULL) <> (n.disabled_at IS NULL);
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
