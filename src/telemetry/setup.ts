// The OpenTelemetry SDK, loaded by src/main.ts only when an OTLP endpoint is set (config.tracing),
// and before the hub's modules: pg, ioredis and node:http are patched as they load. Nothing else
// imports this file; the hub's own spans go through @opentelemetry/api (./trace-context.ts).
import { randomUUID } from 'node:crypto';
import { register } from 'node:module';
import os from 'node:os';
import type { Span } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_DB_QUERY_TEXT, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import type { Config } from '../config.js';
import { enableTracing } from './trace-context.js';

/** What src/main.ts keeps of the SDK: its flush, after the hub has stopped. */
export interface Tracing {
  /** this node's `service.instance.id` */
  instanceId: string;
  /** exports the spans still queued and stops the SDK; never throws */
  shutdown(): Promise<void>;
}

/** Paths of requests that make no span: Socket.IO's transport, probes and scrapes. */
const UNTRACED_PATHS = /^\/(?:socket\.io\/|livez|readyz|healthz|metrics)/;

/** Quoted SQL literals (values the command path inlines) as `?`: no personal data in a span. */
const LITERAL = /(?:\bE)?'(?:[^']|'')*'/g;
const MAX_STATEMENT = 2048;

/**
 * Starts the SDK: the exporter for the configured protocol, this node's resource, W3C propagation,
 * the http, pg and ioredis instrumentations (through an ESM loader hook limited to those modules),
 * then turns on the hub's own spans. Call before importing anything that loads pg, ioredis or http.
 */
export async function startTracing(config: Config): Promise<Tracing> {
  // ESM: `import pg from 'pg'` is seen by the loader hook, not by require(); only the modules an
  // instrumentation names are wrapped (import-in-the-middle's message channel)
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions);

  const protocol =
    config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  // the exporters read the endpoint (adding /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT), headers,
  // timeout and compression from the standard variables themselves
  const exporter = protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter();

  const instanceId = `${os.hostname()}:${process.pid}:${randomUUID()}`;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over these defaults
  const detected = detectResources({ detectors: [hostDetector, processDetector, envDetector] });
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: 'renex-hub',
    'service.instance.id': instanceId,
  }).merge(detected);

  // the sampler (OTEL_TRACES_SAMPLER) and the batch's limits (OTEL_BSP_*) come from the environment
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register(); // W3C traceparent/tracestate and baggage; AsyncLocalStorage context

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        // the hub's own outbound requests (webhooks) leave from a thread of their own
        requireParentforOutgoingSpans: true,
      }),
      // only statements inside a traced command or request: not the relay's polls or the sweeps
      new PgInstrumentation({ requireParentSpan: true, requestHook: redactStatement }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  await waitForAllMessagesAcknowledged();
  enableTracing();

  return {
    instanceId: String(resource.attributes['service.instance.id'] ?? instanceId),
    async shutdown() {
      try {
        await provider.shutdown(); // flushes the batch processor
      } catch (err) {
        process.stderr.write(`tracing: flushing spans failed: ${(err as Error).message}\n`);
      }
    },
  };
}

/** The statement a pg span shows, with its inlined values replaced and its length bounded. */
function redactStatement(span: Span, info: { query: { text: string } }): void {
  const text = info.query.text.replace(LITERAL, '?');
  const shown = text.length > MAX_STATEMENT ? `${text.slice(0, MAX_STATEMENT)}…` : text;
  span.setAttribute(ATTR_DB_QUERY_TEXT, shown);
}
