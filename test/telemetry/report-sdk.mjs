// Preloaded into a hub process by traces.test.ts: at exit, says whether any module of the
// OpenTelemetry SDK (not the API, which the hub always loads) was loaded.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.on('exit', () => {
  const loaded = Object.keys(require.cache).some((k) =>
    /@opentelemetry[\\/](sdk-|exporter-|instrumentation|resources)/.test(k),
  );
  process.stderr.write(`otel-sdk-loaded=${loaded}\n`);
});
