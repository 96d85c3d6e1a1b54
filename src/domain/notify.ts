// Notifications beyond the open tab (PROTOCOL-PUSH.md): where a user's events go besides their
// sockets, which events each target takes, how targets are shown, and when a failed attempt is
// tried again. The sending itself is src/notify; the rows are src/store/notify.

const SWAP_EVENTS = [
  'swap.proposed',
  'swap.countered',
  'swap.accepted',
  'swap.rejected',
  'swap.withdrawn',
  'swap.expired',
  'swap.voided',
] as const;
const TRADE_EVENTS = ['trade.curtailed', 'trade.settled'] as const;

/** The events addressed to a user, every one of which a webhook may take. */
export const PERSONAL_EVENT_TYPES = [
  'listing.created',
  'listing.updated',
  'listing.closed',
  'listing.matched',
  ...SWAP_EVENTS,
  ...TRADE_EVENTS,
  'webhook.disabled',
] as const;
export type PersonalEventType = (typeof PERSONAL_EVENT_TYPES)[number];

/** A Web Push subscription's events unless it names them: a swap's life and a trade's. */
export const PUSH_DEFAULT_EVENTS: readonly PersonalEventType[] = [...SWAP_EVENTS, ...TRADE_EVENTS];

/** Most webhooks and push subscriptions one user may have (each is work on every event of theirs). */
export const MAX_WEBHOOKS_PER_USER = 10;
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;

export type TargetKind = 'webhook' | 'push';

/** A webhook or push subscription, as the dispatcher and the API know it. */
export interface NotifyTarget {
  id: string;
  kind: TargetKind;
  userId: string;
  events: string[];
  status: 'active' | 'disabled';
  url: string | null;
  description: string | null;
  secret: string | null;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  endpoint: string | null;
  p256dh: string | null;
  auth: string | null;
  whileOnline: boolean | null;
  /** every event of the user up to this id had its first attempt */
  cursor: bigint;
  cursorVersion: number;
  failingSince: Date | null;
  createdAt: Date;
}

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string;
  status: 'active' | 'disabled';
  createdAt: string;
}

/** A webhook as its owner sees it after creation: never its secret. */
export const webhookView = (t: NotifyTarget): WebhookView => ({
  id: t.id,
  url: t.url ?? '',
  events: t.events,
  description: t.description ?? '',
  status: t.status,
  createdAt: t.createdAt.toISOString(),
});

export interface PushSubscriptionView {
  id: string;
  endpoint: string;
  events: string[];
  whileOnline: boolean;
  createdAt: string;
}

export const pushSubscriptionView = (t: NotifyTarget): PushSubscriptionView => ({
  id: t.id,
  endpoint: t.endpoint ?? '',
  events: t.events,
  whileOnline: t.whileOnline ?? false,
  createdAt: t.createdAt.toISOString(),
});

/** The contract's webhook retry schedule after the first attempt: about 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h. */
export const WEBHOOK_RETRY_SCHEDULE_MS = [
  5_000, 60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000,
];

/**
 * The delay before attempt `attempt + 1` after attempt `attempt` failed (attempts count from 1),
 * or undefined when the schedule is spent (the delivery has failed). Jittered by up to a fifth
 * either way (`random` in [0, 1)), so the retries of many deliveries that failed together (a
 * receiver down) do not come back together.
 */
export function retryDelayMs(
  schedule: readonly number[],
  attempt: number,
  random: number,
): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.8 + 0.4 * random));
}
