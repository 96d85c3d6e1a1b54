// What the hub's command-line tools share: one readable line and exit 1 on a configuration or
// start-up error, anything else thrown as is.
import { ConfigError } from '../../config.js';
import { StartupError } from '../db/database.js';

export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
