// negotiate against hub nodes: pairs of traders run create -> propose -> counter -> accept.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type BenchTrader,
  connectAll,
  countInto,
  cpuMeter,
  errorCode,
  hubEnv,
  listingInput,
  registerTraders,
  startReadyHub,
  stopAll,
} from '../../harness.js';
import type { HubProcess } from '../../lib.js';
import { closedLoop, openLoop } from './loops.js';
import { DeliveryWatch, phaseFigures, Recorder, type Step } from './recorder.js';
import { DELIVERY_GRACE_MS, NEGOTIATE_DEFAULTS, type NegotiateSettings } from './settings.js';

export interface Pair {
  seller: BenchTrader;
  buyer: BenchTrader;
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
        const listing = await seller.createListing(listingInput('10', seller.meterId));
        lane.listingId = listing.id;
        lane.step = 'propose';
        break;
      }
      case 'propose': {
        key = `${seller.user.id}|p|${lane.listingId}`;
        watch.expect(key, rec, sentAt);
        const swap = await buyer.propose({
          listingId: lane.listingId!,
          meterId: buyer.meterId,
          volumeKwh: '5',
          pricePerKwh: '0.1',
        });
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

/** What a workload built on the negotiate phases adds to them (webhooks: its receivers). */
export interface NegotiateHooks {
  /** with the traders registered and connected, before the warm-up (e.g. their webhooks); the hub nodes' pids */
  prepare?(clients: BenchTrader[], serverPids: number[]): Promise<void>;
  /** as each phase starts and as its load stops (before its deliveries settle) */
  onPhase?(phase: 'warm-up' | 'A' | 'B', edge: 'start' | 'end'): void | Promise<void>;
  /** after the phases, the nodes still running and the traders still connected */
  finish?(): Promise<void>;
}

/**
 * The negotiate phases against hub nodes already running at `urls`: traders registered and
 * connected round-robin over the nodes (so with two nodes the seller and the buyer of every pair
 * are on different nodes), a warm-up, phase A (closed loop) and phase B at `s.rates(...)` (none
 * when it gives no rate).
 */
export async function negotiateOnHub(
  urls: string[],
  s: NegotiateSettings = NEGOTIATE_DEFAULTS,
  name = 'hub',
  serverPids: number[] = [],
  hooks: NegotiateHooks = {},
) {
  let clients: BenchTrader[] = [];
  try {
    clients = await registerTraders(urls, s.clients, 'neg');
    await connectAll(clients);
    await hooks.prepare?.(clients, serverPids);
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
    await hooks.onPhase?.('warm-up', 'start');
    await closedLoop(`${name} warm-up`, closedLanes, s.warmup, warm, (l) => step(l, warm, watch));
    await hooks.onPhase?.('warm-up', 'end');
    await watch.settle(warm, DELIVERY_GRACE_MS);

    const a = new Recorder();
    await hooks.onPhase?.('A', 'start');
    const cpu = await cpuMeter(serverPids, []);
    const aElapsed = await closedLoop(
      `${name} phase A: closed loop, ${pairs.length} pairs`,
      closedLanes,
      s.seconds,
      a,
      (l) => step(l, a, watch),
    );
    const aCpu = await cpu();
    await hooks.onPhase?.('A', 'end');
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
      await hooks.onPhase?.('B', 'start');
      const bOut = await openLoop(
        `${name} phase B: ${rate} commands/s, ${openLanes.length} lanes`,
        rate,
        openLanes,
        b,
        (l, due) => step(l, b, watch, due),
        s.seconds,
      );
      await hooks.onPhase?.('B', 'end');
      const bLost = await watch.settle(b, DELIVERY_GRACE_MS);
      fixed.push({
        offeredPerSecond: rate,
        lanes: openLanes.length,
        ...bOut,
        achievedPerSecond: Math.round(b.ok / bOut.elapsed),
        ...phaseFigures(b, bOut.elapsed, bLost),
      });
    }
    await hooks.finish?.();
    return { closedLoop: closed, fixedRate: fixed };
  } finally {
    for (const c of clients) c.close();
  }
}

/** One hub node on `databaseUrl` (with `env` added to the bench's) and the negotiate phases against it. */
export async function runHub(
  databaseUrl: string | undefined,
  {
    settings = NEGOTIATE_DEFAULTS,
    name = 'hub',
    env = {},
    hooks = {},
  }: {
    settings?: NegotiateSettings;
    name?: string;
    env?: Record<string, string>;
    hooks?: NegotiateHooks;
  } = {},
) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-negotiate-'));
  let hub: HubProcess | undefined;
  try {
    hub = await startReadyHub(hubEnv({ ...env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir }));
    const figures = await negotiateOnHub([hub.url], settings, name, [hub.child.pid!], hooks);
    return { ...figures, hubAlive: hub.child.exitCode === null };
  } finally {
    await stopAll([hub]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
