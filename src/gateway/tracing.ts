// The gateway's spans (docs/telemetry.md): one per socket command, one per trace context in each
// batch of events a node delivers or the relay publishes. Called only while tracing is on.
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { StoredEvent } from '../domain/events.js';
import {
  type Context,
  contextOf,
  parseTraceparent,
  ROOT_CONTEXT,
  SpanKind,
  tracer,
  tracingEnabled,
} from '../telemetry/trace-context.js';

/** Distinct trace contexts given a span each in one batch; the rest are links of the last one. */
const MAX_SPANS_PER_BATCH = 32;

/**
 * The span of socket command `name`: child of the command's `traceparent` if it is a valid one,
 * else the root of a new trace (a socket's messages arrive in no request's context). No user id,
 * token or payload goes into it.
 */
export function commandSpan(name: string, traceparent: unknown) {
  const parsed = parseTraceparent(traceparent);
  return {
    parent: parsed ? (contextOf({ traceparent: traceparent as string }) ?? ROOT_CONTEXT) : ROOT_CONTEXT,
    kind: SpanKind.SERVER,
    attributes: {
      'rpc.system': 'socket.io',
      'rpc.method': name,
      'renex.command': name,
      ...(traceparent !== undefined && !parsed ? { 'renex.traceparent_ignored': true } : {}),
    },
  };
}

/** The command's protocol outcome (`ok` or an error code); the node's own failures mark an error. */
export function commandOutcome(span: Span, outcome: string): void {
  span.setAttribute('renex.outcome', outcome);
  if (outcome === 'INTERNAL' || outcome === 'UNAVAILABLE') span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * `fn` (handing `events` on) inside one span per trace context the events carry, each a child of
 * the command that wrote them, so that command's trace shows this node's part. Untraced events
 * (tracing off, written before it was on) make no span; with tracing off this is `fn()`.
 */
export function traceEvents(
  name: 'deliver events' | 'publish events',
  kind: SpanKind,
  events: readonly StoredEvent[],
  fn: () => void,
): void {
  if (!tracingEnabled()) {
    fn();
    return;
  }
  const byTrace = new Map<string, { event: StoredEvent; count: number; types: Set<string> }>();
  for (const e of events) {
    if (!e.trace) continue;
    const seen = byTrace.get(e.trace.traceparent);
    if (seen) {
      seen.count++;
      seen.types.add(e.type);
    } else byTrace.set(e.trace.traceparent, { event: e, count: 1, types: new Set([e.type]) });
  }
  if (byTrace.size === 0) {
    fn();
    return;
  }
  const spans: Span[] = [];
  const groups = [...byTrace.values()];
  const overflow = groups.slice(MAX_SPANS_PER_BATCH - 1);
  for (const g of groups.slice(0, MAX_SPANS_PER_BATCH)) {
    const links =
      spans.length === MAX_SPANS_PER_BATCH - 1 && overflow.length > 1
        ? overflow.slice(1).flatMap((o) => {
            const c = contextOf(o.event.trace);
            const sc = c && trace.getSpanContext(c);
            return sc ? [{ context: sc }] : [];
          })
        : undefined;
    const parent: Context = contextOf(g.event.trace) ?? ROOT_CONTEXT;
    spans.push(
      tracer.startSpan(
        name,
        {
          kind,
          links,
          attributes: {
            'messaging.system': 'renex-outbox',
            'messaging.batch.message_count': g.count,
            'renex.event_types': [...g.types].join(','),
            'renex.first_event_id': g.event.id.toString(),
            'renex.batch_events': events.length,
          },
        },
        parent,
      ),
    );
  }
  try {
    context.with(trace.setSpan(context.active(), spans[0]!), fn);
  } finally {
    for (const s of spans) s.end();
  }
}
