import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RevokedLogins } from '../domain/auth/revoked-logins.js';
import type { StoredEvent } from '../domain/events.js';
import type { HubMetrics } from '../metrics.js';
import type { RedisClients } from '../redis.js';
import type { RelayBatch } from '../store/outbox/outbox-relay.js';
import { outsideTrace, SpanKind } from '../telemetry/trace-context.js';
import { loginRoom, userRoom } from './auth.js';
import { Delivery } from './delivery.js';
import { decodeBatch, EventStream, encodeBatch, ownStep } from './event-stream.js';
import { NewestEvents } from './newest-events.js';
import type { HubServer } from './server.js';
import { traceEvents } from './tracing.js';

export interface LiveDelivery {
  delivery: Delivery;
  stream: EventStream;
  /** each recently seen user's newest event, kept current from the stream (connections start there) */
  newest: NewestEvents;
  /** the logins revoked lately, kept current from the stream (socket handshakes check them) */
  revoked: RevokedLogins;
  /**
   * Publishes a step of the relay's stream (the relay's `publish`, on the node that leads): this
   * node's sockets first, then the other nodes through Redis.
   */
  publish(batch: RelayBatch): void;
  /** Calls `fn` with the events this node's stream hands to its sockets, after them, in order. */
  onEvents(fn: (events: readonly StoredEvent[]) => void): void;
  /** Takes the other nodes' steps and starts the stream where the relay has got. */
  start(): Promise<void>;
  stop(): void;
}

/**
 * Committed events to live sockets. The outbox relay (one leader in the cluster) reads the log and
 * publishes it (`publish`) as a stream of steps on one Redis channel; every node, the leader
 * included, takes the steps into its EventStream, which fills any gap from the log and hands each
 * event once, in order, to the node's Delivery. Without Redis there is one node, and it relays to
 * itself. The relay itself is built and started by the hub (src/hub-parts.ts).
 */
export function createLiveDelivery(
  gateway: HubServer,
  deps: {
    redis?: RedisClients;
    /** namespace of the stream's channel; nodes of one cluster share it */
    redisPrefix: string;
    metrics: HubMetrics;
    log: Logger;
    /** messages waiting for one socket before it is closed (SOCKET_MAX_QUEUED) */
    maxQueued?: number;
    /** the events with `after < id <= upTo`, ascending, at most `limit`: a stretch a node missed */
    readRange(after: bigint, upTo: bigint, limit: number): Promise<StoredEvent[]>;
    /** how far the relay has published (and saved) */
    relayPosition(): Promise<bigint>;
    /** how long a revoked login is remembered (the access token's lifetime plus a margin) */
    keepRevokedMs: number;
  },
): LiveDelivery {
  const { redis, metrics, log } = deps;
  const delivery = new Delivery(gateway, metrics, { maxQueued: deps.maxQueued, log });
  const listeners: ((events: readonly StoredEvent[]) => void)[] = [];
  const stream: EventStream = new EventStream({
    // with tracing on, inside a span continuing the trace of each command that wrote them
    deliver: (events) => {
      traceEvents('deliver events', SpanKind.CONSUMER, events, () => delivery.deliver(events));
      newest.observe(events);
      revoked.observe(events);
      for (const fn of listeners) fn(events);
    },
    readRange: deps.readRange,
    metrics,
    log,
  });
  const newest = new NewestEvents(() => stream.delivered !== undefined, {
    counted: (from) => metrics.newestLookups.inc({ from }),
  });
  const revoked = new RevokedLogins({
    keepMs: deps.keepRevokedMs,
    // the relay steps at least every 250 ms: a node that heard nothing for a second may have
    // missed a revocation, and reads the database until it hears again
    current: () => Date.now() - stream.lastStepAt < CURRENT_MS,
    // their sockets on this node: one admitted before the event came is closed now
    closed: (room) =>
      gateway.local
        .in('familyId' in room ? loginRoom(room.familyId) : userRoom(room.userId))
        .disconnectSockets(true),
    counted: (from) => metrics.loginChecks.inc({ from }),
  });
  const channel = `${deps.redisPrefix}#events`;
  /** this node's name on the stream: the steps it publishes carry it */
  const self = randomUUID();
  let stopped = false;
  /** when this node last heard a step of the relay's stream over Redis */
  let heardAt = Date.now();
  let watchdog: NodeJS.Timeout | undefined;

  return {
    delivery,
    stream,
    newest,
    revoked,
    onEvents: (fn) => void listeners.push(fn),
    publish(batch) {
      stream.receive(batch); // this node's sockets first: they do not wait for Redis
      metrics.eventsPublished.inc(batch.events.length);
      // A publish that fails is not retried: the next step (a heartbeat at the latest) tells the
      // other nodes they missed one, and they read it from the log.
      if (!redis) return;
      traceEvents('publish events', SpanKind.PRODUCER, batch.events, () => {
        redis.pub.spublish(channel, encodeBatch(batch, self)).catch((err) => {
          metrics.relayPublishFailures.inc();
          log.warn({ err }, 'publishing relay step failed; other nodes will fill it from the log');
        });
      });
    },
    async start() {
      if (redis) {
        redis.sub.on('smessage', (from: string, message: string) => {
          if (from !== channel) return;
          heardAt = Date.now();
          // this node's own step, back from Redis: its stream took it when it was published, and
          // hearing it again later must not make the stream look current (the relay may have stopped since)
          if (ownStep(message, self)) return;
          try {
            stream.receive(decodeBatch(message));
          } catch (err) {
            log.error({ err }, 'unreadable relay step; the next one fills it from the log');
          }
        });
        await redis.sub.ssubscribe(channel);
        // Steps published while this node's subscription was down never arrive: when it is back, go
        // as far as the relay has saved (the heartbeats would tell within a second anyway).
        const catchUp = () =>
          !stopped &&
          deps.relayPosition().then(
            // the saved position: the log up to it is filled, but it says nothing of the relay's pace
            (to) => stream.receive({ from: to, to, events: [], stale: true }),
            (err) => log.warn({ err }, 'reading the relay position after Redis came back failed'),
          );
        redis.sub.on('ready', catchUp);
        // On a Redis Cluster the subscription comes back shard by shard, after a fail-over, without
        // `ready`: the client's subscribers announce each regrouping, many times a second while a
        // master is away, so once per 250 ms at most.
        if (redis.cluster) redis.sub.on('subscribersReady', coalesce(catchUp, 250));
        // The relay sends a step at least every 250 ms (a heartbeat). Silence for longer means this
        // node's subscription is gone without a word (a re-subscription the cluster refused during a
        // fail-over is only logged by the client): catch up from the log, and subscribe again.
        watchdog = setInterval(() => {
          if (stopped || Date.now() - heardAt < SILENCE_MS) return;
          heardAt = Date.now();
          void catchUp();
          // while Redis is away its own reconnection subscribes again; asking now would only queue
          if (redis.sub.status !== 'ready') return;
          redis.sub
            .ssubscribe(channel)
            .catch((err) => log.warn({ err }, 'subscribing to the relay stream again failed'));
        }, SILENCE_MS);
        watchdog.unref();
      }
      stream.start(await deps.relayPosition());
    },
    stop() {
      stopped = true;
      clearInterval(watchdog);
      stream.stop();
    },
  };
}

/** How recent the stream's last step must be for the node to answer login checks from memory. */
const CURRENT_MS = 1000;

/** Silence of the relay's stream (it sends a step every 250 ms at least) after which a node looks again. */
const SILENCE_MS = 3000;

/** `fn` at most once per `ms`: a call inside the window runs once at its end. */
function coalesce(fn: () => unknown, ms: number): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      fn();
    }, ms).unref();
  };
}

/**
 * What the hub does after each commit: kick the relay on whichever node leads. This node's relay is
 * kicked at once; in a cluster (`clustered`) every other node is told too, once per tick for all
 * the commits in it, and this node's relay takes the kicks the other nodes send.
 */
export function relayKicks(gateway: HubServer, relay: { kick(): void }, clustered: boolean): () => void {
  gateway.on('outbox:kick', () => relay.kick());
  let kickPending = false;
  return () => {
    outsideTrace(() => relay.kick()); // the relay's read is no part of the command that kicked it
    if (!clustered || kickPending) return;
    kickPending = true; // one kick per tick for all the commits in it
    setImmediate(() => {
      kickPending = false;
      gateway.serverSideEmit('outbox:kick');
    });
  };
}
