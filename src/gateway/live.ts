import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.js';
import type { RedisClients } from '../redis.js';
import type { Database } from '../store/database.js';
import type { EventReader } from '../store/event-log.js';
import { OutboxRelay } from '../store/outbox-relay.js';
import { Delivery } from './delivery.js';
import { catchUp } from './replay.js';
import type { HubServer } from './server.js';

export interface LiveDelivery {
  delivery: Delivery;
  relay: OutboxRelay;
  /** tell the relay (on whichever node leads) that events were committed */
  announceCommit(): void;
}

/**
 * Committed events to live sockets: the outbox relay (one leader in the cluster) publishing into
 * ordered per-socket delivery, kicked by every node after each commit, and the catch-up of this
 * node's connections from the log after its Redis subscription comes back.
 */
export function startLiveDelivery(
  gateway: HubServer,
  deps: {
    db: Database;
    redis?: RedisClients;
    events: EventReader;
    metrics: HubMetrics;
    log: Logger;
    /** see OutboxRelay's gatherMs */
    gatherMs?: number;
  },
): LiveDelivery {
  const { db, redis, events, metrics, log, gatherMs } = deps;
  const delivery = new Delivery(gateway, metrics);
  const relay = new OutboxRelay({
    sequelize: db.sequelize,
    databaseUrl: db.embedded ? undefined : db.url,
    log,
    gatherMs,
    // with Redis away a broadcast would reach this node only: hold the position until it is back
    publish: (batch) => {
      if (redis && redis.pub.status !== 'ready') return false;
      delivery.publish(batch);
      metrics.eventsPublished.inc(batch.length);
      return true;
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
    // Broadcasts published while this node's subscription was down never arrive: fill each
    // connection's gap from the log when it is back (and once more after resubscribing settles).
    const catchUpAll = () => {
      for (const socket of gateway.of('/').sockets.values()) void catchUp(socket, { delivery, events, log });
    };
    // the subscriber is connected already: each 'ready' from here on is a reconnect
    redis.sub.on('ready', () => {
      log.info('Redis subscription is back; catching live connections up from the log');
      catchUpAll();
      setTimeout(catchUpAll, 1000).unref();
    });
  }
  relay.start();
  return { delivery, relay, announceCommit };
}
