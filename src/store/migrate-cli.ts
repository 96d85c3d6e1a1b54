// `npm run migrate`: applies pending migrations to the configured database and exits.
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase, StartupError } from './database.js';
import { migrate } from './migrate.js';

try {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL });
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db.sequelize, log);
    log.info({ where: db.where, applied: applied.length }, 'database is up to date');
  } finally {
    await db.close();
  }
} catch (err) {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
