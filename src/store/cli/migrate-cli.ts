// `npm run migrate`: applies pending migrations to the configured database and exits.
import { pino } from 'pino';
import { loadConfig } from '../../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { runCli } from './cli.js';

await runCli(async () => {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL });
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db.sequelize, log);
    log.info({ where: db.where, applied: applied.length }, 'database is up to date');
  } finally {
    await db.close();
  }
});
