import type pg from 'pg';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.js';
import type { RedisClients } from '../redis.js';
import type { Database } from '../store/database.js';
import { readLogRange } from '../store/event-log.js';
import { OutboxRelay, readRelayCursor } from '../store/outbox-relay.js';
import { Delivery } from './delivery.js';
import { decodeBatch, EventStream, encodeBatch } from './event-stream.js';
import type { HubServer } from './server.js';

export interface LiveDelivery {
  delivery: Delivery;
  relay: OutboxRelay;
  stream: EventStream;
  /** tell the relay (on whichever node leads) that events were committed */
  announceCommit(): void;
  stop(): Promise<void>;
}

/**
 * Committed events to live sockets. The outbox relay (one leader in the cluster) reads the log and
 * publishes it as a stream of steps on one Redis channel; every node, the leader included, takes
 * the steps into its EventStream, which fills any gap from the log and hands each event once, in
 * order, to the node's Delivery. Every node kicks the leader after each commit.
 * Without Redis there is one node, and it relays to itself.
 */
export async function startLiveDelivery(
  gateway: HubServer,
  deps: {
    db: Database;
    redis?: RedisClients;
    /** namespace of the stream's channel; nodes of one cluster share it */
    redisPrefix: string;
    metrics: HubMetrics;
    log: Logger;
    /** the relay's own session; unset: the node relays without the cluster's lock (one node) */
    relaySession?: pg.ClientConfig;
    /** see OutboxRelay's gatherMs */
    gatherMs?: number;
  },
): Promise<LiveDelivery> {
  const { db, redis, metrics, log } = deps;
  const delivery = new Delivery(gateway, metrics);
  const stream = new EventStream({
    deliver: (events) => delivery.deliver(events),
    readRange: (after, upTo, limit) => readLogRange(db.sequelize, after, upTo, limit),
    metrics,
    log,
  });
  const channel = `${deps.redisPrefix}#events`;

  const relay = new OutboxRelay({
    sequelize: db.sequelize,
    session: redis ? deps.relaySession : undefined,
    log,
    gatherMs: deps.gatherMs,
    publish: (batch) => {
      stream.receive(batch); // this node's sockets first: they do not wait for Redis
      metrics.eventsPublished.inc(batch.events.length);
      // A publish that fails is not retried: the next step (a heartbeat at the latest) tells the
      // other nodes they missed one, and they read it from the log.
      redis?.pub.spublish(channel, encodeBatch(batch)).catch((err) => {
        metrics.relayPublishFailures.inc();
        log.warn({ err }, 'publishing relay step failed; other nodes will fill it from the log');
      });
    },
  });
  gateway.on('outbox:kick', () => relay.kick());

  let kickPending = false;
  const announceCommit = () => {
    relay.kick();
    if (!redis || kickPending) return;
    kickPending = true; // one kick per tick for all the commits in it
    setImmediate(() => {
      kickPending = false;
      gateway.serverSideEmit('outbox:kick');
    });
  };

  if (redis) {
    redis.sub.on('smessage', (from: string, message: string) => {
      if (from !== channel) return;
      try {
        stream.receive(decodeBatch(message));
      } catch (err) {
        log.error({ err }, 'unreadable relay step; the next one fills it from the log');
      }
    });
    await redis.sub.ssubscribe(channel);
    // Steps published while this node's subscription was down never arrive: when it is back, go
    // as far as the relay has saved (the heartbeats would tell within a second anyway).
    redis.sub.on('ready', () => {
      readRelayCursor(db.sequelize).then(
        (to) => stream.receive({ from: to, to, events: [] }),
        (err) => log.warn({ err }, 'reading the relay position after Redis came back failed'),
      );
    });
  }
  stream.start(await readRelayCursor(db.sequelize));
  relay.start();
  return {
    delivery,
    relay,
    stream,
    announceCommit,
    async stop() {
      await relay.stop();
      stream.stop();
    },
  };
}
