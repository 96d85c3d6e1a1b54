import { createHmac } from 'node:crypto';
import { type StoredEvent, toEnvelope } from '../domain/events.js';
import type { NotifyTarget } from '../domain/notify.js';
import type { Channel, SendOutcome } from './attempts.js';
import { OutboundError } from './outbound-http.js';
import type { Post } from './send-thread.js';

export interface WebhookChannelOptions {
  /** WEBHOOK_ALLOW_PRIVATE: http: and any address (tests, private deployments) */
  allowPrivate: boolean;
  /** a 2xx within this long is a delivery; @default 10000 */
  timeoutMs: number;
  retrySchedule: readonly number[];
  disableAfterMs: number;
  /** sends the request (the sender's thread, src/notify/send-thread.ts) */
  post: Post;
}

/** A Standard Webhooks secret's key: the bytes of its base64 after `whsec_`. */
const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');

/**
 * The `webhook-signature` header (Standard Webhooks): `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
 * with the secret, and with the one it replaced while that still signs, separated by a space.
 * node:crypto's HMAC (the `standardwebhooks` package signs in JavaScript, several times slower);
 * the tests verify every delivery with the package.
 */
export function signatures(
  target: Pick<NotifyTarget, 'secret' | 'previousSecret' | 'previousSecretUntil'>,
  id: string,
  at: Date,
  body: string,
): string {
  const secrets = [target.secret!];
  if (target.previousSecret && target.previousSecretUntil && target.previousSecretUntil > at) {
    secrets.push(target.previousSecret);
  }
  const signed = `${id}.${Math.floor(at.getTime() / 1000)}.${body}`;
  return secrets.map((s) => `v1,${createHmac('sha256', keyOf(s)).update(signed).digest('base64')}`).join(' ');
}

/** A status's outcome: 2xx delivered; anything else tried again (the contract retries every failure). */
const outcomeOf = (status: number, body: string): SendOutcome =>
  status >= 200 && status < 300
    ? { kind: 'delivered', status }
    : { kind: 'retry', status, error: `answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}` };

/** Webhooks (PROTOCOL-PUSH.md, "Webhooks"): the event envelope, signed, POSTed to the endpoint's URL. */
export function webhookChannel(o: WebhookChannelOptions): Channel {
  return {
    retrySchedule: o.retrySchedule,
    disableAfterMs: o.disableAfterMs,
    async send(target: NotifyTarget, event: StoredEvent): Promise<SendOutcome> {
      const body = JSON.stringify(toEnvelope(event));
      const id = event.id.toString();
      const at = new Date();
      try {
        const res = await o.post(target.url!, {
          allowPrivate: o.allowPrivate,
          timeoutMs: o.timeoutMs,
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'RenEx-Hub-Webhooks/1',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signatures(target, id, at, body),
          },
          maxResponseBytes: 1024,
        });
        return outcomeOf(res.status, res.body);
      } catch (err) {
        if (!(err instanceof OutboundError)) throw err;
        // a refused address is not final: a name may resolve elsewhere later (and the 3-day rule ends it)
        return { kind: 'retry', error: `${err.code}: ${err.message}` };
      }
    },
  };
}
