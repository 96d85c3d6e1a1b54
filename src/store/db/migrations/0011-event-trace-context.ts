import type { MigrationContext } from '../migrate.js';

/**
 * The W3C trace context of the command that wrote each event (docs/telemetry.md): `traceparent`
 * and `tracestate` as the headers spell them, carried by the relay to every node, whose delivery
 * span continues that trace. Written only while tracing is on; null otherwise and for older rows.
 * Adding nullable columns without a default rewrites nothing.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run('ALTER TABLE events ADD COLUMN traceparent text, ADD COLUMN tracestate text');
}
