// Web Push (PROTOCOL-PUSH.md): the hub's VAPID identity, one push sent and its answer classified,
// and the short text a push carries for an event. Transport-free apart from the poster it is given,
// so the SSRF-checked outbound client and a test's loopback poster both drive the same code.
import { createECDH, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import webpush from 'web-push';
import type { EventEnvelope } from '../domain/events.js';
import { reason, StartupError } from '../store/db/database.js';

/** The hub's VAPID identity (RFC 8292), keys base64url as web-push uses them. */
export interface VapidKeys {
  /** the uncompressed P-256 point (65 bytes): browsers subscribe with it as `applicationServerKey` */
  publicKey: string;
  /** the P-256 private scalar (32 bytes) */
  privateKey: string;
  /** a `mailto:` or `https:` URL where push services can reach the operator */
  subject: string;
}

/** @default subject of the VAPID tokens when VAPID_SUBJECT is unset */
export const DEFAULT_VAPID_SUBJECT = 'mailto:operator@localhost';

/** The file under DATA_DIR that keeps generated VAPID keys. */
export const VAPID_KEYS_FILE = 'vapid-keys.json';

/**
 * The VAPID keys: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (both or neither), else a pair generated
 * once and kept in DATA_DIR/vapid-keys.json. They must outlive restarts: a browser's subscription is
 * bound to the key it subscribed with, so new keys silently orphan every subscription.
 */
export async function resolveVapidKeys(
  opts: { publicKey?: string; privateKey?: string; subject?: string; dataDir: string },
  log: Logger,
): Promise<VapidKeys> {
  const subject = opts.subject || DEFAULT_VAPID_SUBJECT;
  checkSubject(subject);
  if (opts.publicKey || opts.privateKey) {
    if (!opts.publicKey || !opts.privateKey) {
      throw new StartupError(
        'set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither to have them generated',
      );
    }
    const problem = keyPairProblem(opts.publicKey, opts.privateKey);
    if (problem) throw new StartupError(`VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY: ${problem}`);
    return { publicKey: opts.publicKey, privateKey: opts.privateKey, subject };
  }
  const file = path.resolve(opts.dataDir, VAPID_KEYS_FILE);
  try {
    return { ...(await readKeysFile(file, log)), subject };
  } catch (err) {
    if (err instanceof StartupError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StartupError(`cannot read ${file}: ${reason(err)}`);
    }
  }
  const keys = webpush.generateVAPIDKeys();
  // written whole under a name of its own, then linked into place: nodes starting together never
  // read a half-written file, and the first link wins, so every node signs with the same pair
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const text = `${JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey })}\n`;
    await writeFile(tmp, text, { flag: 'wx', mode: 0o600 });
    await chmod(tmp, 0o600); // the umask filters writeFile's mode: the owner must still read it
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return { ...(await readKeysFile(file, log)), subject };
    throw new StartupError(`cannot write DATA_DIR ${path.resolve(opts.dataDir)}: ${reason(err)}`);
  } finally {
    await rm(tmp, { force: true });
  }
  log.info({ file }, 'generated the VAPID keys of Web Push and kept them in DATA_DIR');
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject };
}

function checkSubject(subject: string): void {
  let url: URL | undefined;
  try {
    url = new URL(subject);
  } catch {}
  if (!url || (url.protocol !== 'mailto:' && url.protocol !== 'https:')) {
    throw new StartupError(`VAPID_SUBJECT must be a mailto: or https: URL, got ${JSON.stringify(subject)}`);
  }
}

async function readKeysFile(file: string, log: Logger): Promise<{ publicKey: string; privateKey: string }> {
  const text = await readFile(file, 'utf8');
  let keys: { publicKey?: unknown; privateKey?: unknown } | undefined;
  try {
    keys = JSON.parse(text) as typeof keys;
  } catch {}
  const { publicKey, privateKey } = keys ?? {};
  const problem =
    typeof publicKey === 'string' && typeof privateKey === 'string'
      ? keyPairProblem(publicKey, privateKey)
      : 'it is not {publicKey, privateKey}';
  if (problem) {
    throw new StartupError(
      `${file} holds no usable VAPID keys (${problem}): delete it to have keys generated (browsers must then subscribe again), or set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY`,
    );
  }
  const { mode } = await stat(file);
  if (mode & 0o077) {
    log.warn(
      { file, mode: `0${(mode & 0o777).toString(8)}` },
      'the VAPID key file can be read by other users: chmod 600 it (whoever reads it can push as this hub)',
    );
  }
  return { publicKey: publicKey as string, privateKey: privateKey as string };
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Why two base64url strings are not a P-256 key pair, or null when they are one. */
function keyPairProblem(publicKey: string, privateKey: string): string | null {
  if (!BASE64URL.test(publicKey) || !BASE64URL.test(privateKey))
    return 'keys must be base64url without padding';
  const pub = Buffer.from(publicKey, 'base64url');
  const priv = Buffer.from(privateKey, 'base64url');
  if (pub.length !== 65 || pub[0] !== 4)
    return 'the public key must be an uncompressed P-256 point (65 bytes)';
  if (priv.length !== 32) return 'the private key must be 32 bytes';
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(priv);
  } catch {
    return 'the private key is not a P-256 key';
  }
  return ecdh.getPublicKey().equals(pub) ? null : 'the public key does not belong to the private key';
}

/** A browser's PushSubscription as the hub stores it (`keys` base64url). */
export interface PushSubscriptionKeys {
  endpoint: string;
  /** the browser's P-256 ECDH public key */
  p256dh: string;
  /** the 16-byte authentication secret */
  auth: string;
}

/** One push: the JSON payload and the RFC 8030 delivery headers. */
export interface PushMessage {
  payload: { eventId: string; type: string; title: string; body: string; url: string };
  /** how long the push service keeps it for an offline browser */
  ttlSeconds: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** a newer push with the same topic replaces an undelivered older one (at most 32 base64url characters) */
  topic?: string;
}

/**
 * What came of one attempt. `gone`: the subscription no longer exists and must be removed;
 * `retry`: try again later (after `retryAfterMs` when the service said so; the caller bounds it);
 * `failed`: the request itself is wrong and would fail again.
 */
export type PushOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone'; status: 404 | 410 }
  | { kind: 'retry'; status?: number; error?: string; retryAfterMs?: number }
  | { kind: 'failed'; status?: number; error: string };

/**
 * Sends one HTTP request and returns the answer; `postOutbound` of src/notify/outbound-http.ts in
 * the hub. It throws an error whose `code` is 'refused_url' or 'refused_address' for an endpoint it
 * will not reach, 'timeout' or 'network' when the exchange failed.
 */
export type Poster = (
  url: string,
  opts: { allowPrivate: boolean; timeoutMs: number; headers: Record<string, string>; body: string | Buffer },
) => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;

/** The longest part of a push service's answer kept in an outcome's error. */
const ERROR_BODY_CHARS = 200;

/**
 * Encrypts the payload (aes128gcm, RFC 8291) and signs a VAPID token (RFC 8292) with web-push's
 * generateRequestDetails, POSTs it through `post`, and classifies the answer: 2xx delivered,
 * 404/410 gone, 429 and 5xx retry (honouring Retry-After), a network error or timeout retry, an
 * endpoint the poster refuses and every other answer failed.
 */
export async function sendPush(
  sub: PushSubscriptionKeys,
  msg: PushMessage,
  vapid: VapidKeys,
  post: Poster,
  opts: { allowPrivate: boolean; timeoutMs: number },
): Promise<PushOutcome> {
  let details: ReturnType<typeof webpush.generateRequestDetails>;
  try {
    details = webpush.generateRequestDetails(
      { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      JSON.stringify(msg.payload),
      {
        vapidDetails: vapid,
        TTL: msg.ttlSeconds,
        urgency: msg.urgency,
        ...(msg.topic ? { topic: msg.topic } : {}),
      },
    );
  } catch (err) {
    // a malformed subscription key or topic: the same request would fail again
    return { kind: 'failed', error: `cannot build the push: ${(err as Error).message}` };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(details.headers)) headers[name] = String(value);
  let res: Awaited<ReturnType<Poster>>;
  try {
    res = await post(details.endpoint, { ...opts, headers, body: details.body ?? '' });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const error = (err as Error).message || String(err);
    if (code === 'refused_url' || code === 'refused_address') return { kind: 'failed', error };
    return { kind: 'retry', error };
  }
  const { status } = res;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 404 || status === 410) return { kind: 'gone', status };
  const error = `the push service answered ${status}${res.body ? `: ${res.body.slice(0, ERROR_BODY_CHARS)}` : ''}`;
  if (status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(res.headers, Date.now());
    return retryAfterMs === undefined
      ? { kind: 'retry', status, error }
      : { kind: 'retry', status, error, retryAfterMs };
  }
  return { kind: 'failed', status, error };
}

/** Retry-After in milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
function retryAfter(headers: Record<string, string | string[] | undefined>, now: number): number | undefined {
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  const value = (Array.isArray(entry) ? entry[0] : entry)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The RFC 8030 Topic for a swap: its id's 32 hex digits (uuid without dashes). */
export const swapTopic = (swapId: string): string => swapId.replaceAll('-', '').toLowerCase();

/** TTL of a push about something without a deadline. */
export const DEFAULT_PUSH_TTL_SECONDS = 24 * 60 * 60;
/** Shortest TTL: a push about an offer expiring within seconds is still worth a try. */
export const MIN_PUSH_TTL_SECONDS = 60;
/** The longest name shown: a push's title is a line on a lock screen. */
const NAME_CHARS = 40;

const VOID_REASONS: Record<string, string> = {
  listing_filled: 'the listing was filled',
  listing_cancelled: 'the listing was cancelled',
  listing_expired: 'the listing expired',
  insufficient_volume: 'the listing has too little volume left',
  listing_amended: 'the listing was amended',
};

/**
 * The push for an event addressed to `recipientId`, or null for an event type that is not pushed.
 * `data` is the swap view (swap.*) or the trade from the recipient's side (trade.*); quantities are
 * the view's decimal strings, shown as they are. TTL runs to an open offer's deadline; urgency is
 * high for an offer awaiting the recipient.
 */
export function pushMessageFor(event: EventEnvelope, recipientId: string, now: Date): PushMessage | null {
  const d = (event.data ?? {}) as Record<string, unknown>;
  const text = (key: string): string | undefined =>
    typeof d[key] === 'string' ? (d[key] as string) : undefined;
  const swapId = event.type.startsWith('trade.') ? text('swapId') : text('id');
  if (!swapId) return null;
  const content = event.type.startsWith('trade.')
    ? tradeText(event.type, d, text)
    : swapText(event.type, d, text, recipientId);
  if (!content) return null;
  const expiresAt = text('expiresAt');
  const deadline = text('status') === 'open' && expiresAt ? Date.parse(expiresAt) : Number.NaN;
  const ttlSeconds = Number.isNaN(deadline)
    ? DEFAULT_PUSH_TTL_SECONDS
    : Math.max(MIN_PUSH_TTL_SECONDS, Math.ceil((deadline - now.getTime()) / 1000));
  return {
    payload: { eventId: event.id, type: event.type, ...content, url: `/?swap=${encodeURIComponent(swapId)}` },
    ttlSeconds,
    urgency: d.nextActorId === recipientId ? 'high' : 'normal',
    topic: swapTopic(swapId),
  };
}

const short = (name: string | undefined): string =>
  !name ? 'the other party' : name.length > NAME_CHARS ? `${name.slice(0, NAME_CHARS - 1)}…` : name;

function swapText(
  type: string,
  d: Record<string, unknown>,
  text: (key: string) => string | undefined,
  me: string,
): { title: string; body: string } | null {
  const iAmInitiator = d.initiatorId === me;
  const other = short(iAmInitiator ? text('recipientName') : text('initiatorName'));
  const verb = d.buyerId === me ? 'Buy' : d.sellerId === me ? 'Sell' : 'Trade';
  const terms = `${verb} ${text('volumeKwh') ?? '?'} kWh at ${text('pricePerKwh') ?? '?'}/kWh`;
  const myTurn = d.nextActorId === me;
  switch (type) {
    case 'swap.proposed':
      return iAmInitiator
        ? { title: `Offer sent to ${other}`, body: terms }
        : { title: `New offer from ${other}`, body: `${terms}. Your turn.` };
    case 'swap.countered':
      return myTurn
        ? { title: `Counter-offer from ${other}`, body: `${terms}. Your turn.` }
        : { title: `Counter-offer sent to ${other}`, body: terms };
    case 'swap.accepted': {
      const notional = text('notional');
      return { title: `Trade agreed with ${other}`, body: notional ? `${terms}, total ${notional}` : terms };
    }
    case 'swap.rejected':
      return { title: `Offer rejected: ${other}`, body: terms };
    case 'swap.withdrawn':
      return { title: `Offer withdrawn: ${other}`, body: terms };
    case 'swap.expired':
      return { title: `Offer expired: ${other}`, body: terms };
    case 'swap.voided': {
      const why = VOID_REASONS[text('reason') ?? ''];
      return { title: `Offer void: ${other}`, body: why ? `${terms}: ${why}` : terms };
    }
    default:
      return null;
  }
}

function tradeText(
  type: string,
  d: Record<string, unknown>,
  text: (key: string) => string | undefined,
): { title: string; body: string } | null {
  const buying = text('side') === 'buy';
  const volume = text('volumeKwh') ?? '?';
  const terms = `${buying ? 'Bought' : 'Sold'} ${volume} kWh ${buying ? 'from' : 'to'} ${short(text('counterpartyName'))}`;
  switch (type) {
    case 'trade.curtailed':
      return { title: 'Trade curtailed', body: `${terms}: the grid operator cut part of the delivery` };
    case 'trade.settled': {
      // the money settled so far, from the recipient's side
      const s = (d.settlement ?? {}) as Record<string, unknown>;
      const amount = buying ? s.buyerPays : s.sellerReceives;
      const currency = text('currency') ?? '';
      const money =
        typeof amount === 'string'
          ? `; you ${buying ? 'pay' : 'receive'} ${amount} ${currency}`.trimEnd()
          : '';
      return { title: 'Trade settled', body: `${terms}${money}` };
    }
    default:
      return null;
  }
}
