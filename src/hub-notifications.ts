// The hub's notifications, started by src/hub.ts: webhooks and Web Push on this node.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { WEBHOOK_RETRY_SCHEDULE_MS } from './domain/notify.js';
import { userRoom } from './gateway/auth.js';
import type { LiveDelivery } from './gateway/live.js';
import type { HubServer } from './gateway/server.js';
import { Dispatcher } from './notify/dispatcher.js';
import { pushChannel } from './notify/push-channel.js';
import { createSender } from './notify/send-thread.js';
import { resolveVapidKeys, type VapidKeys } from './notify/web-push.js';
import { webhookChannel } from './notify/webhook-channel.js';
import type { CommandRunner } from './store/commands/command-runner.js';
import type { Database } from './store/db/database.js';
import { disableWebhook } from './store/notify/disable-webhook.js';
import { createDispatchStore } from './store/notify/dispatch-store.js';

/**
 * Webhooks and Web Push (PROTOCOL-PUSH.md): the VAPID keys, and this node's dispatcher, which the
 * node's event stream nudges and which sends to the targets it leases (src/notify/dispatcher.ts).
 */
export async function startNotifications(
  config: Config,
  log: Logger,
  db: Database,
  gateway: HubServer,
  live: LiveDelivery,
  runner: CommandRunner,
): Promise<{ dispatcher: Dispatcher; vapid: VapidKeys; stop(): Promise<void> }> {
  const vapid = await resolveVapidKeys(
    {
      publicKey: config.VAPID_PUBLIC_KEY,
      privateKey: config.VAPID_PRIVATE_KEY,
      subject: config.VAPID_SUBJECT,
      dataDir: config.DATA_DIR,
    },
    log,
  );
  const sender = createSender(config.NOTIFY_SEND_THREAD, config.NOTIFY_SEND_NICE, log);
  const dispatcher = new Dispatcher({
    sql: db.notifySql,
    store: createDispatchStore(db.notifySql),
    node: `${os.hostname()}:${process.pid}:${randomUUID()}`,
    log,
    concurrency: config.NOTIFY_CONCURRENCY,
    pollMs: config.NOTIFY_POLL_MS,
    sendTimeoutMs: Math.max(config.WEBHOOK_TIMEOUT_MS, config.PUSH_TIMEOUT_MS),
    leaseMs: 3 * Math.max(config.WEBHOOK_TIMEOUT_MS, config.PUSH_TIMEOUT_MS),
    senderReady: () => sender.ready(),
    channels: {
      webhook: webhookChannel({
        allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        retrySchedule: config.WEBHOOK_RETRY_SCHEDULE_MS ?? WEBHOOK_RETRY_SCHEDULE_MS,
        disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
        post: sender.post,
      }),
      push: pushChannel({
        vapid,
        allowHttp: config.PUSH_ALLOW_HTTP,
        timeoutMs: config.PUSH_TIMEOUT_MS,
        isOnline: onlineCheck(gateway),
        post: sender.post,
      }),
    },
    onDisable: (target, token, cutoff) =>
      runner.transaction((tx) => disableWebhook(tx, target, token, cutoff)),
  });
  live.onEvents((events) => dispatcher.nudge(events));
  dispatcher.start();
  return {
    dispatcher,
    vapid,
    async stop() {
      await dispatcher.stop(); // its sends end first, then their thread
      await sender.close();
    },
  };
}

/**
 * Whether a user has a socket on any node (the adapter asks every node), remembered for a second:
 * a burst of pushes to one user's devices asks once.
 */
function onlineCheck(gateway: HubServer): (userId: string) => Promise<boolean> {
  const recent = new Map<string, { at: number; online: Promise<boolean> }>();
  return (userId) => {
    const now = Date.now();
    const hit = recent.get(userId);
    if (hit && now - hit.at < 1000) return hit.online;
    if (recent.size > 10_000) recent.clear();
    const online = gateway
      .in(userRoom(userId))
      .fetchSockets()
      .then((s) => s.length > 0);
    recent.set(userId, { at: now, online });
    return online;
  };
}
