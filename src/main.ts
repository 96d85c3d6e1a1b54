// The process entry: reads config, starts one hub node, stops it gracefully on SIGINT/SIGTERM.
// Only the config is imported statically: with an OTLP endpoint set, the OpenTelemetry SDK must be
// started before the hub's modules load pg, ioredis and node:http (docs/telemetry.md), so the hub
// is imported after it; without one, the SDK is never loaded.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';

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

const tracing = config.tracing
  ? await (await import('./telemetry/setup.js')).startTracing(config)
  : undefined;
const { createHub } = await import('./hub.js');
const { StartupError } = await import('./store/db/database.js');

const hub = createHub(config);
if (tracing) hub.log.info({ serviceInstanceId: tracing.instanceId }, 'exporting traces over OTLP');
try {
  await hub.start();
} catch (err) {
  const line = err instanceof StartupError ? err.message : `start-up failed: ${(err as Error).message}`;
  process.stderr.write(`${line}\n`);
  await hub.stop().catch(() => {});
  await tracing?.shutdown();
  process.exit(1);
}

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger: false }, async ({ signal, err }) => {
  if (err) hub.log.error({ err }, 'fatal error, stopping');
  else hub.log.info({ signal }, 'stopping');
  await hub.stop();
  await tracing?.shutdown(); // last: the spans of the drain and the shutdown are exported too
});
