import { type CpuSplit, cpuMeter, type Swarm, sleep, syncClocks } from '../../harness.js';
import { closeAll, openAll } from './open-sockets.js';
import { CAPACITY_SOCKETS, IN_FLIGHT, RATE, SETTLE_MS, SOCKETS, WARMUP_SOCKETS } from './settings.js';

export interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
}

/** A server under test: the hub or the bare relay. */
export interface ServerUnderTest {
  name: string;
  url: string;
  pid: number;
  swarms: Swarm[];
  auth(i: number): Record<string, unknown>;
  readyOn: 'connect' | 'sync' | 'subscribe';
  memory(): Promise<Memory>;
  /** sockets the server itself counts as connected, when it tells */
  socketsSeen?(): Promise<number>;
}

const auths = (opts: ServerUnderTest, n: number) => Array.from({ length: n }, (_, i) => opts.auth(i));

/** Warm-up, then the fixed-rate phase and the memory per socket of one server. */
export async function measureServer(opts: ServerUnderTest) {
  const { swarms } = opts;
  try {
    const clocks = await syncClocks(swarms);
    await openAll(
      swarms,
      opts.url,
      auths(opts, WARMUP_SOCKETS),
      { rate: 500 },
      opts.readyOn,
      `${opts.name}: warm-up`,
    );
    await closeAll(swarms);
    await sleep(SETTLE_MS);
    const idle = await opts.memory();

    const cpu = await cpuMeter([opts.pid], swarms);
    const fixed = await openAll(
      swarms,
      opts.url,
      auths(opts, SOCKETS),
      { rate: RATE },
      opts.readyOn,
      `${opts.name}: ${SOCKETS} sockets at ${RATE}/s`,
    );
    const cpuSplit: CpuSplit = await cpu();
    await sleep(SETTLE_MS);
    const loaded = await opts.memory();
    const seen = await opts.socketsSeen?.();
    await closeAll(swarms);

    const perConn = (a: number, b: number) =>
      fixed.connected ? Math.round((b - a) / fixed.connected) : null;
    return {
      clocks,
      fixedRate: { ...fixed, cpu: cpuSplit },
      memory: {
        idle,
        loaded,
        socketsSeenByServer: seen ?? null,
        rssPerConnectionBytes: perConn(idle.rssBytes, loaded.rssBytes),
        heapPerConnectionBytes: perConn(idle.heapUsedBytes, loaded.heapUsedBytes),
      },
    };
  } finally {
    await closeAll(swarms).catch(() => undefined);
  }
}

export type Capacity = Awaited<ReturnType<typeof openAll>> & { cpu: CpuSplit };

/** One capacity phase: CAPACITY_SOCKETS sockets in a closed loop of IN_FLIGHT handshakes. */
async function capacityPhase(opts: ServerUnderTest, round: number): Promise<Capacity> {
  await sleep(SETTLE_MS);
  const cpu = await cpuMeter([opts.pid], opts.swarms);
  const c = await openAll(
    opts.swarms,
    opts.url,
    auths(opts, CAPACITY_SOCKETS),
    { rate: 1_000_000, maxInFlight: IN_FLIGHT },
    opts.readyOn,
    `${opts.name}: capacity round ${round}, ${CAPACITY_SOCKETS} sockets, ${IN_FLIGHT} in flight`,
  );
  const split = await cpu();
  await closeAll(opts.swarms);
  return { ...c, cpu: split };
}

/**
 * Capacity of two servers, measured in `rounds` rounds that alternate between them (a then b, then
 * b then a, ...): each round's ratio compares two phases next to each other in time, so the box's
 * drift over a run (other work, a slower spell) falls on both. The ratio is the median of the
 * rounds' ratios.
 */
export async function capacityRounds(a: ServerUnderTest, b: ServerUnderTest, rounds: number) {
  const results: { a: Capacity; b: Capacity; ratio: number }[] = [];
  for (let r = 1; r <= rounds; r++) {
    const aFirst = r % 2 === 1;
    const first = await capacityPhase(aFirst ? a : b, r);
    const second = await capacityPhase(aFirst ? b : a, r);
    const [ca, cb] = aFirst ? [first, second] : [second, first];
    results.push({ a: ca, b: cb, ratio: ca.handshakesPerSecond / cb.handshakesPerSecond });
  }
  const byRatio = [...results].sort((x, y) => x.ratio - y.ratio);
  const median = byRatio[Math.floor((byRatio.length - 1) / 2)]!;
  return { rounds: results, median };
}
