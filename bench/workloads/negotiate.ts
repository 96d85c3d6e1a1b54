// negotiate: N traders in pairs run create listing -> propose -> counter -> accept over their
// sockets. Phase A: closed loop (BENCH_CLOSED_LANES negotiations in flight per pair, 4), committed commands/s and ack
// latency of every command. Phase B: commands at a fixed offered rate, ack latency from the
// scheduled send time. Delivery latency: from sending propose/counter/accept to the counterparty
// receiving the matching swap.* event, in this process. Baselines in the same run: the bare relay
// (same clients, closed loop and the same rate, propose only) and pgbench replaying the SQL of a
// propose (bench/sql/propose.sql) at the hub's database concurrency.
// Env: BENCH_CLIENTS (100), BENCH_SECONDS (10), BENCH_RATE (1000; when the hub's closed-loop
// throughput is well below it, phase B also runs at half that throughput), BENCH_WARMUP_SECONDS (2),
// BENCH_LANES (negotiations in flight per pair at the fixed rate, 4), BENCH_PG_CLIENTS (the hub's pool, 10),
// DATABASE_URL (unset: the hub runs PGlite and the pgbench baseline is skipped).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as hdr from 'hdr-histogram-js';
import { io, type Socket } from 'socket.io-client';
import type { HubClient } from '../../src/client/index.js';
import {
  type BenchDatabase,
  connectAll,
  countInto,
  cpuMeter,
  envNumber,
  errorCode,
  execSql,
  type FixedRateOutcome,
  fixedRate,
  freshDatabase,
  HUB_POOL_MAX,
  hubEnv,
  listingInput,
  mapLimit,
  migrateDatabase,
  type PgbenchResult,
  progress,
  registerTraders,
  runPgbench,
  sleep,
  startBareRelay,
  startReadyHub,
  stopAll,
} from '../harness.js';
import { type HubProcess, histogram, machine, printTable, ROOT, ratio, saveResult, summary } from '../lib.js';

const CLIENTS = Math.max(2, Math.floor(envNumber('BENCH_CLIENTS', 100) / 2) * 2);
const SECONDS = envNumber('BENCH_SECONDS', 10);
const RATE = envNumber('BENCH_RATE', 1000);
const WARMUP = envNumber('BENCH_WARMUP_SECONDS', 2);
const LANES = Math.floor(envNumber('BENCH_LANES', 4));
const CLOSED_LANES = Math.max(1, Math.floor(envNumber('BENCH_CLOSED_LANES', 4)));
/** pgbench at the same concurrency as the hub's pool */
const PG_CLIENTS = Math.floor(envNumber('BENCH_PG_CLIENTS', HUB_POOL_MAX));
const ACK_TIMEOUT_MS = 20_000;
/** how long to wait after a phase for its last deliveries before counting the rest as lost */
const DELIVERY_GRACE_MS = 3_000;

const us = (ms: number) => Math.min(60_000_000, Math.max(1, Math.round(ms * 1000)));

/** How a negotiate run is shaped; the defaults come from the environment (see above). */
export interface NegotiateSettings {
  /** traders, an even number */
  clients: number;
  /** seconds per phase */
  seconds: number;
  warmup: number;
  /** negotiations in flight per pair at a fixed rate */
  lanes: number;
  /** negotiations in flight per pair in the closed loop (and for the bare relay, messages) */
  closedLanes: number;
  /** the fixed rates of phase B, given the closed-loop throughput of phase A */
  rates(closedLoopPerSecond: number): number[];
}

export const NEGOTIATE_DEFAULTS: NegotiateSettings = {
  clients: CLIENTS,
  seconds: SECONDS,
  warmup: WARMUP,
  lanes: LANES,
  closedLanes: CLOSED_LANES,
  rates: fixedRates,
};

export type Step = 'create' | 'propose' | 'counter' | 'accept';
export const STEPS: Step[] = ['create', 'propose', 'counter', 'accept'];

/** What one phase measures. */
export class Recorder {
  /** ack latency from the scheduled send (closed loop: from the send) */
  readonly ack = histogram();
  /** ack latency from the actual send (the service time) */
  readonly service = histogram();
  readonly byStep = Object.fromEntries(STEPS.map((s) => [s, histogram()])) as Record<Step, hdr.Histogram>;
  readonly delivery = histogram();
  readonly errors: Record<string, number> = {};
  /** committed commands per whole second of the phase */
  readonly perSecond: number[] = [];
  ok = 0;
  expected = 0;
  private t0 = performance.now();

  start() {
    this.t0 = performance.now();
  }

  committed(sentAt: number, dueAt: number, step: Step) {
    const now = performance.now();
    this.ok++;
    this.ack.recordValue(us(now - dueAt));
    this.service.recordValue(us(now - sentAt));
    this.byStep[step].recordValue(us(now - sentAt));
    const sec = Math.floor((now - this.t0) / 1000);
    this.perSecond[sec] = (this.perSecond[sec] ?? 0) + 1;
  }

  get failed() {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}

/** Sends waiting for their counterparty's event: key -> send time and phase. */
export class DeliveryWatch {
  private readonly waiting = new Map<string, { sentAt: number; rec: Recorder }>();

  expect(key: string, rec: Recorder, sentAt: number) {
    rec.expected++;
    this.waiting.set(key, { sentAt, rec });
  }

  cancel(key: string) {
    const w = this.waiting.get(key);
    if (w) {
      w.rec.expected--;
      this.waiting.delete(key);
    }
  }

  arrived(key: string) {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    w.rec.delivery.recordValue(us(performance.now() - w.sentAt));
  }

  /** Waits up to `ms` for the phase's deliveries; returns how many never came (and forgets them). */
  async settle(rec: Recorder, ms: number): Promise<number> {
    const end = performance.now() + ms;
    const pending = () => [...this.waiting.values()].filter((w) => w.rec === rec).length;
    while (pending() > 0 && performance.now() < end) await sleep(20);
    let lost = 0;
    for (const [k, w] of this.waiting) {
      if (w.rec === rec) {
        this.waiting.delete(k);
        lost++;
      }
    }
    return lost;
  }
}

// --- the hub ------------------------------------------------------------------------------------

export interface Pair {
  seller: HubClient;
  buyer: HubClient;
}

export interface Lane {
  pair: Pair;
  step: Step;
  listingId?: string;
  swapId?: string;
  round?: number;
}

export const deliveryKey = (
  receiverId: string,
  type: string,
  data: { id?: string; listingId?: string; round?: number },
) => {
  if (type === 'swap.proposed') return `${receiverId}|p|${data.listingId}`;
  if (type === 'swap.countered') return `${receiverId}|c|${data.id}|${data.round}`;
  if (type === 'swap.accepted') return `${receiverId}|a|${data.id}`;
  return undefined;
};

/** One command of a lane's negotiation; a failure restarts the lane with a new listing. */
export async function step(lane: Lane, rec: Recorder, watch: DeliveryWatch, dueAt?: number): Promise<void> {
  const { seller, buyer } = lane.pair;
  const current = lane.step;
  const sentAt = performance.now();
  let key: string | undefined;
  try {
    switch (current) {
      case 'create': {
        const listing = await seller.createListing(listingInput('10'));
        lane.listingId = listing.id;
        lane.step = 'propose';
        break;
      }
      case 'propose': {
        key = `${seller.user.id}|p|${lane.listingId}`;
        watch.expect(key, rec, sentAt);
        const swap = await buyer.propose({ listingId: lane.listingId!, volumeKwh: '5', pricePerKwh: '0.1' });
        lane.swapId = swap.id;
        lane.round = swap.round;
        lane.step = 'counter';
        break;
      }
      case 'counter': {
        key = `${buyer.user.id}|c|${lane.swapId}|${lane.round! + 1}`;
        watch.expect(key, rec, sentAt);
        const swap = await seller.counter({
          swapId: lane.swapId!,
          round: lane.round!,
          volumeKwh: '5',
          pricePerKwh: '0.11',
        });
        lane.round = swap.round;
        lane.step = 'accept';
        break;
      }
      case 'accept': {
        key = `${seller.user.id}|a|${lane.swapId}`;
        watch.expect(key, rec, sentAt);
        await buyer.accept(lane.swapId!, lane.round!);
        lane.step = 'create';
        break;
      }
    }
    rec.committed(sentAt, dueAt ?? sentAt, current);
  } catch (err) {
    if (key) watch.cancel(key);
    countInto(rec.errors, `${current}: ${errorCode(err)}`);
    lane.step = 'create';
  }
}

/** Runs every lane in a closed loop for `seconds`, with a progress line. */
export async function closedLoop<L>(
  label: string,
  lanes: L[],
  seconds: number,
  rec: Recorder,
  one: (lane: L) => Promise<void>,
): Promise<number> {
  const line = progress(label);
  rec.start();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const timer = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    line.update(`${s.toFixed(0)}/${seconds} s, ${Math.round(rec.ok / s)}/s, ${rec.failed} failed`);
  }, 250);
  try {
    await Promise.all(
      lanes.map(async (lane) => {
        while (performance.now() < deadline) await one(lane);
      }),
    );
  } finally {
    clearInterval(timer);
  }
  const elapsed = (performance.now() - t0) / 1000;
  line.done(`${Math.round(rec.ok / elapsed)}/s, ${rec.failed} failed`);
  return elapsed;
}

export async function openLoop<L>(
  label: string,
  rate: number,
  lanes: L[],
  rec: Recorder,
  one: (lane: L, dueAt: number) => Promise<void>,
  seconds = SECONDS,
): Promise<FixedRateOutcome> {
  const line = progress(label);
  rec.start();
  const out = await fixedRate({
    rate,
    seconds,
    workers: lanes,
    run: one,
    drainMs: 5_000,
    onTick: (s, backlog) =>
      line.update(`${s.toFixed(0)}/${seconds} s, ${rec.ok} acked, ${rec.failed} failed, backlog ${backlog}`),
  });
  line.done(
    `${out.dispatched}/${out.scheduled} sent, ${rec.ok} acked, ${rec.failed} failed, ${out.unserved} unserved`,
  );
  return out;
}

/** BENCH_RATE, and half the hub's closed-loop throughput when BENCH_RATE is well above it. */
function fixedRates(closedLoopPerSecond: number): number[] {
  const half = Math.round(closedLoopPerSecond / 2);
  return half >= 1 && half < RATE * 0.6 ? [RATE, half] : [RATE];
}

export function phaseFigures(rec: Recorder, elapsed: number, lost: number) {
  return {
    committed: rec.ok,
    failed: rec.failed,
    errors: rec.errors,
    perSecond: rec.perSecond,
    commandsPerSecond: Math.round(rec.ok / elapsed),
    ack: summary(rec.ack),
    service: summary(rec.service),
    ackByCommand: Object.fromEntries(STEPS.map((s) => [s, summary(rec.byStep[s])])) as Record<
      Step,
      ReturnType<typeof summary>
    >,
    delivery: summary(rec.delivery),
    deliveriesExpected: rec.expected,
    deliveriesLost: lost,
  };
}

/**
 * The negotiate phases against hub nodes already running at `urls`: traders registered and
 * connected round-robin over the nodes (so with two nodes the seller and the buyer of every pair
 * are on different nodes), a warm-up, phase A (closed loop) and phase B at `s.rates(...)`.
 */
export async function negotiateOnHub(
  urls: string[],
  s: NegotiateSettings = NEGOTIATE_DEFAULTS,
  name = 'hub',
  serverPids: number[] = [],
) {
  let clients: HubClient[] = [];
  try {
    clients = await registerTraders(urls, s.clients, 'neg');
    await connectAll(clients);
    const watch = new DeliveryWatch();
    for (const c of clients) {
      const me = c.user.id;
      c.onEvent((e) => {
        const key = deliveryKey(me, e.type, e.data as { id?: string; listingId?: string; round?: number });
        if (key) watch.arrived(key);
      });
    }
    const pairs: Pair[] = [];
    for (let i = 0; i < clients.length; i += 2) pairs.push({ seller: clients[i]!, buyer: clients[i + 1]! });

    const closedLanes: Lane[] = pairs.flatMap((pair) =>
      Array.from({ length: s.closedLanes }, () => ({ pair, step: 'create' as Step })),
    );
    const warm = new Recorder();
    await closedLoop(`${name} warm-up`, closedLanes, s.warmup, warm, (l) => step(l, warm, watch));
    await watch.settle(warm, DELIVERY_GRACE_MS);

    const a = new Recorder();
    const cpu = await cpuMeter(serverPids, []);
    const aElapsed = await closedLoop(
      `${name} phase A: closed loop, ${pairs.length} pairs`,
      closedLanes,
      s.seconds,
      a,
      (l) => step(l, a, watch),
    );
    const aCpu = await cpu();
    const aLost = await watch.settle(a, DELIVERY_GRACE_MS);

    const closed = { seconds: aElapsed, ...phaseFigures(a, aElapsed, aLost), cpu: aCpu };

    // phase B at the asked rate and, when that is beyond what the hub sustains, at half its
    // closed-loop throughput: latency under a load it can carry
    const rates = s.rates(closed.commandsPerSecond);
    const fixed = [];
    for (const rate of rates) {
      const openLanes: Lane[] = pairs.flatMap((pair) =>
        Array.from({ length: s.lanes }, () => ({ pair, step: 'create' as Step })),
      );
      const b = new Recorder();
      const bOut = await openLoop(
        `${name} phase B: ${rate} commands/s, ${openLanes.length} lanes`,
        rate,
        openLanes,
        b,
        (l, due) => step(l, b, watch, due),
        s.seconds,
      );
      const bLost = await watch.settle(b, DELIVERY_GRACE_MS);
      fixed.push({
        offeredPerSecond: rate,
        lanes: openLanes.length,
        ...bOut,
        achievedPerSecond: Math.round(b.ok / bOut.elapsed),
        ...phaseFigures(b, bOut.elapsed, bLost),
      });
    }
    return { closedLoop: closed, fixedRate: fixed };
  } finally {
    for (const c of clients) c.close();
  }
}

async function runHub(databaseUrl: string | undefined) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-negotiate-'));
  let hub: HubProcess | undefined;
  try {
    hub = await startReadyHub(hubEnv({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }));
    const figures = await negotiateOnHub([hub.url], NEGOTIATE_DEFAULTS, 'hub', [hub.child.pid!]);
    return { ...figures, hubAlive: hub.child.exitCode === null };
  } finally {
    await stopAll([hub]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

// --- the bare relay -----------------------------------------------------------------------------

interface RelayClient {
  id: string;
  socket: Socket;
}

interface RelayLane {
  a: RelayClient;
  b: RelayClient;
  listingId: string;
  turn: boolean;
}

async function relaySend(
  lane: RelayLane,
  rec: Recorder,
  waiting: Map<string, { sentAt: number; rec: Recorder }>,
  dueAt?: number,
) {
  const [from, to] = lane.turn ? [lane.b, lane.a] : [lane.a, lane.b];
  lane.turn = !lane.turn;
  const sentAt = performance.now();
  // the hub's swap:propose payload, plus the relay's routing fields
  const payload = {
    requestId: randomUUID(),
    listingId: lane.listingId,
    volumeKwh: '5',
    pricePerKwh: '0.1',
    to: to.id,
    sentAt,
  };
  rec.expected++;
  waiting.set(payload.requestId, { sentAt, rec });
  try {
    const answer = (await from.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('swap:propose', payload)) as {
      ok: boolean;
    };
    if (!answer.ok) throw new Error('not ok');
    rec.committed(sentAt, dueAt ?? sentAt, 'propose');
  } catch (err) {
    if (waiting.delete(payload.requestId)) rec.expected--;
    countInto(rec.errors, `propose: ${errorCode(err)}`);
  }
}

async function runRelay(rates: number[]) {
  const relay = await startBareRelay();
  try {
    return await negotiateOnRelay([relay.url], rates);
  } finally {
    await stopAll([relay]);
  }
}

/**
 * The relay's side of the comparison against relays already running at `urls`: the same number
 * of clients, round-robin over the relays (pairs split over two nodes as on the hub), closed loop
 * and the hub's fixed rates, propose only.
 */
export async function negotiateOnRelay(
  urls: string[],
  rates: number[],
  s: NegotiateSettings = NEGOTIATE_DEFAULTS,
  name = 'relay',
) {
  const sockets: Socket[] = [];
  try {
    const waiting = new Map<string, { sentAt: number; rec: Recorder }>();
    const clients: RelayClient[] = Array.from({ length: s.clients }, (_, i) => {
      const id = randomUUID();
      const socket = io(urls[i % urls.length]!, {
        transports: ['websocket'],
        auth: { userId: id },
        reconnectionDelay: 250,
      });
      sockets.push(socket);
      socket.on('event', (e: { data: { requestId: string; to: string } }) => {
        if (e.data.to !== id) return;
        const w = waiting.get(e.data.requestId);
        if (!w) return;
        waiting.delete(e.data.requestId);
        w.rec.delivery.recordValue(us(performance.now() - w.sentAt));
      });
      return { id, socket };
    });
    await mapLimit(sockets, 20, (s) =>
      s.connected ? Promise.resolve() : new Promise<void>((resolve) => s.once('connect', () => resolve())),
    );
    const settle = async (rec: Recorder) => {
      const end = performance.now() + DELIVERY_GRACE_MS;
      const pending = () => [...waiting.values()].filter((w) => w.rec === rec).length;
      while (pending() > 0 && performance.now() < end) await sleep(20);
      const lost = pending();
      for (const [k, w] of waiting) if (w.rec === rec) waiting.delete(k);
      return lost;
    };
    const lanesOf = (n: number) => {
      const lanes: RelayLane[] = [];
      for (let i = 0; i < clients.length; i += 2)
        for (let j = 0; j < n; j++)
          lanes.push({ a: clients[i]!, b: clients[i + 1]!, listingId: randomUUID(), turn: false });
      return lanes;
    };
    const closedLanes = lanesOf(s.closedLanes);
    const warm = new Recorder();
    await closedLoop(`${name} warm-up`, closedLanes, s.warmup, warm, (l) => relaySend(l, warm, waiting));
    await settle(warm);
    const a = new Recorder();
    const aElapsed = await closedLoop(
      `${name} closed loop, ${closedLanes.length} pairs`,
      closedLanes,
      s.seconds,
      a,
      (l) => relaySend(l, a, waiting),
    );
    const aLost = await settle(a);
    const figures = (rec: Recorder, elapsed: number, lost: number) => {
      const { ackByCommand: _, ...rest } = phaseFigures(rec, elapsed, lost);
      return rest;
    };
    const fixed = [];
    for (const rate of rates) {
      const openLanes = lanesOf(s.lanes);
      const b = new Recorder();
      const bOut = await openLoop(
        `${name}: ${rate} msgs/s`,
        rate,
        openLanes,
        b,
        (l, due) => relaySend(l, b, waiting, due),
        s.seconds,
      );
      const bLost = await settle(b);
      fixed.push({
        offeredPerSecond: rate,
        lanes: openLanes.length,
        ...bOut,
        achievedPerSecond: Math.round(b.ok / bOut.elapsed),
        ...figures(b, bOut.elapsed, bLost),
      });
    }
    return { closedLoop: { seconds: aElapsed, ...figures(a, aElapsed, aLost) }, fixedRate: fixed };
  } finally {
    for (const socket of sockets) socket.close();
  }
}

// --- pgbench: the SQL of one propose ----------------------------------------------------------

const PG_LISTINGS = 1000;
const PG_SELLERS = 50;
/** buyers per pgbench client; with PG_LISTINGS, 200,000 distinct proposals per client */
const PG_BUYERS = 200;

async function runPgbenchPropose(adminUrl: string): Promise<PgbenchResult & { database: string }> {
  const line = progress('pgbench propose.sql');
  let db: BenchDatabase | undefined;
  try {
    db = await freshDatabase(adminUrl, 'renex_pgb_negotiate');
    line.update('migrating and seeding');
    await migrateDatabase(db.url);
    await execSql(
      db.url,
      `INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('s' || i)::uuid, 's' || i || '@pgbench', 'x', 's' || i FROM generate_series(1, ${PG_SELLERS}) i;
       INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('b' || i)::uuid, 'b' || i || '@pgbench', 'x', 'b' || i
         FROM generate_series(1, ${PG_CLIENTS * PG_BUYERS}) i;
       INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
                             delivery_start, delivery_end, zone, description, status, version, created_at, updated_at)
         SELECT md5('l' || i)::uuid, md5('s' || (1 + (i - 1) % ${PG_SELLERS}))::uuid, 'supply', 'solar', 10000, 10000,
                1000, 'EUR', now() + interval '1 day', now() + interval '25 hours', 'BENCH', '', 'active', 1, now(), now()
         FROM generate_series(1, ${PG_LISTINGS}) i;
       ANALYZE;`,
    );
    line.update(`running ${SECONDS} s with ${PG_CLIENTS} clients`);
    const r = await runPgbench({
      url: db.url,
      script: path.join(ROOT, 'bench/sql/propose.sql'),
      clients: PG_CLIENTS,
      threads: Math.min(2, PG_CLIENTS),
      seconds: SECONDS,
      defines: { k: 0, nlistings: PG_LISTINGS, nbuyers: PG_BUYERS },
    });
    line.done(r.error ?? `${Math.round(r.tps)} tps`);
    return { ...r, database: db.name };
  } finally {
    await db?.drop();
  }
}

// --- the run ------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  console.log(
    `negotiate: ${CLIENTS} traders (${CLIENTS / 2} pairs), ${SECONDS} s per phase after ${WARMUP} s warm-up, ` +
      `fixed rate ${RATE}/s over ${LANES} lanes per pair, database ${adminUrl ? 'PostgreSQL' : 'PGlite (embedded)'}`,
  );
  let hubDb: BenchDatabase | undefined;
  let hubFigures: Awaited<ReturnType<typeof runHub>>;
  try {
    if (adminUrl) hubDb = await freshDatabase(adminUrl, 'renex_bench_negotiate');
    hubFigures = await runHub(hubDb?.url);
  } finally {
    await hubDb?.drop();
  }
  const rates = hubFigures.fixedRate.map((f) => f.offeredPerSecond);
  const relay = await runRelay(rates);
  let pgbench: Awaited<ReturnType<typeof runPgbenchPropose>> | undefined;
  if (adminUrl) pgbench = await runPgbenchPropose(adminUrl);
  else console.log('pgbench baseline skipped: DATABASE_URL unset (the hub ran on PGlite)');

  const hubA = hubFigures.closedLoop;
  const result = {
    workload: 'negotiate',
    machine: machine(),
    parameters: {
      clients: CLIENTS,
      pairs: CLIENTS / 2,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      rate: RATE,
      fixedRates: rates,
      lanesPerPairAtFixedRate: LANES,
      lanesPerPairClosedLoop: CLOSED_LANES,
      database: adminUrl ? 'postgres' : 'pglite',
      hubPoolMax: HUB_POOL_MAX,
      pgbenchClients: PG_CLIENTS,
      ackTimeoutMs: ACK_TIMEOUT_MS,
      transport: 'websocket',
    },
    baseline: {
      bareRelay: relay,
      pgbenchPropose: pgbench ?? { skipped: 'DATABASE_URL unset' },
    },
    hub: hubFigures,
    ratio: {
      hubCommandsToPgbenchTps: ratio(hubA.commandsPerSecond, pgbench?.error ? undefined : pgbench?.tps),
      hubCommandsToRelayMsgs: ratio(hubA.commandsPerSecond, relay.closedLoop.commandsPerSecond),
      hubP99AckToRelayP99AckAtFixedRate: hubFigures.fixedRate.map((f, i) =>
        ratio(f.ack.p99ms, relay.fixedRate[i]?.ack.p99ms),
      ),
    },
  };

  const p3 = (s: { p50ms: number; p99ms: number; p999ms: number }) => `${s.p50ms} / ${s.p99ms} / ${s.p999ms}`;
  const p2 = (s: { p50ms: number; p99ms: number }) => `${s.p50ms} / ${s.p99ms}`;
  const rows: Record<string, string | number>[] = [
    {
      figure: `hub commands/s, closed loop (${(CLIENTS / 2) * CLOSED_LANES} in flight)`,
      value: hubA.commandsPerSecond,
    },
    {
      figure: `pgbench propose.sql tps (${PG_CLIENTS} clients)`,
      value: pgbench ? (pgbench.error ? `error: ${pgbench.error}` : Math.round(pgbench.tps)) : 'skipped',
    },
    { figure: 'bare relay msgs/s, closed loop', value: relay.closedLoop.commandsPerSecond },
    { figure: 'ratio hub : pgbench', value: result.ratio.hubCommandsToPgbenchTps ?? '-' },
    { figure: 'ratio hub : bare relay', value: result.ratio.hubCommandsToRelayMsgs ?? '-' },
    { figure: 'hub ack p50 / p99 / p99.9, closed loop (ms)', value: p3(hubA.service) },
    { figure: 'relay ack p50 / p99 / p99.9, closed loop (ms)', value: p3(relay.closedLoop.service) },
    { figure: 'hub delivery p50 / p99, closed loop (ms)', value: p2(hubA.delivery) },
    { figure: 'relay delivery p50 / p99, closed loop (ms)', value: p2(relay.closedLoop.delivery) },
    {
      figure: 'CPU cores, closed loop: hub / postgres / clients / machine',
      value: `${hubA.cpu.server} / ${hubA.cpu.postgres} / ${hubA.cpu.bench} / ${hubA.cpu.machine}`,
    },
  ];
  hubFigures.fixedRate.forEach((f, i) => {
    const r = relay.fixedRate[i]!;
    rows.push(
      {
        figure: `hub ack p50 / p99 / p99.9 at ${f.offeredPerSecond}/s (ms)`,
        value: `${p3(f.ack)}  (achieved ${f.achievedPerSecond}/s, unserved ${f.unserved}, failed ${f.failed})`,
      },
      {
        figure: `relay ack p50 / p99 / p99.9 at ${r.offeredPerSecond}/s (ms)`,
        value: `${p3(r.ack)}  (achieved ${r.achievedPerSecond}/s)`,
      },
      { figure: `hub delivery p50 / p99 at ${f.offeredPerSecond}/s (ms)`, value: p2(f.delivery) },
      { figure: `relay delivery p50 / p99 at ${r.offeredPerSecond}/s (ms)`, value: p2(r.delivery) },
    );
  });
  const lost = hubA.deliveriesLost + hubFigures.fixedRate.reduce((a, f) => a + f.deliveriesLost, 0);
  const failed = hubA.failed + hubFigures.fixedRate.reduce((a, f) => a + f.failed, 0);
  rows.push(
    { figure: 'hub failed commands (all phases)', value: failed },
    { figure: 'hub deliveries lost (all phases)', value: lost },
  );
  printTable(rows);
  printTable(
    STEPS.map((s) => ({
      'hub command (closed loop)': s,
      'p50 ms': hubA.ackByCommand[s].p50ms,
      'p99 ms': hubA.ackByCommand[s].p99ms,
      count: hubA.ackByCommand[s].count,
    })),
  );
  const errs: Record<string, number> = { ...hubA.errors };
  for (const f of hubFigures.fixedRate)
    for (const [k, v] of Object.entries(f.errors)) errs[`at ${f.offeredPerSecond}/s ${k}`] = v;
  if (Object.keys(errs).length) console.log('hub errors:', errs);
  if (!hubFigures.hubAlive) console.log('WARNING: the hub process had exited before the end of the run');
  console.log(`saved ${await saveResult('negotiate', result)}`);
}
