// The socket swarm: a load-generator child process that holds many raw socket.io-client
// connections (or runs a login storm), so that the process measuring the hub is not the one
// parsing thousands of messages. Driven by its parent over IPC (see `startSwarm` in harness.ts):
// each request {id, op, ...args} is answered {id, result} or {id, error}; feed completions are
// pushed as {done: seq}.
// Usage (as a child process only): node --import tsx bench/swarm.ts
//
// Clock: a timestamp in an event is the parent's `performance.timeOrigin + performance.now()`
// (epoch ms with a fraction). This process reads its own clock the same way and subtracts the
// offset the parent measured over IPC (`clock` pings, the one with the smallest round trip), so a
// delivery latency is "receive time in the sender's clock - send time", good to half that round
// trip (tens of microseconds). Both clocks are the same machine's.
import * as hdr from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';

interface Request {
  id: number;
  op: string;
  [k: string]: unknown;
}

const epochNow = () => performance.timeOrigin + performance.now();
const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));
const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
const encode = (h: hdr.Histogram) => hdr.encodeIntoCompressedBase64(h);
const count = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

const send = (m: unknown) => {
  if (process.send) process.send(m);
};

// --- sockets and feed deliveries --------------------------------------------------------------

const sockets: Socket[] = [];
/** sockets whose feed:subscribe was acked and that are still connected */
let subscribed = 0;
/** this clock minus the parent's, in ms */
let offsetMs = 0;
let delivery = histogram();
let delivered = 0;
let firstRecv = Number.POSITIVE_INFINITY;
let lastRecv = 0;
let sampleBytes = 0;
let unparsed = 0;
/** deliveries per event sequence number, for completion notices */
const perSeq = new Map<number, number>();
let watching = false;
let disconnects = 0;

/**
 * A feed event: `{id, type, at, data: {description: "fanout <seq> <epoch ms>", ...}}`, from the hub
 * (listing.created) or from the bare relay (same envelope, same listing fields).
 */
function onEvent(e: { data?: { description?: string } }) {
  const now = epochNow() - offsetMs;
  const d = e?.data?.description;
  if (typeof d !== 'string' || !d.startsWith('fanout ')) {
    unparsed++;
    return;
  }
  const sp = d.indexOf(' ', 7);
  const seq = Number(d.slice(7, sp));
  const t = Number(d.slice(sp + 1));
  delivery.recordValue(us(now - t));
  delivered++;
  if (now < firstRecv) firstRecv = now;
  if (now > lastRecv) lastRecv = now;
  if (sampleBytes === 0) sampleBytes = Buffer.byteLength(JSON.stringify(e));
  if (watching) {
    const n = (perSeq.get(seq) ?? 0) + 1;
    perSeq.set(seq, n);
    if (n === subscribed) {
      perSeq.delete(seq);
      send({ done: seq });
    }
  }
}

interface OpenArgs {
  url: string | string[];
  /** handshake auth of each socket to open (one entry per socket) */
  auths: Record<string, unknown>[];
  /** sockets per second, offered open loop (socket i is due at t0 + i / rate) */
  rate: number;
  /**
   * when a socket counts as ready: `connect` (the server accepted the handshake), `sync` (the
   * hub's first message after its start-up queries) or `subscribe` (feed:subscribe {} acked)
   */
  readyOn: 'connect' | 'sync' | 'subscribe';
  /** give up on a socket (counted as timeout) after this long */
  timeoutMs: number;
  /**
   * a socket refused or cut during its start is opened again this many times, 1 s later (as a
   * client would); latency still runs from its first due time. Default 0: every failure counts.
   */
  retries?: number;
  /**
   * closed loop: at most this many sockets starting at once, the next one issued as soon as one is
   * ready or failed (latency then runs from the issue); `rate` still caps the pace
   */
  maxInFlight?: number;
}

/** Opens sockets at a fixed rate and keeps them; resolves when each one is ready or failed. */
async function open(a: OpenArgs) {
  const urls = Array.isArray(a.url) ? a.url : [a.url];
  const handshake = histogram();
  const ready = histogram();
  const errors: Record<string, number> = {};
  const retried: Record<string, number> = {};
  let connected = 0;
  let failed = 0;
  let lastReady = 0;
  const interval = 1000 / a.rate;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  const one = (i: number, due: number, retriesLeft: number): Promise<void> =>
    new Promise<void>((resolve) => {
      let settled = false;
      const socket = io(urls[i % urls.length]!, {
        transports: ['websocket'],
        auth: a.auths[i]!,
        reconnection: false,
        timeout: a.timeoutMs,
      });
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.close();
        if (retriesLeft > 0 && !why.startsWith('timeout')) {
          count(retried, why);
          setTimeout(() => void one(i, due, retriesLeft - 1).then(resolve), 1000);
          return;
        }
        failed++;
        count(errors, why);
        resolve();
      };
      const timer = setTimeout(() => fail(`timeout (${a.timeoutMs} ms)`), a.timeoutMs);
      const isReady = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const now = performance.now();
        connected++;
        ready.recordValue(us(now - due));
        lastReady = Math.max(lastReady, now);
        sockets.push(socket);
        resolve();
      };
      socket.on('event', onEvent);
      if (a.readyOn === 'sync') socket.once('sync', isReady);
      socket.once(
        'connect_error',
        (err: Error & { data?: { code?: string }; description?: { message?: string; code?: string } }) => {
          // a transport error carries the underlying one (ECONNRESET, socket hang up, ...)
          const cause = err.description?.code ?? err.description?.message;
          fail(`connect_error ${err.data?.code ?? err.message}${cause ? ` (${cause})` : ''}`);
        },
      );
      socket.once('disconnect', (reason) => {
        if (reason !== 'io client disconnect') disconnects++;
        fail(`disconnect ${reason}`);
      });
      socket.once('connect', () => {
        if (settled) return;
        handshake.recordValue(us(performance.now() - due));
        if (a.readyOn === 'connect') return isReady();
        if (a.readyOn !== 'subscribe') return;
        socket
          .timeout(a.timeoutMs)
          .emitWithAck('feed:subscribe', {})
          .then(
            (answer: { ok?: boolean; error?: { code?: string } }) => {
              if (!answer?.ok) return fail(`feed:subscribe ${answer?.error?.code ?? 'not ok'}`);
              if (settled) return;
              subscribed++;
              socket.once('disconnect', () => subscribed--);
              isReady();
            },
            () => fail('feed:subscribe timeout'),
          );
      });
    });
  let issued = 0;
  let inFlight = 0;
  const cap = a.maxInFlight ?? Number.POSITIVE_INFINITY;
  let wake: (() => void) | undefined;
  while (issued < a.auths.length) {
    const shouldHave = Math.min(a.auths.length, Math.floor((performance.now() - t0) / interval) + 1);
    while (issued < shouldHave && inFlight < cap) {
      const due = a.maxInFlight ? performance.now() : t0 + issued * interval;
      inFlight++;
      const p = one(issued, due, a.retries ?? 0).then(() => {
        inFlight--;
        wake?.();
      });
      pending.push(p);
      issued++;
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 1);
    });
  }
  await Promise.all(pending);
  return {
    opened: a.auths.length,
    connected,
    failed,
    errors,
    /** failures followed by another attempt (see `retries`) */
    retried,
    /** from each socket's due time to its `connect` */
    handshake: encode(handshake),
    /** from each socket's due time to ready */
    ready: encode(ready),
    firstDue: performance.timeOrigin + t0 - offsetMs,
    /** seconds from the first socket's due time to the last one ready */
    elapsedSeconds: (lastReady - t0) / 1000,
    holding: sockets.length,
    subscribed,
  };
}

// --- login storm --------------------------------------------------------------------------------

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Registers `n` accounts, 8 at a time (argon2 on the hub); returns their emails. */
async function register(a: { url: string; n: number; tag: string; password: string }) {
  const emails = Array.from({ length: a.n }, (_, i) => `${a.tag}-${i}@bench.renex`);
  let next = 0;
  const errors: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < emails.length) {
        const email = emails[next++]!;
        const status = await post(a.url, '/api/v1/auth/register', {
          email,
          password: a.password,
          displayName: email.slice(0, 20),
        });
        if (status !== 201) count(errors, `register ${status}`);
      }
    }),
  );
  return { emails, errors };
}

/** One login loop per email, all at once, for `seconds`. */
async function logins(a: { url: string; emails: string[]; password: string; seconds: number }) {
  const lat = histogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  const t0 = performance.now();
  const end = t0 + a.seconds * 1000;
  let last = t0;
  await Promise.all(
    a.emails.map(async (email) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const status = await post(a.url, '/api/v1/auth/login', { email, password: a.password });
          if (status === 200) ok++;
          else count(errors, `HTTP ${status}`);
        } catch (err) {
          count(errors, (err as Error).message.slice(0, 60));
        }
        last = performance.now();
        lat.recordValue(us(last - t));
      }
    }),
  );
  return {
    ok,
    errors,
    latency: encode(lat),
    startEpoch: performance.timeOrigin + t0 - offsetMs,
    elapsedSeconds: (last - t0) / 1000,
  };
}

// --- requests -----------------------------------------------------------------------------------

async function handle(m: Request): Promise<unknown> {
  switch (m.op) {
    case 'clock':
      return { now: epochNow() };
    case 'offset':
      offsetMs = Number(m.offsetMs);
      return {};
    case 'open':
      return open(m as unknown as OpenArgs);
    case 'reset':
      delivery = histogram();
      delivered = 0;
      firstRecv = Number.POSITIVE_INFINITY;
      lastRecv = 0;
      sampleBytes = 0;
      unparsed = 0;
      perSeq.clear();
      watching = Boolean(m.watch);
      return { subscribed };
    case 'collect':
      return {
        delivery: encode(delivery),
        delivered,
        firstRecv: Number.isFinite(firstRecv) ? firstRecv : null,
        lastRecv: lastRecv || null,
        sampleBytes,
        unparsed,
        subscribed,
        disconnects,
        cpu: process.cpuUsage(),
        rssBytes: process.memoryUsage().rss,
      };
    case 'delivered':
      return { delivered };
    case 'close': {
      const n = sockets.length;
      for (const s of sockets.splice(0)) s.close();
      subscribed = 0;
      return { closed: n };
    }
    case 'register':
      return register(m as unknown as { url: string; n: number; tag: string; password: string });
    case 'logins':
      return logins(m as unknown as { url: string; emails: string[]; password: string; seconds: number });
    case 'usage':
      return { cpu: process.cpuUsage(), rssBytes: process.memoryUsage().rss };
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

process.on('message', (m: Request) => {
  handle(m).then(
    (result) => send({ id: m.id, result }),
    (err: Error) => send({ id: m.id, error: err?.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  for (const s of sockets) s.close();
  process.exit(0);
});
send({ ready: true });
