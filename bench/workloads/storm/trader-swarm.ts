// The storm workload's trader swarm: a child process holding many bundled clients (HubClient, with
// its real reconnect options: socket.io-client backoff 250 ms .. 5 s, jitter 0.5; `lastEventId` on
// every reconnect; a refresh and reconnect when the hub closes the socket). Each trader subscribes
// to the market feed after every `sync` (feed subscriptions are live only: a dashboard re-subscribes
// after a reconnect, docs/delivery.md). Driven over IPC like bench/swarm.ts (startSwarm(script)).
// Times are reported in the parent's clock (`clock`/`offset` as in bench/swarm.ts).
// Ops: connect {url, sessions, rate}; mark {at}: a failure happened at `at`, start a phase;
// phase: where each trader stands since the mark; check {expected}: own events missed;
// probe {description}: traders that got that listing.created on their feed; close.
import * as hdr from 'hdr-histogram-js';
import type { Socket } from 'socket.io-client';
import { type EventEnvelope, HubClient, type Session } from '../../../src/client/index.js';
import { countInto as count } from '../../harness/basics.js';
import { histogram } from '../../lib.js';

const epochNow = () => performance.timeOrigin + performance.now() - offsetMs;
let offsetMs = 0;
const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));

interface Trader {
  client: HubClient;
  /** ids of the events addressed to this trader (not listing.*: those are the feed's), received */
  own: Set<string>;
  /** descriptions of probe listings seen on the feed */
  probes: Set<string>;
  replaying: boolean;
  /** a feed subscription acked on the current connection */
  feed: boolean;
  /** this phase: first disconnect, first sync after it, first feed:subscribe acked after that sync */
  down?: number;
  sync?: number;
  sub?: number;
  /** events received between the new connection's `connect` and its `sync` (the replay) */
  replayed: number;
}

const traders: Trader[] = [];
let markAt = Number.POSITIVE_INFINITY;
let connectErrors: Record<string, number> = {};
let subscribeErrors: Record<string, number> = {};
let reconnectAttempts = 0;

function add(url: string, session: Session): { trader: Trader; first: Promise<unknown> } {
  const client = new HubClient(url, session);
  const t: Trader = { client, own: new Set(), probes: new Set(), replaying: false, feed: false, replayed: 0 };
  client.onEvent((e: EventEnvelope) => {
    if (t.replaying && t.down !== undefined) t.replayed++;
    if (!e.type.startsWith('listing.')) t.own.add(e.id);
    else if (e.type === 'listing.created') {
      const d = (e.data as { description?: string }).description;
      if (d?.startsWith('probe ')) t.probes.add(d);
    }
  });
  client.onState((s) => {
    if (s === 'connected') t.replaying = true;
    else t.feed = false;
    if (s === 'disconnected' && t.down === undefined && epochNow() >= markAt) t.down = epochNow();
  });
  client.onSync(() => {
    t.replaying = false;
    const moved = t.down !== undefined && t.sync === undefined;
    if (moved) t.sync = epochNow();
    client.subscribeFeed({}).then(
      () => {
        t.feed = t.client.connected;
        if (moved) t.sub = epochNow();
      },
      (err: Error & { code?: string }) => count(subscribeErrors, err.code ?? err.message.slice(0, 60)),
    );
  });
  const first = client.connect();
  // the bundled client keeps its socket to itself; handshake failures and attempts are read off it
  const socket = (client as unknown as { socket: Socket }).socket;
  socket.on(
    'connect_error',
    (err: Error & { data?: { code?: string }; description?: { message?: string } }) => {
      const cause = err.description?.message;
      count(connectErrors, `${err.data?.code ?? err.message}${cause ? ` (${cause})` : ''}`);
    },
  );
  socket.io.on('reconnect_attempt', () => reconnectAttempts++);
  traders.push(t);
  return { trader: t, first };
}

/** Connects the traders at `rate` per second (open loop); resolves when each synced or failed. */
async function connect(a: { url: string; sessions: Session[]; rate: number }) {
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < a.sessions.length; i++) {
    const due = t0 + (i * 1000) / a.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      add(a.url, a.sessions[i]!).first.catch((err: Error & { code?: string }) => {
        failed++;
        count(errors, err.code ?? err.message.slice(0, 60));
      }),
    );
  }
  await Promise.all(pending);
  // the feed subscriptions of the first syncs
  for (let i = 0; i < 200 && traders.some((t) => t.client.connected && !t.feed); i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (Object.keys(subscribeErrors).length) break;
  }
  return { connected: traders.length - failed, failed, errors, seconds: (performance.now() - t0) / 1000 };
}

function mark(at: number) {
  markAt = at;
  connectErrors = {};
  subscribeErrors = {};
  reconnectAttempts = 0;
  for (const t of traders) {
    t.down = undefined;
    t.sync = undefined;
    t.sub = undefined;
    t.replayed = 0;
  }
  return {};
}

/** Where the traders stand since the mark: moved (synced again), resubscribed, latencies from the mark. */
function phase(a: { bucketMs: number; withinMs: number }) {
  const sync = histogram();
  const sub = histogram();
  const buckets: number[] = [];
  let down = 0;
  let synced = 0;
  let within = 0;
  let subscribed = 0;
  let replayed = 0;
  let withReplay = 0;
  let connected = 0;
  let feeds = 0;
  for (const t of traders) {
    if (t.client.connected) connected++;
    if (t.feed) feeds++;
    if (t.down !== undefined) down++;
    if (t.sync !== undefined) {
      synced++;
      if (t.sync - markAt <= a.withinMs) within++;
      sync.recordValue(us(t.sync - markAt));
      const b = Math.floor((t.sync - markAt) / a.bucketMs);
      while (buckets.length <= b) buckets.push(0);
      buckets[b]!++;
    }
    if (t.sub !== undefined) {
      subscribed++;
      sub.recordValue(us(t.sub - markAt));
    }
    replayed += t.replayed;
    if (t.replayed > 0) withReplay++;
  }
  return {
    traders: traders.length,
    connected,
    feeds,
    down,
    synced,
    within,
    subscribed,
    replayed,
    withReplay,
    reconnectAttempts,
    connectErrors,
    subscribeErrors,
    sync: hdr.encodeIntoCompressedBase64(sync),
    sub: hdr.encodeIntoCompressedBase64(sub),
    syncBuckets: buckets,
  };
}

/** For each trader (by user id), the ids of its own events the database has: how many it never got. */
function check(a: { expected: Record<string, string[]> }) {
  let expected = 0;
  let missing = 0;
  let tradersMissing = 0;
  const examples: string[] = [];
  for (const t of traders) {
    const ids = a.expected[t.client.user.id] ?? [];
    expected += ids.length;
    const lost = ids.filter((id) => !t.own.has(id));
    missing += lost.length;
    if (lost.length) {
      tradersMissing++;
      if (examples.length < 5) examples.push(`${t.client.user.id}: ${lost.slice(0, 3).join(',')}`);
    }
  }
  return { expected, missing, tradersMissing, examples };
}

async function handle(m: { op: string; [k: string]: unknown }): Promise<unknown> {
  switch (m.op) {
    case 'clock':
      return { now: performance.timeOrigin + performance.now() };
    case 'offset':
      offsetMs = Number(m.offsetMs);
      return {};
    case 'connect':
      return connect(m as unknown as { url: string; sessions: Session[]; rate: number });
    case 'mark':
      return mark(Number(m.at));
    case 'phase':
      return phase(m as unknown as { bucketMs: number; withinMs: number });
    case 'check':
      return check(m as unknown as { expected: Record<string, string[]> });
    case 'probe':
      return { seen: traders.filter((t) => t.probes.has(String(m.description))).length };
    case 'usage':
      return { cpu: process.cpuUsage(), rssBytes: process.memoryUsage().rss };
    case 'close':
      for (const t of traders) t.client.close();
      return { closed: traders.length };
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

process.on('message', (m: { id: number; op: string }) => {
  handle(m).then(
    (result) => process.send?.({ id: m.id, result }),
    (err: Error) => process.send?.({ id: m.id, error: err?.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  for (const t of traders) t.client.close();
  process.exit(0);
});
process.send?.({ ready: true });
