import type { MigrationContext } from '../migrate.js';

/**
 * Display names with the ids a trader sees (PROTOCOL.md, "v1.1 additions"): a listing keeps its
 * owner's name, a swap its two parties'. Names do not change once an account is made, so they are
 * copied when the row is written (from the writer's access token) rather than joined on every read
 * and every lock of the command path. Rows of an existing database take their users' names. The
 * columns default to '' so that nodes of the previous release, still serving during a rolling
 * upgrade, can go on inserting rows without them (shown nameless until they are replaced).
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    ALTER TABLE listings ADD COLUMN owner_name text NOT NULL DEFAULT '';
    UPDATE listings l SET owner_name = u.display_name FROM users u WHERE u.id = l.owner_id;

    ALTER TABLE swaps ADD COLUMN initiator_name text NOT NULL DEFAULT '',
      ADD COLUMN recipient_name text NOT NULL DEFAULT '';
    UPDATE swaps s SET initiator_name = i.display_name, recipient_name = r.display_name
      FROM users i, users r WHERE i.id = s.initiator_id AND r.id = s.recipient_id;
  `);
}
