// The process entry: reads config, starts one hub node, stops it gracefully on SIGINT/SIGTERM.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { createHub } from './hub.js';
import { StartupError } from './store/db/database.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const hub = createHub(config);
try {
  await hub.start();
} catch (err) {
  const line = err instanceof StartupError ? err.message : `start-up failed: ${(err as Error).message}`;
  process.stderr.write(`${line}\n`);
  await hub.stop().catch(() => {});
  process.exit(1);
}

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger: false }, async ({ signal, err }) => {
  if (err) hub.log.error({ err }, 'fatal error, stopping');
  else hub.log.info({ signal }, 'stopping');
  await hub.stop();
});
