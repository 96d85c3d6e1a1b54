// The one door for requests the hub sends to URLs that traders chose (webhooks, Web Push).
// A trader-supplied URL is an SSRF vector: without these rules a webhook pointed at
// http://169.254.169.254/ or an internal admin port would make the hub fetch it for them.
// The address rule is enforced on the address the socket actually connects to (a custom
// `lookup` on the request), so a name that resolves to a public address when checked and to
// 127.0.0.1 a moment later (DNS rebinding) gains nothing.
import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import pLimit from 'p-limit';
import { HubError } from '../domain/errors.js';
import { forbiddenReason, literalAddress, refusal } from './outbound-address.js';

/** Options of one outbound POST. */
export interface OutboundOptions {
  /**
   * Lift the scheme and address rules (`WEBHOOK_ALLOW_PRIVATE` / `PUSH_ALLOW_HTTP`, for tests
   * and private deployments): `http:` and any address are then allowed.
   */
  allowPrivate: boolean;
  /** Deadline of the whole exchange: DNS + connect + TLS + send + response headers + body. */
  timeoutMs: number;
  /** Request headers; `Content-Length` is always set from `body` (a caller's value is replaced). */
  headers: Record<string, string>;
  body: string | Buffer;
  /**
   * Most response body bytes read; the rest is discarded (the connection is closed), so a
   * receiver cannot make the hub buffer an endless answer.
   * @default 65536
   */
  maxResponseBytes?: number;
  /** ends the exchange early, as a `timeout` (the caller's own deadline passed) */
  signal?: AbortSignal;
  /**
   * When the exchange must have ended (ms since the epoch), whenever it starts: one not started by
   * then is not started at all (a `timeout`, nothing sent), and one started runs until then at most.
   * A send that waited (a busy sender thread) cannot leave after its caller stopped waiting.
   */
  notAfter?: number;
}

/** An HTTP answer, whatever its status: a 3xx or 5xx is returned, never followed or thrown. */
export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body decoded as UTF-8, cut at `maxResponseBytes`. */
  body: string;
}

/**
 * Why an outbound request produced no HTTP answer:
 * - `refused_url`: not an http(s) URL, `http:` without `allowPrivate`, or credentials in the URL;
 * - `refused_address`: the host is, or resolves to, a forbidden address (nothing was sent);
 * - `timeout`: no complete answer within `timeoutMs`;
 * - `network`: DNS failure, connection refused or reset, TLS failure, malformed answer.
 */
export type OutboundErrorCode = 'refused_url' | 'refused_address' | 'timeout' | 'network';

/** Thrown for every failure that is not an HTTP answer. */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Parses and checks the URL's form and, for an IP literal, its address (Node connects to a
 * literal without calling `lookup`, so the literal is the one place checked up front).
 * WHATWG parsing normalises alternative IPv4 spellings (2130706433, 0x7f.1, 127.1) to dotted
 * form first, so those are classified as the address they really are.
 */
function checkTarget(
  raw: string,
  allowPrivate: boolean,
): { url: URL } | { code: 'refused_url' | 'refused_address'; message: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'refused_url', message: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    return {
      code: 'refused_url',
      message: allowPrivate ? 'must be an http: or https: URL' : 'must be an https: URL',
    };
  }
  // Refused even with allowPrivate: Node would turn them into an Authorization header, and
  // the URL is stored and listed back to its owner, so a secret there would leak into logs.
  if (url.username !== '' || url.password !== '') {
    return { code: 'refused_url', message: 'must not contain credentials' };
  }
  const literal = literalAddress(url);
  if (!allowPrivate && literal !== undefined) {
    const reason = forbiddenReason(literal);
    if (reason !== undefined) return { code: 'refused_address', message: refusal(literal, reason) };
  }
  return { url };
}

/**
 * dns.lookup runs on libuv's threadpool (4 threads), which argon2 and fs share, and a lookup the
 * resolver does not answer holds its thread until the resolver gives up, whatever the caller's
 * timeout: names chosen to hang would take every thread and stall logins. So at most 2 lookups run
 * at once in a thread (the main thread's registration checks, the sender thread's connections),
 * and lookups of one name in flight are one.
 */
const lookupSlots = pLimit(2);
const lookupsInFlight = new Map<string, Promise<dns.LookupAddress[]>>();

function lookupAll(hostname: string, family?: number): Promise<dns.LookupAddress[]> {
  const key = `${family ?? 0}/${hostname}`;
  let answer = lookupsInFlight.get(key);
  if (!answer) {
    answer = lookupSlots(() =>
      dns.promises.lookup(hostname, { all: true, ...(family ? { family } : {}) }),
    ).finally(() => lookupsInFlight.delete(key));
    lookupsInFlight.set(key, answer);
  }
  return answer;
}

/**
 * Resolves like dns.lookup but refuses the connection when ANY resolved address is forbidden
 * (not just the one that would be tried first: with happy eyeballs Node may try several), and
 * hands the very addresses it checked to the socket. Refusing on any bad record also keeps a
 * name that mixes public and private records from being a partial SSRF.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  const family = typeof options.family === 'number' ? options.family : undefined;
  lookupAll(hostname, family).then(
    (addresses) => answer(undefined, addresses),
    (err: NodeJS.ErrnoException) => answer(err, []),
  );
  function answer(err: NodeJS.ErrnoException | undefined, addresses: dns.LookupAddress[]) {
    if (err) {
      callback(err, '');
      return;
    }
    const first = addresses[0];
    if (first === undefined) {
      callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      return;
    }
    // the refusal goes to the delivery log, which the webhook's owner reads: as at registration,
    // it says nothing of what the name resolves to inside the hub's network
    if (addresses.some(({ address }) => forbiddenReason(address) !== undefined)) {
      callback(
        new OutboundError('refused_address', `${hostname} does not resolve to public addresses only`),
        '',
      );
      return;
    }
    if (options.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  }
};

/**
 * For validating a URL when it is registered: undefined when acceptable, else a message for
 * VALIDATION_FAILED (e.g. "must be an https: URL", "resolves to a private address (10.0.0.1)" for
 * an address given as such; for a name, one message whatever the reason, so nobody maps the hub's
 * network through it).
 * Resolves a name (all its addresses); an IP literal is classified without any network use.
 * Passing here does not make later requests safe by itself: postOutbound checks again at
 * every connection, since what a name resolves to can change.
 */
/** The longest a registration waits for a name's addresses. */
const LOOKUP_TIMEOUT_MS = 3000;
/** the owners (checkOutboundUrl's `owner`) whose registration is looking a name up now */
const ownersLookingUp = new Set<string>();

export async function checkOutboundUrl(
  url: string,
  opts: {
    allowPrivate: boolean;
    /**
     * who registers it: one name of theirs is looked up at a time (RATE_LIMITED for another
     * meanwhile), so one trader's names that never resolve cannot fill the shared lookup slots and
     * make everyone else's registrations wait
     */
    owner?: string;
  },
): Promise<string | undefined> {
  const target = checkTarget(url, opts.allowPrivate);
  if ('message' in target) return target.message;
  if (opts.allowPrivate || literalAddress(target.url) !== undefined) return undefined;
  if (opts.owner !== undefined) {
    if (ownersLookingUp.has(opts.owner)) {
      throw new HubError('RATE_LIMITED', 'Another URL of yours is being checked; try again in a moment', {
        retryAfterMs: 1000,
      });
    }
    ownersLookingUp.add(opts.owner);
  }
  // A name's answer is not told: what a name resolves to inside the hub's network (or whether it
  // resolves at all) is not for a trader to map. The lookup is bounded, so a slow resolver cannot
  // hold a request; not knowing in time is UNAVAILABLE (try again), not a verdict on the URL.
  const refused = 'must be a host name that resolves to public addresses only';
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error('timeout');
  try {
    const addresses = await Promise.race([
      lookupAll(target.url.hostname),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut), LOOKUP_TIMEOUT_MS);
      }),
    ]);
    if (addresses.length === 0) return refused;
    return addresses.some(({ address }) => forbiddenReason(address) !== undefined) ? refused : undefined;
  } catch (err) {
    if (err === timedOut) {
      throw new HubError('UNAVAILABLE', 'Looking up the host name took too long; try again later', {
        retryAfterMs: 5000,
      });
    }
    return refused;
  } finally {
    clearTimeout(timer);
    if (opts.owner !== undefined) ownersLookingUp.delete(opts.owner);
  }
}

function asOutboundError(err: unknown): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as NodeJS.ErrnoException;
  const detail = e.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
  return new OutboundError('network', detail, { cause: err });
}

/**
 * POSTs `body` to `url` and returns the HTTP answer, whatever its status. Redirects are not
 * followed (a 3xx is returned as is: following one would be a second, unchecked request).
 * Throws OutboundError for everything that is not an HTTP answer; only a caller's bug (a
 * header name or value Node rejects) surfaces as Node's own TypeError.
 */
/** Keep-alive agents: by scheme, and apart for requests that lift the address rules. */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    // an idle connection is closed after 15 s; at most 8 per origin (one request at a time per
    // target, several targets may share a receiver) and 2,048 in all
    const options = {
      keepAlive: true,
      timeout: 15_000,
      maxSockets: 8,
      maxTotalSockets: 2048,
      scheduling: 'lifo' as const,
    };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

export async function postOutbound(url: string, opts: OutboundOptions): Promise<OutboundResponse> {
  const target = checkTarget(url, opts.allowPrivate);
  if ('message' in target) throw new OutboundError(target.code, `${url} ${target.message}`);
  const timeoutMs =
    opts.notAfter === undefined ? opts.timeoutMs : Math.min(opts.timeoutMs, opts.notAfter - Date.now());
  if (timeoutMs <= 0) throw new OutboundError('timeout', `${url} was not sent: its time had passed`);
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.headers)) {
    if (name.toLowerCase() !== 'content-length') headers[name] = value;
  }
  headers['content-length'] = String(body.length);
  const limit = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = target.url.protocol === 'https:' ? https.request : http.request;

  return new Promise<OutboundResponse>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    let settled = false;
    const settle = (outcome: { error: OutboundError } | { value: OutboundResponse }, whole = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      // an answer read to its end leaves its connection to the pool; any other ending (an error, a
      // timeout, an answer cut at maxResponseBytes, a receiver still trickling bytes) closes it
      if (!whole) {
        request.destroy();
        response?.destroy();
      }
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.value);
    };

    // Connections are kept alive and reused (a busy receiver gets every event of its trader): each
    // new one is opened through guardedLookup, so a reused one goes to an address that was checked.
    // Requests that lift the address rules have agents of their own, so they never share one.
    const request = send(target.url, {
      method: 'POST',
      headers,
      agent: agentFor(target.url.protocol, opts.allowPrivate),
      ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
    });
    // One deadline for the whole exchange rather than socket idle timeouts: a receiver that
    // trickles a byte a second is never idle yet must not hold a delivery slot for ever.
    const timer = setTimeout(() => {
      settle({
        error: new OutboundError('timeout', `${url} gave no complete answer in ${timeoutMs} ms`),
      });
    }, timeoutMs);

    const abort = (): void =>
      settle({ error: new OutboundError('timeout', `${url} gave no complete answer in time`) });
    if (opts.signal?.aborted) abort();
    else opts.signal?.addEventListener('abort', abort, { once: true });

    request.on('error', (err) => settle({ error: asOutboundError(err) }));
    request.on('response', (res) => {
      response = res;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (whole: boolean): void => {
        settle(
          {
            value: {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            },
          },
          whole,
        );
      };
      res.on('data', (chunk: Buffer) => {
        const room = limit - size;
        chunks.push(room < chunk.length ? chunk.subarray(0, room) : chunk);
        size += Math.min(room, chunk.length);
        if (size >= limit) done(false);
      });
      res.on('end', () => done(true));
      res.on('error', (err) => settle({ error: asOutboundError(err) }));
      res.on('close', () => {
        if (!res.complete) {
          settle({ error: new OutboundError('network', `${url} closed the connection mid-answer`) });
        }
      });
    });
    request.end(body);
  });
}
