import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HubError } from '../domain/errors.js';
import {
  MAX_PUSH_SUBSCRIPTIONS_PER_USER,
  MAX_WEBHOOKS_PER_USER,
  PERSONAL_EVENT_TYPES,
  PUSH_DEFAULT_EVENTS,
  pushSubscriptionView,
  webhookView,
} from '../domain/notify.js';
import { eventIdInput, freeTextInput, storableString } from '../domain/schemas.js';
import { validationFailed } from '../domain/validation.js';
import { checkOutboundUrl } from '../notify/outbound-http.js';
import type { TargetStore } from '../store/notify/target-store.js';
import { cursorParam, decodeCursor, encodeCursor, errors, idParams, queryInt } from './schemas.js';

export interface NotifyRouteDeps {
  targets: TargetStore;
  /** the VAPID application server key (base64url) */
  vapidPublicKey: string;
  /** WEBHOOK_ALLOW_PRIVATE: http: and private addresses for webhooks */
  webhookAllowPrivate: boolean;
  /** PUSH_ALLOW_HTTP: http: (and loopback) push endpoints, for tests */
  pushAllowHttp: boolean;
  /** how long a rotated webhook secret keeps signing beside the new one */
  secretOverlapMs: number;
  /** tells this node's dispatcher that a user has a new target (other nodes learn it at their next poll) */
  learn(userId: string): void;
}

/** The longest webhook URL or push endpoint, as stored (normalised). */
const MAX_URL = 2000;

const eventList = z
  .array(z.enum(PERSONAL_EVENT_TYPES))
  .min(1)
  .max(PERSONAL_EVENT_TYPES.length)
  .refine((l) => new Set(l).size === l.length, 'must not repeat an event type');

const webhookInput = z.strictObject({
  url: storableString.max(MAX_URL),
  events: eventList.optional().describe('default: every event addressed to you'),
  description: freeTextInput('line', { min: 0, max: 200, raw: 800 }).optional(),
});

const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string(),
    status: z.enum(['active', 'disabled']),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

const newWebhookSchema = webhookSchema
  .extend({ secret: z.string().meta({ description: 'shown only here and by rotate-secret' }) })
  .meta({ id: 'NewWebhook' });

const attemptSchema = z
  .object({
    eventId: z.string(),
    type: z.string(),
    attempt: z.number().int(),
    status: z.enum(['delivered', 'retrying', 'failed']),
    responseStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    at: z.iso.datetime(),
    nextAttemptAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

/** base64url of exactly `bytes` bytes (a push subscription's keys). */
const base64urlBytes = (bytes: number, what: string) =>
  z
    .string()
    .max(200)
    .refine((s) => /^[A-Za-z0-9_-]+={0,2}$/.test(s) && Buffer.from(s, 'base64url').length === bytes, {
      message: `must be the base64url of ${what}`,
    });

const pushInput = z.strictObject({
  endpoint: storableString.max(MAX_URL),
  keys: z.strictObject({
    p256dh: base64urlBytes(65, 'an uncompressed P-256 public key (65 bytes)').refine(
      (s) => Buffer.from(s, 'base64url')[0] === 4,
      'must be an uncompressed P-256 point',
    ),
    auth: base64urlBytes(16, 'a 16-byte authentication secret'),
  }),
  events: eventList.optional().describe('default: the swap events, trade.curtailed and trade.settled'),
  whileOnline: z.boolean().optional(),
});

const pushSchema = z
  .object({
    id: z.uuid(),
    endpoint: z.string(),
    events: z.array(z.string()),
    whileOnline: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'PushSubscription' });

/** `whsec_` and 32 random bytes in base64: the Standard Webhooks secret format. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The URL as it will be requested (normalised, as it was checked), or VALIDATION_FAILED at `path`.
 * Normalising percent-encodes what is not ASCII (up to 9 characters for one), so the limit is
 * checked again on what is stored.
 */
async function checkUrl(url: string, allowPrivate: boolean, path: string, owner: string): Promise<string> {
  const problem = await checkOutboundUrl(url, { allowPrivate, owner });
  if (problem) throw validationFailed([{ path, message: problem }]);
  const href = new URL(url).href;
  if (href.length > MAX_URL)
    throw validationFailed([{ path, message: `must be at most ${MAX_URL} characters once percent-encoded` }]);
  return href;
}

const limitReached = (what: string, max: number) =>
  new HubError('CONFLICT', `You have ${max} ${what} already; delete one first`, { max });

/**
 * /api/v1/webhooks and /api/v1/push (PROTOCOL-PUSH.md): a trader's webhooks and Web Push
 * subscriptions. Each is its owner's alone: another's is NOT_FOUND. The sending is src/notify.
 */
export const notifyRoutes: FastifyPluginAsyncZod<NotifyRouteDeps> = async (app, deps) => {
  const { targets } = deps;
  const ownWebhook = async (userId: string, id: string) => {
    const t = await targets.get(userId, 'webhook', id);
    if (!t) throw new HubError('NOT_FOUND', 'No such webhook');
    return t;
  };

  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Register a webhook',
        description:
          'The URL must be https: and resolve to public addresses only (unless WEBHOOK_ALLOW_PRIVATE). ' +
          `At most ${MAX_WEBHOOKS_PER_USER} per trader: CONFLICT beyond.`,
        security: [{ bearer: [] }],
        body: webhookInput,
        response: { 201: newWebhookSchema, ...errors(400, 401, 409, 429, 503) },
      },
    },
    async (req, reply) => {
      const { events, description } = req.body;
      const url = await checkUrl(req.body.url, deps.webhookAllowPrivate, 'url', req.userId);
      const secret = newSecret();
      const created = await targets.createWebhook({
        id: randomUUID(),
        userId: req.userId,
        url,
        events: events ?? [...PERSONAL_EVENT_TYPES],
        description: description ?? '',
        secret,
        now: new Date(),
        max: MAX_WEBHOOKS_PER_USER,
      });
      if (created === 'limit') throw limitReached('webhooks', MAX_WEBHOOKS_PER_USER);
      deps.learn(req.userId);
      return reply.status(201).send({ ...webhookView(created), secret });
    },
  );

  app.get(
    '/webhooks',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Your webhooks, without their secrets',
        security: [{ bearer: [] }],
        response: { 200: z.object({ items: z.array(webhookSchema) }), ...errors(401, 503) },
      },
    },
    async (req) => ({ items: (await targets.list(req.userId, 'webhook')).map(webhookView) }),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Delete one of your webhooks (its delivery log with it)',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 204: z.null(), ...errors(400, 401, 404, 503) },
      },
    },
    async (req, reply) => {
      if (!(await targets.remove(req.userId, 'webhook', req.params.id)))
        throw new HubError('NOT_FOUND', 'No such webhook');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      schema: {
        tags: ['notifications'],
        summary: 'A new signing secret; the old one keeps signing beside it for 24 hours',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: z.object({ secret: z.string() }), ...errors(400, 401, 404, 503) },
      },
    },
    async (req) => {
      const secret = newSecret();
      const now = new Date();
      const t = await targets.rotateSecret(
        req.userId,
        req.params.id,
        secret,
        now,
        new Date(now.getTime() + deps.secretOverlapMs),
      );
      if (!t) throw new HubError('NOT_FOUND', 'No such webhook');
      return { secret };
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['notifications'],
        summary: "A webhook's delivery log: one item per attempt, newest first",
        security: [{ bearer: [] }],
        params: idParams,
        querystring: z.strictObject({ limit: queryInt(1, 100, 50), cursor: cursorParam.optional() }),
        response: {
          200: z.object({ items: z.array(attemptSchema), nextCursor: z.string().nullable() }),
          ...errors(400, 401, 404, 503),
        },
      },
    },
    async (req) => {
      const t = await ownWebhook(req.userId, req.params.id);
      let before: bigint | undefined;
      if (req.query.cursor !== undefined) {
        const c = decodeCursor(req.query.cursor, z.tuple([eventIdInput]));
        if (!c) throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API gave' }]);
        before = BigInt(c[0]);
      }
      const { items, more } = await targets.attempts(t.id, req.query.limit, before);
      const last = items.at(-1);
      return {
        items: items.map((a) => ({
          eventId: a.eventId.toString(),
          type: a.type,
          attempt: a.attempt,
          status: a.status,
          responseStatus: a.responseStatus,
          error: a.error,
          at: a.at.toISOString(),
          nextAttemptAt: a.nextAttemptAt?.toISOString() ?? null,
        })),
        nextCursor: more && last ? encodeCursor([last.id.toString()]) : null,
      };
    },
  );

  app.post(
    '/webhooks/:id/replay',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send your events after an event id again to this webhook',
        description:
          'A disabled webhook is active again. Receivers deduplicate on webhook-id (the event id).',
        security: [{ bearer: [] }],
        params: idParams,
        body: z.strictObject({ after: eventIdInput }),
        response: { 202: z.object({}), ...errors(400, 401, 404, 503) },
      },
    },
    async (req, reply) => {
      if (!(await targets.replay(req.userId, req.params.id, BigInt(req.body.after), new Date()))) {
        throw new HubError('NOT_FOUND', 'No such webhook');
      }
      return reply.status(202).send({});
    },
  );

  app.get(
    '/push/key',
    {
      schema: {
        tags: ['notifications'],
        summary: 'The VAPID application server key (base64url), for PushManager.subscribe',
        security: [{ bearer: [] }],
        response: { 200: z.object({ publicKey: z.string() }), ...errors(401) },
      },
    },
    async () => ({ publicKey: deps.vapidPublicKey }),
  );

  app.post(
    '/push/subscriptions',
    {
      schema: {
        tags: ['notifications'],
        summary: "Subscribe a browser's push endpoint; the same endpoint again updates it",
        description:
          'The endpoint must be https: (unless PUSH_ALLOW_HTTP) on a public address. ' +
          `At most ${MAX_PUSH_SUBSCRIPTIONS_PER_USER} per trader: CONFLICT beyond.`,
        security: [{ bearer: [] }],
        body: pushInput,
        response: { 201: pushSchema, ...errors(400, 401, 409, 429, 503) },
      },
    },
    async (req, reply) => {
      const { keys, events, whileOnline } = req.body;
      const endpoint = await checkUrl(req.body.endpoint, deps.pushAllowHttp, 'endpoint', req.userId);
      const saved = await targets.upsertPush({
        id: randomUUID(),
        userId: req.userId,
        endpoint,
        p256dh: keys.p256dh,
        auth: keys.auth,
        events: events ?? [...PUSH_DEFAULT_EVENTS],
        whileOnline: whileOnline ?? false,
        now: new Date(),
        max: MAX_PUSH_SUBSCRIPTIONS_PER_USER,
      });
      if (saved === 'limit') throw limitReached('push subscriptions', MAX_PUSH_SUBSCRIPTIONS_PER_USER);
      deps.learn(req.userId);
      return reply.status(201).send(pushSubscriptionView(saved.target));
    },
  );

  app.get(
    '/push/subscriptions',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Your push subscriptions',
        security: [{ bearer: [] }],
        response: { 200: z.object({ items: z.array(pushSchema) }), ...errors(401, 503) },
      },
    },
    async (req) => ({ items: (await targets.list(req.userId, 'push')).map(pushSubscriptionView) }),
  );

  app.delete(
    '/push/subscriptions/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Unsubscribe one of your push endpoints',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 204: z.null(), ...errors(400, 401, 404, 503) },
      },
    },
    async (req, reply) => {
      if (!(await targets.remove(req.userId, 'push', req.params.id)))
        throw new HubError('NOT_FOUND', 'No such push subscription');
      return reply.status(204).send(null);
    },
  );
};
