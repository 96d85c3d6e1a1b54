import type { Logger } from 'pino';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { Umzug, type UmzugStorage } from 'umzug';
import { StartupError } from './database.js';
import * as initialSchema from './migrations/0001-initial-schema.js';
import * as accountLifetimes from './migrations/0002-account-lifetimes.js';
import * as displayNames from './migrations/0003-display-names.js';
import * as meters from './migrations/0004-meters.js';
import * as energyMarket from './migrations/0005-energy-market.js';
import * as settlement from './migrations/0006-settlement.js';
import * as marketTape from './migrations/0007-market-tape.js';
import * as marketCandles from './migrations/0008-market-candles.js';
import * as listingMatching from './migrations/0009-listing-matching.js';
import * as notifications from './migrations/0010-notifications.js';
import * as eventTraceContext from './migrations/0011-event-trace-context.js';
import * as revokedLogins from './migrations/0012-revoked-logins.js';
import * as tapeByEnergyType from './migrations/0013-tape-by-energy-type.js';

/** What each migration receives: a runner bound to the migration transaction. */
export interface MigrationContext {
  run(sql: string): Promise<void>;
}

/** Every migration, in order. Listed here rather than globbed so the build and tests see the same set. */
const MIGRATIONS = [
  { name: '0001-initial-schema', up: initialSchema.up },
  { name: '0002-account-lifetimes', up: accountLifetimes.up },
  { name: '0003-display-names', up: displayNames.up },
  { name: '0004-meters', up: meters.up },
  { name: '0005-energy-market', up: energyMarket.up },
  { name: '0006-settlement', up: settlement.up },
  { name: '0007-market-tape', up: marketTape.up },
  { name: '0008-market-candles', up: marketCandles.up },
  { name: '0009-listing-matching', up: listingMatching.up },
  { name: '0010-notifications', up: notifications.up },
  { name: '0011-event-trace-context', up: eventTraceContext.up },
  { name: '0012-revoked-logins', up: revokedLogins.up },
  { name: '0013-tape-by-energy-type', up: tapeByEnergyType.up },
];

/** Arbitrary constant naming the migration lock among the hub's advisory locks. */
const MIGRATION_LOCK = 7_263_110_001;

/**
 * Applies pending migrations in one transaction under an advisory lock, so nodes that start
 * together against an empty database wait for each other and all come up. PostgreSQL DDL is
 * transactional: a failed migration leaves nothing behind. `to` stops after that migration (tests
 * build the schema of an earlier release with it).
 */
export async function migrate(sequelize: Sequelize, log?: Logger, to?: string): Promise<string[]> {
  return sequelize.transaction(async (transaction) => {
    const q = (sql: string) => sequelize.query(sql, { transaction, raw: true });
    // a migration (or waiting for another node's) may take longer than a command may
    await q('SET LOCAL statement_timeout = 0');
    await q(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await q(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    // a database a newer release migrated: this release would write rows that schema does not expect
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const [rows] = (await q('SELECT name FROM schema_migrations ORDER BY name')) as [
      { name: string }[],
      unknown,
    ];
    const newer = rows.map((r) => r.name).filter((n) => !known.has(n));
    if (newer.length) {
      throw new StartupError(
        `the database was migrated by a newer release of the hub (${newer.join(', ')}); run that release`,
      );
    }
    const umzug = new Umzug<MigrationContext>({
      migrations: MIGRATIONS.map((m) => ({ name: m.name, up: m.up })),
      context: { run: async (sql) => void (await q(sql)) },
      storage: tableStorage(sequelize, transaction),
      logger: undefined,
    });
    const applied = await umzug.up(to === undefined ? {} : { to });
    const names = applied.map((m) => m.name);
    if (names.length) log?.info({ migrations: names }, 'migrations applied');
    return names;
  });
}

function tableStorage(sequelize: Sequelize, transaction: Transaction): UmzugStorage<MigrationContext> {
  return {
    async executed() {
      const rows = await sequelize.query<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
        {
          transaction,
          type: QueryTypes.SELECT,
        },
      );
      return rows.map((r) => r.name);
    },
    async logMigration({ name }) {
      await sequelize.query('INSERT INTO schema_migrations (name) VALUES ($1)', {
        bind: [name],
        transaction,
      });
    },
    async unlogMigration({ name }) {
      await sequelize.query('DELETE FROM schema_migrations WHERE name = $1', { bind: [name], transaction });
    },
  };
}
