// fanout: one market event (listing.created) to 100 / 1,000 / 5,000 feed subscribers on one node.
// Subscribers are raw socket.io-client sockets (websocket) held by swarm child processes
// (bench/swarm.ts), each with feed:subscribe {} acked, spread over a few traders. A publisher
// trader in this process creates listings: phase 1 at a fixed offered rate (latency), phase 2 with
// a window of events in flight, the next one sent when an earlier one reached every subscriber
// (capacity, deliveries/s); phase 3 only when the asked rate is well beyond that capacity (it then
// measures a queue, not the hub): half the capacity, "carried rate", latency under a load the
// server can carry. Baseline in the same run: the bare relay (bench/bare-relay.ts, the same
// socket.io version) broadcasting a listing of the same fields and size to the same number of
// subscribers (room `feed`), measured with the same swarms, phases and rates (the hub's).
//
// Delivery latency: the publisher writes its send time into the listing's description
// ("fanout <seq> <epoch ms>", epoch ms = performance.timeOrigin + performance.now(), with a
// fraction). At the fixed rate the send time is the slot's scheduled time (a late send counts
// against the hub, no coordinated omission); in the capacity phase it is the actual send. Each
// swarm reads its own clock the same way, corrected by the offset to this process's clock measured
// over IPC before each size (syncClocks: smallest of 30 round trips, offset and round trip are in
// the results). So every latency is "receive time - send time" in one clock, on one machine.
// Env: BENCH_SUBSCRIBERS ("100,1000,5000"), BENCH_RATE (events/s at the fixed rate, 10),
// BENCH_SECONDS (10), BENCH_SATURATION_SECONDS (5), BENCH_WINDOW (events in flight, 8),
// BENCH_SWARM_PROCS (2), BENCH_OPEN_RATE (at most this many subscriber sockets opened per second,
// 64 handshakes in flight at most, 2000),
// BENCH_SOCKETS_PER_TRADER (1000), DATABASE_URL (unset: the hub runs PGlite).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { io } from 'socket.io-client';
import type { HubClient, Listing } from '../../src/client/index.js';
import {
  type BenchDatabase,
  type CpuSplit,
  countInto,
  cpuMeter,
  envNumber,
  errorCode,
  fixedRate,
  freshDatabase,
  hubEnv,
  listingInput,
  progress,
  registerTraders,
  type Swarm,
  sleep,
  split,
  startBareRelay,
  startReadyHub,
  startSwarms,
  stopAll,
  syncClocks,
} from '../harness.js';
import { type HubProcess, histogram, machine, printTable, ratio, saveResult, summary } from '../lib.js';

export interface FanoutSettings {
  sizes: number[];
  /** events per second at the fixed rate */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  saturationSeconds: number;
  /** events in flight in the capacity phase */
  window: number;
  /** subscriber sockets opened per second (all swarms together) */
  openRate: number;
  socketsPerTrader: number;
  swarmProcs: number;
}

export function fanoutSettings(defaults: { sizes?: string; seconds?: number } = {}): FanoutSettings {
  const sizes = (process.env.BENCH_SUBSCRIBERS || defaults.sizes || '100,1000,5000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  if (!sizes.length) throw new Error('BENCH_SUBSCRIBERS must be a comma list of positive integers');
  return {
    sizes,
    rate: envNumber('BENCH_RATE', 10),
    seconds: envNumber('BENCH_SECONDS', defaults.seconds ?? 10),
    warmupSeconds: 1,
    saturationSeconds: envNumber('BENCH_SATURATION_SECONDS', 5),
    window: Math.floor(envNumber('BENCH_WINDOW', 8)),
    openRate: envNumber('BENCH_OPEN_RATE', 2000),
    socketsPerTrader: Math.floor(envNumber('BENCH_SOCKETS_PER_TRADER', 1000)),
    swarmProcs: Math.floor(envNumber('BENCH_SWARM_PROCS', 2)),
  };
}

/** publishes in flight at the fixed rate (the publisher's commands may overlap) */
const PUBLISH_LANES = 8;
/** how long a phase waits for its last deliveries */
const SETTLE_MS = 5_000;
/** an event of the capacity phase that has not reached everyone after this long leaves the window */
const STALL_MS = 5_000;
const OPEN_TIMEOUT_MS = 30_000;
/** subscriber handshakes under way at once (all swarms) */
const OPEN_IN_FLIGHT = 64;

const epoch = () => performance.timeOrigin + performance.now();

/** What the measurement needs from a server: where subscribers connect, and how to publish. */
export interface FanoutTarget {
  name: string;
  urls: string[];
  /** server processes, for CPU accounting */
  pids: number[];
  /** handshake auth of subscriber socket i */
  auth(i: number): Record<string, unknown>;
  /** publishes one event whose description is `fanout <seq> <stamp>`; resolves on the ack */
  publish(seq: number, stampEpochMs: number): Promise<void>;
}

interface Collected {
  delivery: string;
  delivered: number;
  firstRecv: number | null;
  lastRecv: number | null;
  sampleBytes: number;
  unparsed: number;
  subscribed: number;
  disconnects: number;
}

/** What the swarms received of `expected` deliveries of events published from `t0`. */
function deliveryFigures(
  c: Awaited<ReturnType<typeof collect>>,
  expected: number,
  t0: number,
  cpu: CpuSplit,
) {
  const elapsed = Math.max(0.001, (c.lastRecv - t0) / 1000);
  return {
    deliveriesExpected: expected,
    delivered: c.delivered,
    lost: Math.max(0, expected - c.delivered),
    deliveriesPerSecond: Math.round(c.delivered / elapsed),
    seconds: Number(elapsed.toFixed(3)),
    latency: summary(c.h),
    eventBytes: c.sampleBytes,
    unparsed: c.unparsed,
    disconnects: c.disconnects,
    cpu,
  };
}

async function collect(swarms: Swarm[]) {
  const parts = await Promise.all(swarms.map((s) => s.call<Collected>('collect')));
  const h = histogram();
  let delivered = 0;
  let lastRecv = 0;
  let unparsed = 0;
  let disconnects = 0;
  let sampleBytes = 0;
  for (const p of parts) {
    if (p.delivered) h.add(hdr.decodeFromCompressedBase64(p.delivery));
    delivered += p.delivered;
    lastRecv = Math.max(lastRecv, p.lastRecv ?? 0);
    unparsed += p.unparsed;
    disconnects += p.disconnects;
    sampleBytes ||= p.sampleBytes;
  }
  return { h, delivered, lastRecv, unparsed, disconnects, sampleBytes };
}

async function deliveredSoFar(swarms: Swarm[]) {
  const parts = await Promise.all(swarms.map((s) => s.call<{ delivered: number }>('delivered')));
  return parts.reduce((a, p) => a + p.delivered, 0);
}

async function waitDelivered(swarms: Swarm[], expected: number, ms: number) {
  const end = performance.now() + ms;
  while ((await deliveredSoFar(swarms)) < expected && performance.now() < end) await sleep(50);
}

let nextSeq = 1;

export interface PhaseFigures {
  events: number;
  publishErrors: Record<string, number>;
  deliveriesExpected: number;
  delivered: number;
  lost: number;
  /** deliveries / seconds from the phase's first send to its last delivery */
  deliveriesPerSecond: number;
  seconds: number;
  latency: ReturnType<typeof summary>;
  eventBytes: number;
  unparsed: number;
  disconnects: number;
  cpu: CpuSplit;
}

/** Events at a fixed offered rate; latency from each slot's scheduled time. */
async function fixedPhase(
  target: FanoutTarget,
  swarms: Swarm[],
  subscribers: number,
  rate: number,
  seconds: number,
  label: string,
): Promise<PhaseFigures & { offeredEventsPerSecond: number; unserved: number }> {
  await Promise.all(swarms.map((s) => s.call('reset', { watch: false })));
  const cpu = await cpuMeter(target.pids, swarms);
  const errors: Record<string, number> = {};
  let ok = 0;
  const line = progress(label);
  const t0 = epoch();
  const out = await fixedRate({
    rate,
    seconds,
    workers: Array.from({ length: PUBLISH_LANES }, (_, i) => i),
    drainMs: SETTLE_MS,
    run: async (_lane, dueAt) => {
      const seq = nextSeq++;
      try {
        await target.publish(seq, performance.timeOrigin + dueAt);
        ok++;
      } catch (err) {
        countInto(errors, errorCode(err));
      }
    },
    onTick: (s) => line.update(`${s.toFixed(0)}/${seconds} s, ${ok} events`),
  });
  const expected = ok * subscribers;
  await waitDelivered(swarms, expected, SETTLE_MS);
  const split = await cpu();
  const c = await collect(swarms);
  const figures = {
    offeredEventsPerSecond: rate,
    events: ok,
    unserved: out.unserved,
    publishErrors: errors,
    ...deliveryFigures(c, expected, t0, split),
  };
  line.done(
    `${ok} events, ${c.delivered}/${expected} delivered, p50 ${figures.latency.p50ms} ms, ` +
      `p99 ${figures.latency.p99ms} ms, ${figures.deliveriesPerSecond} deliveries/s`,
  );
  return figures;
}

/**
 * Capacity: `window` events in flight; an event leaves the window when every subscriber has it
 * (each swarm reports when all its subscribed sockets have it), then the next is sent.
 * Latency here is from the actual send.
 */
async function capacityPhase(
  target: FanoutTarget,
  swarms: Swarm[],
  window: number,
  seconds: number,
  label: string,
): Promise<PhaseFigures & { window: number; eventsPerSecond: number; stalled: number }> {
  const resets = await Promise.all(
    swarms.map((s) => s.call<{ subscribed: number }>('reset', { watch: true })),
  );
  const subscribers = resets.reduce((a, r) => a + r.subscribed, 0);
  const parts = resets.filter((r) => r.subscribed > 0).length;
  const outstanding = new Map<number, { left: number; at: number }>();
  let wake: (() => void) | undefined;
  let completed = 0;
  let stalled = 0;
  let ok = 0;
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  for (const s of swarms) {
    s.onDone((seq) => {
      const o = outstanding.get(seq);
      if (!o || --o.left > 0) return;
      outstanding.delete(seq);
      completed++;
      wake?.();
    });
  }
  const cpu = await cpuMeter(target.pids, swarms);
  const line = progress(label);
  const t0 = epoch();
  const end = performance.now() + seconds * 1000;
  let lastTick = performance.now();
  while (performance.now() < end) {
    while (outstanding.size < window && performance.now() < end) {
      const seq = nextSeq++;
      outstanding.set(seq, { left: parts, at: performance.now() });
      const p = target.publish(seq, epoch()).then(
        () => {
          ok++;
        },
        (err) => {
          countInto(errors, errorCode(err));
          if (outstanding.delete(seq)) wake?.();
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 50);
    });
    const now = performance.now();
    for (const [seq, o] of outstanding) {
      if (now - o.at > STALL_MS) {
        outstanding.delete(seq);
        stalled++;
      }
    }
    if (now - lastTick > 1000) {
      lastTick = now;
      line.update(`${((now - (end - seconds * 1000)) / 1000).toFixed(0)}/${seconds} s, ${completed} events`);
    }
  }
  const drainEnd = performance.now() + SETTLE_MS;
  while (outstanding.size && performance.now() < drainEnd) await sleep(20);
  await Promise.allSettled([...inFlight]);
  const expected = ok * subscribers;
  await waitDelivered(swarms, expected, 1000);
  const split = await cpu();
  const c = await collect(swarms);
  for (const s of swarms) s.onDone(() => {});
  const delivery = deliveryFigures(c, expected, t0, split);
  const figures = {
    window,
    events: ok,
    eventsPerSecond: Math.round(completed / delivery.seconds),
    stalled,
    publishErrors: errors,
    ...delivery,
  };
  line.done(
    `${ok} events, ${c.delivered}/${expected} delivered, ${figures.deliveriesPerSecond} deliveries/s, ` +
      `p99 ${figures.latency.p99ms} ms, stalled ${stalled}`,
  );
  return figures;
}

export interface SizeFigures {
  subscribers: number;
  open: {
    opened: number;
    subscribed: number;
    failed: number;
    errors: Record<string, number>;
    retried: Record<string, number>;
    /** from each socket's scheduled time to its feed:subscribe ack */
    ready: ReturnType<typeof summary>;
    seconds: number;
  };
  clocks: { offsetMs: number; rttMs: number }[];
  fixedRate: Awaited<ReturnType<typeof fixedPhase>>;
  capacity: Awaited<ReturnType<typeof capacityPhase>>;
  /**
   * a second fixed rate when the asked one is well above the capacity (a load that queues up):
   * half the capacity, for latency under a load the server carries
   */
  carriedRate?: Awaited<ReturnType<typeof fixedPhase>>;
}

/** Half the capacity in events/s when the asked rate is well beyond it (as negotiate's phase B). */
export function carriedRate(asked: number, capacityEventsPerSecond: number): number | undefined {
  const half = Math.round(capacityEventsPerSecond * 5) / 10;
  return half > 0 && half < asked * 0.6 ? half : undefined;
}

/**
 * For each size, ascending: opens the extra subscriber sockets (spread over the swarms, socket i
 * of a swarm on urls[i % urls.length]), syncs clocks, warms up, then the fixed-rate and capacity
 * phases, and the carried rate (see `carriedRate`; `carried[i]` given: that rate for size i, so
 * the baseline runs the hub's rates). The sockets stay open from one size to the next and are
 * closed at the end.
 */
export async function fanoutSizes(
  target: FanoutTarget,
  swarms: Swarm[],
  s: FanoutSettings,
  carried?: (number | undefined)[],
): Promise<SizeFigures[]> {
  const out: SizeFigures[] = [];
  let held = 0;
  try {
    for (const size of s.sizes) {
      const line = progress(`${target.name}: opening ${size - held} subscriber sockets`);
      const auths = Array.from({ length: size - held }, (_, k) => target.auth(held + k));
      const parts = split(auths, swarms.length);
      const opened = await Promise.all(
        swarms.map((sw, k) =>
          sw.call<{
            connected: number;
            failed: number;
            errors: Record<string, number>;
            retried: Record<string, number>;
            ready: string;
            elapsedSeconds: number;
            subscribed: number;
          }>('open', {
            url: target.urls,
            auths: parts[k],
            rate: s.openRate / swarms.length,
            // a closed loop: at most OPEN_IN_FLIGHT handshakes under way, so a slow server's accept
            // queue does not overflow (the connect workload measures that storm)
            maxInFlight: Math.max(1, Math.round(OPEN_IN_FLIGHT / swarms.length)),
            readyOn: 'subscribe',
            timeoutMs: OPEN_TIMEOUT_MS,
            // a refused or reset handshake is tried again (and counted)
            retries: 3,
          }),
        ),
      );
      held = size;
      const ready = histogram();
      const errors: Record<string, number> = {};
      const retried: Record<string, number> = {};
      for (const o of opened) {
        if (o.connected) ready.add(hdr.decodeFromCompressedBase64(o.ready));
        for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v;
        for (const [k, v] of Object.entries(o.retried)) retried[k] = (retried[k] ?? 0) + v;
      }
      const retries = Object.values(retried).reduce((x, y) => x + y, 0);
      const subscribed = opened.reduce((a, o) => a + o.subscribed, 0);
      const failed = opened.reduce((a, o) => a + o.failed, 0);
      line.done(`${subscribed} subscribed, ${failed} failed, ${retries} attempts retried`);
      const clocks = await syncClocks(swarms);
      await fixedPhase(
        target,
        swarms,
        subscribed,
        s.rate,
        s.warmupSeconds,
        `${target.name} ${size}: warm-up`,
      );
      const fixed = await fixedPhase(
        target,
        swarms,
        subscribed,
        s.rate,
        s.seconds,
        `${target.name} ${size}: ${s.rate} events/s`,
      );
      const capacity = await capacityPhase(
        target,
        swarms,
        s.window,
        s.saturationSeconds,
        `${target.name} ${size}: capacity, ${s.window} events in flight`,
      );
      const lower = carried ? carried[out.length] : carriedRate(s.rate, capacity.eventsPerSecond);
      const carriedFigures = lower
        ? await fixedPhase(
            target,
            swarms,
            subscribed,
            lower,
            Math.max(5, s.seconds / 2),
            `${target.name} ${size}: ${lower} events/s`,
          )
        : undefined;
      out.push({
        subscribers: subscribed,
        open: {
          opened: auths.length,
          subscribed,
          failed,
          errors,
          retried,
          ready: summary(ready),
          seconds: Math.max(...opened.map((o) => o.elapsedSeconds)),
        },
        clocks,
        fixedRate: fixed,
        capacity,
        ...(carriedFigures ? { carriedRate: carriedFigures } : {}),
      });
    }
  } finally {
    await Promise.all(swarms.map((sw) => sw.call('close').catch(() => undefined)));
  }
  return out;
}

/**
 * The hub as a fanout target: `traders` subscriber accounts (socket i uses trader i % traders) and
 * one publisher on urls[0] creating listings.
 */
export async function hubTarget(
  urls: string[],
  pids: number[],
  maxSubscribers: number,
  socketsPerTrader: number,
): Promise<{ target: FanoutTarget; template: () => Listing | undefined; close(): void }> {
  const traders = Math.max(1, Math.ceil(maxSubscribers / socketsPerTrader));
  // trader 0 (the publisher) is on urls[0]; registerTraders spreads the others over the nodes
  const clients: HubClient[] = await registerTraders(urls, traders + 1, 'fan');
  const [publisher, ...subs] = clients;
  await publisher!.connect();
  let template: Listing | undefined;
  return {
    target: {
      name: urls.length > 1 ? `hub x${urls.length}` : 'hub',
      urls,
      pids,
      auth: (i) => ({ token: subs[i % subs.length]!.session.accessToken }),
      async publish(seq, stamp) {
        const listing = await publisher!.createListing({
          ...listingInput('10'),
          description: `fanout ${seq} ${stamp.toFixed(3)}`,
        });
        template ??= listing;
      },
    },
    template: () => template,
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

/** A listing with the hub's fields, for the bare relay when no hub listing was captured. */
function syntheticListing(): Listing {
  const input = listingInput('10');
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    ownerId: randomUUID(),
    side: 'supply',
    energyType: input.energyType,
    volumeKwh: '10.000',
    availableKwh: '10.000',
    pricePerKwh: '0.1000',
    currency: 'EUR',
    deliveryStart: input.deliveryStart,
    deliveryEnd: input.deliveryEnd,
    zone: input.zone,
    description: '',
    status: 'active',
    version: 1,
    createdAt: at,
    updatedAt: at,
  } as Listing;
}

/** The bare relay as a fanout target: the publisher is a raw socket on urls[0] emitting feed:publish. */
export async function relayTarget(
  urls: string[],
  pids: number[],
  template: Listing | undefined,
): Promise<{ target: FanoutTarget; close(): void }> {
  const pub = io(urls[0]!, { transports: ['websocket'], auth: { userId: 'publisher' } });
  await new Promise<void>((resolve, reject) => {
    pub.once('connect', () => resolve());
    pub.once('connect_error', reject);
  });
  const base = template ?? syntheticListing();
  return {
    target: {
      name: urls.length > 1 ? `bare relay x${urls.length}` : 'bare relay',
      urls,
      pids,
      auth: (i) => ({ userId: `sub-${i % 16}` }),
      async publish(seq, stamp) {
        const answer = (await pub.timeout(20_000).emitWithAck('feed:publish', {
          ...base,
          id: randomUUID(),
          description: `fanout ${seq} ${stamp.toFixed(3)}`,
        })) as { ok: boolean };
        if (!answer.ok) throw new Error('not ok');
      },
    },
    close: () => pub.close(),
  };
}

// --- the run ------------------------------------------------------------------------------------

/** The short table of a fanout comparison: one row per size. */
export function fanoutRows(hub: SizeFigures[], bare: SizeFigures[], hubName = 'hub', bareName = 'bare') {
  return hub.map((h, i) => {
    const b = bare[i];
    return {
      subscribers: h.subscribers,
      [`${hubName} p50/p99 ms @${h.fixedRate.offeredEventsPerSecond}/s`]: `${h.fixedRate.latency.p50ms} / ${h.fixedRate.latency.p99ms}`,
      [`${bareName} p50/p99 ms`]: b ? `${b.fixedRate.latency.p50ms} / ${b.fixedRate.latency.p99ms}` : '-',
      [`${hubName} deliv/s fixed`]: h.fixedRate.deliveriesPerSecond,
      [`${bareName} deliv/s fixed`]: b?.fixedRate.deliveriesPerSecond ?? '-',
      [`${hubName} deliv/s max`]: h.capacity.deliveriesPerSecond,
      [`${bareName} deliv/s max`]: b?.capacity.deliveriesPerSecond ?? '-',
      'ratio max': ratio(h.capacity.deliveriesPerSecond, b?.capacity.deliveriesPerSecond) ?? '-',
      lost: `${lostOf(h)} / ${b ? lostOf(b) : '-'}`,
    };
  });
}

const lostOf = (f: SizeFigures) => f.fixedRate.lost + f.capacity.lost + (f.carriedRate?.lost ?? 0);

/** The carried-rate rows (sizes where the asked rate was well beyond the capacity). */
export function carriedRows(hub: SizeFigures[], bare: SizeFigures[], hubName = 'hub', bareName = 'bare') {
  return hub.flatMap((h, i) => {
    const b = bare[i];
    if (!h.carriedRate) return [];
    return [
      {
        subscribers: h.subscribers,
        'events/s (half the capacity)': h.carriedRate.offeredEventsPerSecond,
        [`${hubName} p50/p99 ms`]: `${h.carriedRate.latency.p50ms} / ${h.carriedRate.latency.p99ms}`,
        [`${bareName} p50/p99 ms`]: b?.carriedRate
          ? `${b.carriedRate.latency.p50ms} / ${b.carriedRate.latency.p99ms}`
          : '-',
        [`${hubName} deliv/s`]: h.carriedRate.deliveriesPerSecond,
        [`${bareName} deliv/s`]: b?.carriedRate?.deliveriesPerSecond ?? '-',
      },
    ];
  });
}

export async function run(): Promise<void> {
  const s = fanoutSettings();
  const adminUrl = process.env.DATABASE_URL || undefined;
  const maxSize = Math.max(...s.sizes);
  console.log(
    `fanout: ${s.sizes.join(' / ')} feed subscribers on 1 node from ${s.swarmProcs} swarm process(es), ` +
      `${s.rate} events/s for ${s.seconds} s (after ${s.warmupSeconds} s warm-up), then ${s.window} events ` +
      `in flight for ${s.saturationSeconds} s; ${Math.ceil(maxSize / s.socketsPerTrader)} subscriber traders, ` +
      `sockets opened at most ${s.openRate}/s, ${OPEN_IN_FLIGHT} in flight; carried rate (half the capacity, ` +
      `when ${s.rate}/s is well beyond it) for ${Math.max(5, s.seconds / 2)} s; database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let db: BenchDatabase | undefined;
  let hub: HubProcess | undefined;
  let relay: HubProcess | undefined;
  let swarms: Swarm[] = [];
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-fanout-'));
  let hubFigures: SizeFigures[];
  let bareFigures: SizeFigures[];
  let template: Listing | undefined;
  try {
    swarms = await startSwarms(s.swarmProcs);
    if (adminUrl) db = await freshDatabase(adminUrl, 'renex_bench_fanout');
    hub = await startReadyHub(
      hubEnv({ DATABASE_URL: db?.url, DATA_DIR: dataDir, MAX_SOCKETS_PER_USER: '10000' }),
    );
    const h = await hubTarget([hub.url], [hub.child.pid!], maxSize, s.socketsPerTrader);
    try {
      hubFigures = await fanoutSizes(h.target, swarms, s);
      template = h.template();
    } finally {
      h.close();
    }
    await stopAll([hub]);
    hub = undefined;

    relay = await startBareRelay();
    const r = await relayTarget([relay.url], [relay.child.pid!], template);
    try {
      bareFigures = await fanoutSizes(
        r.target,
        swarms,
        s,
        hubFigures.map((f) => f.carriedRate?.offeredEventsPerSecond),
      );
    } finally {
      r.close();
    }
  } finally {
    await stopAll([hub, relay, ...swarms]);
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const last = hubFigures.length - 1;
  const h5 = hubFigures[last]!;
  const b5 = bareFigures[last]!;
  const result = {
    workload: 'fanout',
    machine: machine(),
    parameters: {
      ...s,
      nodes: 1,
      publishLanes: PUBLISH_LANES,
      database: adminUrl ? 'postgres' : 'pglite',
      transport: 'websocket',
      latencyClock:
        'sender epoch ms (timeOrigin + now) in the description; swarm clocks offset-corrected over IPC',
    },
    baseline: { bareRelay: bareFigures },
    hub: hubFigures,
    ratio: hubFigures.map((hf, i) => ({
      subscribers: hf.subscribers,
      deliveriesPerSecondMax: ratio(
        hf.capacity.deliveriesPerSecond,
        bareFigures[i]?.capacity.deliveriesPerSecond,
      ),
      deliveriesPerSecondFixed: ratio(
        hf.fixedRate.deliveriesPerSecond,
        bareFigures[i]?.fixedRate.deliveriesPerSecond,
      ),
      p99AtFixedRate: ratio(hf.fixedRate.latency.p99ms, bareFigures[i]?.fixedRate.latency.p99ms),
      p99AtCarriedRate: hf.carriedRate
        ? ratio(hf.carriedRate.latency.p99ms, bareFigures[i]?.carriedRate?.latency.p99ms)
        : null,
    })),
    targets: {
      [`p99 <= 250 ms at ${h5.subscribers}, ${s.rate} events/s`]: h5.fixedRate.latency.p99ms <= 250,
      ...(h5.carriedRate
        ? {
            [`p99 <= 250 ms at ${h5.subscribers}, ${h5.carriedRate.offeredEventsPerSecond} events/s (carried)`]:
              h5.carriedRate.latency.p99ms <= 250,
          }
        : {}),
      'deliveries/s >= 0.5 x bare (max)':
        h5.capacity.deliveriesPerSecond >= 0.5 * b5.capacity.deliveriesPerSecond,
    },
  };
  printTable(fanoutRows(hubFigures, bareFigures));
  const carried = carriedRows(hubFigures, bareFigures);
  if (carried.length) printTable(carried);
  printTable(
    hubFigures.flatMap((hf, i) => {
      const bf = bareFigures[i]!;
      const row = (name: string, f: SizeFigures) => ({
        server: name,
        subscribers: f.subscribers,
        'events/s max': f.capacity.eventsPerSecond,
        'p50/p99 ms max': `${f.capacity.latency.p50ms} / ${f.capacity.latency.p99ms}`,
        'cores fixed srv/swarm/pg/other': `${f.fixedRate.cpu.server} / ${f.fixedRate.cpu.swarms} / ${f.fixedRate.cpu.postgres} / ${f.fixedRate.cpu.other}`,
        'cores max srv/swarm/pg/other': `${f.capacity.cpu.server} / ${f.capacity.cpu.swarms} / ${f.capacity.cpu.postgres} / ${f.capacity.cpu.other}`,
        'event bytes': f.fixedRate.eventBytes,
        'open p99 ms': f.open.ready.p99ms,
      });
      return [row('hub', hf), row('bare', bf)];
    }),
  );
  printTable(Object.entries(result.targets).map(([target, met]) => ({ target, met: met ? 'yes' : 'NO' })));
  console.log(`saved ${await saveResult('fanout', result)}`);
}
