// The hub's own spans and the W3C trace context it carries with events, over @opentelemetry/api only.
// Without the SDK (OTEL_EXPORTER_OTLP_ENDPOINT unset, src/telemetry/setup.ts never loaded) the hub
// tests `tracingEnabled()` (or `inTrace()`) before any of the rest: its paths pay one boolean test.
import {
  type Context,
  context,
  createTraceState,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

export { type Context, ROOT_CONTEXT, type Span, SpanKind };

/** The trace context of the command that wrote an event, as W3C headers (docs/telemetry.md). */
export interface TraceCarrier {
  /** `00-<trace id>-<span id>-<flags>` */
  traceparent: string;
  tracestate?: string;
}

let enabled = false;

/** Turns the hub's spans on; called once by src/telemetry/setup.ts after the SDK is registered. */
export function enableTracing(): void {
  enabled = true;
}

/** Whether the SDK is loaded and the hub makes spans of its own. */
export const tracingEnabled = (): boolean => enabled;

/**
 * Whether work here belongs to a trace (a command's, a request's): its inner spans are made only
 * then, so the sweeps, the relay's polls and the other background work make no traces of their own.
 */
export const inTrace = (): boolean => enabled && trace.getActiveSpan() !== undefined;

export const tracer = trace.getTracer('renex-hub');

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * A W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header) if `value` is a
 * valid one: version (2 hex, not `ff`), trace id (32 hex), parent id (16 hex), flags (2 hex), in
 * lower case, neither id all zeros. Anything else is undefined: a malformed traceparent on a socket
 * command is ignored, never an error (docs/telemetry.md).
 */
export function parseTraceparent(
  value: unknown,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, traceFlags: Number.parseInt(m[4]!, 16) & TraceFlags.SAMPLED };
}

/** A context whose parent is the remote span `carrier` names, or undefined if it names none. */
export function contextOf(carrier: TraceCarrier | undefined): Context | undefined {
  const parent = carrier && parseTraceparent(carrier.traceparent);
  if (!parent) return undefined;
  let traceState: ReturnType<typeof createTraceState> | undefined;
  if (carrier.tracestate) {
    try {
      traceState = createTraceState(carrier.tracestate);
    } catch {
      traceState = undefined;
    }
  }
  return trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true, traceState });
}

/** The active span's context as W3C headers, to be stored with the events it writes; undefined when off. */
export function currentCarrier(): TraceCarrier | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const c = span.spanContext();
  if (c.traceId === ZERO_TRACE || c.spanId === ZERO_SPAN) return undefined;
  const flags = (c.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const tracestate = c.traceState?.serialize();
  return { traceparent: `00-${c.traceId}-${c.spanId}-${flags}`, ...(tracestate ? { tracestate } : {}) };
}

/** The active context when tracing is on (to run work later in it: `withContext`), else undefined. */
export const activeContext = (): Context | undefined => (enabled ? context.active() : undefined);

/**
 * `fn` outside any trace: for work a command sets off but that is not its own (the relay's next
 * read, whose timer would otherwise run in the command's context and file the read under it).
 */
export const outsideTrace = <T>(fn: () => T): T => (enabled ? context.with(ROOT_CONTEXT, fn) : fn());

/** `fn` in `ctx` (from `activeContext`), or simply `fn` without one. */
export const withContext = <T>(ctx: Context | undefined, fn: () => T): T =>
  ctx === undefined ? fn() : context.with(ctx, fn);

/**
 * `fn` inside a span named `name`, child of `parent` (or of the active context), ended when `fn`
 * settles; an exception marks it as an error. Only called when `tracingEnabled()`.
 */
export async function inSpan<T>(
  name: string,
  options: {
    parent?: Context;
    kind?: SpanKind;
    links?: Link[];
    attributes?: Record<string, string | number | boolean>;
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, links: options.links, attributes: options.attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
