import { QueryTypes, type Sequelize } from 'sequelize';
import { StartupError } from './database.js';

/**
 * Refuses a database whose transaction counter is behind its event log. An event's id is its
 * committing transaction's id shifted left 16 bits (src/store/outbox/event-log.ts), so ids rise
 * only while PostgreSQL's transaction counter does. A database restored from a dump, or a replica
 * promoted after losing transactions the relay had already published, hands out transaction ids
 * the log (or the relay's saved position) already passed: every node and every connection would
 * take the new events for ones already delivered and skip them. The hub does not start on such a
 * database; the message says how far to move the counter (docs/delivery.md, "Restores and
 * fail-overs").
 */
export async function checkEventIds(sequelize: Sequelize): Promise<void> {
  const [row] = await sequelize.query<{ last: string | null; now: string }>(
    `SELECT GREATEST((SELECT max(id) FROM events), (SELECT max(last_id) FROM outbox_cursor))::text AS last,
       pg_current_xact_id()::text AS now`,
    { type: QueryTypes.SELECT },
  );
  if (row?.last == null) return;
  const needed = (BigInt(row.last) >> 16n) + 1n;
  const now = BigInt(row.now);
  if (now >= needed) return;
  throw new StartupError(
    `the event log holds ids of transaction ${needed - 1n}, but PostgreSQL's transactions are at ${now} ` +
      '(a restore from a dump, or a replica that lost transactions): new events would be taken for ' +
      `ones already delivered. Move the counter past it (pg_resetwal -e ${needed >> 32n} -x ${needed & 0xffffffffn} ` +
      'on the stopped cluster; docs/delivery.md)',
  );
}
