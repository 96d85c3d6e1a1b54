import type { Logger } from 'pino';
import type { RedisClient } from '../redis.js';

/** The part of an ioredis client that `createShardedAdapter` uses to subscribe. */
export interface AdapterSubscriber {
  on(event: 'smessageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  ssubscribe(channel: string): void;
  sunsubscribe(channel: string | string[]): void;
}

/**
 * The Socket.IO adapter's subscriber on a Redis Cluster: ioredis' cluster client with a subscriber
 * per master (`shardedSubscribers`). The adapter calls `ssubscribe` and `sunsubscribe` without
 * waiting for them, so a refusal would be an unhandled rejection, which stops the node; and while
 * a master fails over, the client may refuse a subscription without remembering it (no subscriber
 * for the slot yet). Here a refused subscription is tried again, with backoff, until it holds or the
 * adapter drops the channel; a refused unsubscription is ignored (the channel's messages then find
 * no handler). Subscriptions that did hold are moved to the new master by the client itself.
 */
export function adapterSubscriber(sub: RedisClient, log: Logger): AdapterSubscriber {
  const wanted = new Set<string>();
  const subscribe = (channel: string, attempt: number) => {
    if (!wanted.has(channel)) return;
    let done: Promise<unknown>;
    try {
      done = sub.ssubscribe(channel);
    } catch (err) {
      done = Promise.reject(err); // the client found no shard for the slot
    }
    done.catch((err) => {
      if (!wanted.has(channel)) return;
      if (attempt === 3) log.warn({ err, channel }, 'Redis Cluster refuses a subscription; still trying');
      setTimeout(() => subscribe(channel, attempt + 1), Math.min(100 * 2 ** attempt, 2_000)).unref();
    });
  };
  return {
    on: (event, listener) => sub.on(event, listener),
    ssubscribe(channel) {
      wanted.add(channel);
      subscribe(channel, 0);
    },
    sunsubscribe(channels) {
      for (const c of Array.isArray(channels) ? channels : [channels]) {
        wanted.delete(c);
        try {
          sub.sunsubscribe(c).catch(() => {});
        } catch {
          // nothing to undo: the adapter has dropped its handler
        }
      }
    },
  };
}
