import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The hub's Prometheus metrics, one registry per node (so tests can run several nodes in one
 * process). Served at GET /metrics.
 */
export class HubMetrics {
  readonly registry = new Registry();

  readonly sockets = new Gauge({
    name: 'hub_sockets_connected',
    help: 'Sockets connected to this node',
    registers: [this.registry],
  });

  readonly commands = new Counter({
    name: 'hub_commands_total',
    help: 'Socket commands and REST writes by command and outcome (ok or the error code)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly commandSeconds = new Histogram({
    name: 'hub_command_duration_seconds',
    help: 'Time from a command arriving to its answer',
    labelNames: ['command'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly transactionSeconds = new Histogram({
    name: 'hub_transaction_duration_seconds',
    help: 'Time of command transactions, from BEGIN to COMMIT',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly acceptGroupSize = new Histogram({
    name: 'hub_accept_group_size',
    help: 'Accepts of one listing committed together in one transaction (group commit)',
    buckets: [2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });

  readonly eventsAppended = new Counter({
    name: 'hub_events_appended_total',
    help: 'Events written to the outbox by this node',
    registers: [this.registry],
  });

  readonly eventsPublished = new Counter({
    name: 'hub_events_published_total',
    help: 'Events published by this node as the outbox relay',
    registers: [this.registry],
  });

  readonly relayPublishFailures = new Counter({
    name: 'hub_relay_publish_failures_total',
    help: 'Relay steps whose publish to Redis failed (other nodes fill them from the log)',
    registers: [this.registry],
  });

  readonly streamGaps = new Counter({
    name: 'hub_stream_gaps_total',
    help: 'Gaps this node found in the relay stream (a lost or failed publish, a relay fail-over)',
    registers: [this.registry],
  });

  readonly streamFilled = new Counter({
    name: 'hub_stream_filled_events_total',
    help: 'Events this node read from the log to fill gaps in the relay stream',
    registers: [this.registry],
  });

  readonly replayed = new Counter({
    name: 'hub_replayed_events_total',
    help: 'Events sent from the log to reconnecting sockets',
    registers: [this.registry],
  });

  readonly newestLookups = new Counter({
    name: 'hub_newest_event_lookups_total',
    help: "Connections without lastEventId by where their user's newest event came from: memory (known to this node) or log",
    labelNames: ['from'] as const,
    registers: [this.registry],
  });

  readonly loginChecks = new Counter({
    name: 'hub_login_checks_total',
    help: 'Revocation checks of socket handshakes and auth:refresh by where the answer came from: memory (kept from the event stream) or log (the database: the node is starting, its stream is not current, or the user was enabled lately)',
    labelNames: ['from'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'hub_rate_limited_total',
    help: 'Requests and commands refused as RATE_LIMITED',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'hub_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  constructor(probes: {
    database: () => Promise<boolean>;
    redis?: () => Promise<boolean>;
    /** seconds since the oldest event the relay has not published yet was written; 0 when none */
    outboxLag: () => Promise<number>;
  }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'hub_' });
    const up = (name: string, help: string, probe: () => Promise<boolean>) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.set((await probe().catch(() => false)) ? 1 : 0);
        },
      });
    up('hub_database_up', 'PostgreSQL answers', probes.database);
    if (probes.redis) up('hub_redis_up', 'Redis answers', probes.redis);
    new Gauge({
      name: 'hub_outbox_lag_seconds',
      help: 'Age of the oldest committed event not yet published by the relay',
      registers: [this.registry],
      async collect() {
        this.set(await probes.outboxLag().catch(() => -1));
      },
    });
  }
}
