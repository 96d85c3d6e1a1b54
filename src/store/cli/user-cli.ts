// `npm run user -- disable <email>` and `npm run user -- enable <email>`: an operator switches an
// account off (its logins revoked at once, its live sockets closed by every node within
// ACCOUNT_CHECK_SECONDS) or on again (the user then logs in anew).
import { pino } from 'pino';
import { loadConfig } from '../../config.js';
import { setUserDisabled } from '../accounts/account-store.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { runCli } from './cli.js';

const USAGE = 'usage: npm run user -- disable <email> | enable <email>';

const [action, email, ...extra] = process.argv.slice(2);
if ((action !== 'disable' && action !== 'enable') || !email || extra.length > 0) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

await runCli(async () => {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL });
  const db = await openDatabase(config, log);
  try {
    await migrate(db.sequelize, log);
    const done = await setUserDisabled(db.sequelize, email, action === 'disable');
    if (!done) {
      process.stderr.write(`no user with the email ${email}\n`);
      process.exitCode = 1;
    } else if (action === 'disable') {
      process.stdout.write(
        `disabled ${email} (${done.id}): ${done.revokedLogins} login(s) revoked; live sockets close within ACCOUNT_CHECK_SECONDS\n`,
      );
    } else {
      process.stdout.write(`enabled ${email} (${done.id}): the user may log in again\n`);
    }
  } finally {
    await db.close();
  }
});
