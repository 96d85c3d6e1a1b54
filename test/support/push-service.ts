// A push service (RFC 8030) on loopback for tests: it checks each push as a browser vendor's service
// does (VAPID token signed by the key it names, for this origin, not expired; aes128gcm; a TTL),
// then decrypts it (RFC 8291) with the subscriber's keys, as the browser would. A push that passes
// only because nothing checked it proves nothing.
import { createECDH, createPublicKey, type ECDH, randomBytes, randomUUID, verify } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Poster } from '../../src/notify/web-push.js';

// http_ece ships no types: the one call used, typed here
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer }): Buffer;
};

/** A subscription as a browser would hand it to the hub, plus what only the browser knows. */
export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** the browser's ECDH P-256 key: it decrypts the pushes */
  privateKey: ECDH;
}

/** A push the service accepted, decrypted. */
export interface ReceivedPush {
  endpoint: string;
  headers: IncomingHttpHeaders;
  payload: unknown;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  /** the claims of the VAPID token */
  vapid: { aud: string; exp: number; sub: string; k: string };
}

/** A push the service refused before any responder saw it, and why. */
export interface RejectedPush {
  endpoint: string;
  status: number;
  reason: string;
}

/** What a responder decides for a valid push; plain status numbers are allowed too. */
export type PushResponse = number | { status: number; headers?: Record<string, string>; body?: string };
export type Responder = (push: ReceivedPush) => PushResponse | Promise<PushResponse>;

export interface PushService {
  /** origin of the service, e.g. http://127.0.0.1:PORT */
  url: string;
  subscribe(): TestSubscription;
  /** valid pushes the service accepted (2xx), in order */
  received: ReceivedPush[];
  /** pushes refused by the checks (400/401/403/404/413) */
  rejected: RejectedPush[];
  /** resolves once `n` pushes were accepted (all of them), or one matching `predicate` (those matching) */
  waitFor(n: number | ((p: ReceivedPush) => boolean), timeoutMs?: number): Promise<ReceivedPush[]>;
  /** how to answer valid pushes from now on; no argument: 201 again */
  respondWith(response?: PushResponse | Responder): void;
  close(): Promise<void>;
}

/** RFC 8291 4: a push message is one record of at most 4096 bytes. */
const MAX_BODY = 4096;
/** RFC 8292 2: a token must not expire more than 24 h ahead; a minute's clock skew is allowed. */
const MAX_EXP_SECONDS = 24 * 60 * 60 + 60;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startPushService(): Promise<PushService> {
  const subscriptions = new Map<string, { ecdh: ECDH; auth: Buffer; endpoint: string }>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const waiters = new Set<() => void>();
  let responder: Responder = () => 201;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500).end(String(err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const endpoint = `${url}${req.url ?? ''}`;
    let push: ReceivedPush;
    try {
      push = check(req, body, endpoint);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      rejected.push({ endpoint, status: err.status, reason: err.message });
      res.writeHead(err.status, { 'content-type': 'text/plain' }).end(err.message);
      return;
    }
    const answer = await responder(push);
    const { status, headers, body: text } = typeof answer === 'number' ? { status: answer } : answer;
    if (status >= 200 && status < 300) {
      received.push(push);
      for (const wake of waiters) wake();
    }
    // RFC 8030 5: an accepted push is answered 201 with the message's URL
    const location = status === 201 ? { location: `/message/${randomUUID()}` } : {};
    res.writeHead(status, { ...location, ...headers }).end(text ?? '');
  }

  function check(req: IncomingMessage, body: Buffer, endpoint: string): ReceivedPush {
    if (req.method !== 'POST') throw new Refusal(405, 'POST a push');
    const sub = subscriptions.get(endpoint);
    if (!sub) throw new Refusal(404, 'no such subscription');
    const vapid = checkVapid(req.headers.authorization, url);
    if (req.headers['content-encoding'] !== 'aes128gcm')
      throw new Refusal(400, 'Content-Encoding must be aes128gcm');
    const ttlHeader = req.headers.ttl;
    if (ttlHeader === undefined || !/^\d+$/.test(ttlHeader.toString()))
      throw new Refusal(400, 'a TTL is required');
    const urgency = req.headers.urgency?.toString();
    if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency)) {
      throw new Refusal(400, `bad Urgency ${urgency}`);
    }
    const topic = req.headers.topic?.toString();
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic))
      throw new Refusal(400, `bad Topic ${topic}`);
    if (body.length > MAX_BODY) throw new Refusal(413, `a push is at most ${MAX_BODY} bytes`);
    let payload: unknown;
    try {
      const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth });
      payload = JSON.parse(plain.toString('utf8'));
    } catch (err) {
      throw new Refusal(400, `cannot decrypt the push: ${(err as Error).message}`);
    }
    return { endpoint, headers: req.headers, payload, ttl: Number(ttlHeader), urgency, topic, vapid };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    received,
    rejected,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${url}/push/${randomUUID()}`;
      subscriptions.set(endpoint, { ecdh, auth, endpoint });
      return {
        endpoint,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
        privateKey: ecdh,
      };
    },
    waitFor(n, timeoutMs = 5_000) {
      const done = (): ReceivedPush[] | undefined => {
        if (typeof n === 'number') return received.length >= n ? received.slice(0, n) : undefined;
        const hits = received.filter(n);
        return hits.length ? hits : undefined;
      };
      return new Promise((resolve, reject) => {
        const wake = () => {
          const hits = done();
          if (!hits) return;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(hits);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const why = rejected.map((r) => `${r.status} ${r.reason}`).join('; ') || 'none';
          reject(
            new Error(`no such push within ${timeoutMs} ms (accepted ${received.length}, refused: ${why})`),
          );
        }, timeoutMs);
        waiters.add(wake);
        wake();
      });
    },
    respondWith(response) {
      responder =
        response === undefined ? () => 201 : typeof response === 'function' ? response : () => response;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** Checks `Authorization: vapid t=<JWT>, k=<key>` as RFC 8292 3 asks; returns the claims. */
function checkVapid(header: string | undefined, origin: string): ReceivedPush['vapid'] {
  const m = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!m) throw new Refusal(401, 'Authorization: vapid t=..., k=... is required');
  const params = new Map(
    m[1]!.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
    }),
  );
  const token = params.get('t');
  const k = params.get('k');
  if (!token || !k) throw new Refusal(401, 'the vapid scheme needs t and k');
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Refusal(401, 'k is not an uncompressed P-256 point');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) throw new Refusal(401, 't is not a JWS compact token');
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (head.alg !== 'ES256') throw new Refusal(401, `the token must be ES256, not ${head.alg}`);
  const signed = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!signed) throw new Refusal(401, 'the token is not signed by k');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as {
    aud?: unknown;
    exp?: unknown;
    sub?: unknown;
  };
  if (claims.aud !== origin) throw new Refusal(403, `aud ${String(claims.aud)} is not ${origin}`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw new Refusal(401, 'the token has expired');
  if (claims.exp > now + MAX_EXP_SECONDS) throw new Refusal(401, 'exp is more than 24 h ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new Refusal(401, 'sub must be a mailto: or https: URL');
  }
  return { aud: claims.aud, exp: claims.exp, sub: claims.sub, k };
}

/**
 * A poster on node:http for tests: the push protocol under test, not the SSRF rules (that is
 * outbound-http's own suite). It keeps the Poster contract: errors carry `code` 'timeout' or
 * 'network', and a URL it will not fetch is 'refused_url'.
 */
export const loopbackPoster: Poster = (target, { timeoutMs, headers, body }) => {
  const url = new URL(target);
  if (url.protocol !== 'http:')
    return Promise.reject(posterError('refused_url', `not an http: URL: ${target}`));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', headers, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (err) => reject(posterError('network', err.message)));
      },
    );
    req.on('error', (err) =>
      reject(
        err.name === 'AbortError' || err.name === 'TimeoutError'
          ? posterError('timeout', `no answer within ${timeoutMs} ms`)
          : posterError('network', err.message),
      ),
    );
    req.end(body);
  });
};

function posterError(code: 'refused_url' | 'timeout' | 'network', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The contract's default events of a push subscription (PROTOCOL-PUSH.md): the swap events, then the trade events. */
export const CONTRACT_PUSH_EVENTS = [
  'swap.proposed',
  'swap.countered',
  'swap.accepted',
  'swap.rejected',
  'swap.withdrawn',
  'swap.expired',
  'swap.voided',
  'trade.curtailed',
  'trade.settled',
];
