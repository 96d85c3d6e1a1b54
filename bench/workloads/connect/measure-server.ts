import { type CpuSplit, cpuMeter, type Swarm, sleep, syncClocks } from '../../harness.js';
import { closeAll, openAll } from './open-sockets.js';
import { CAPACITY_SOCKETS, IN_FLIGHT, RATE, SETTLE_MS, SOCKETS, WARMUP_SOCKETS } from './settings.js';

export interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
}

export async function measureServer(opts: {
  name: string;
  url: string;
  pid: number;
  swarms: Swarm[];
  auth(i: number): Record<string, unknown>;
  readyOn: 'connect' | 'sync' | 'subscribe';
  memory(): Promise<Memory>;
  /** sockets the server itself counts as connected, when it tells */
  socketsSeen?(): Promise<number>;
}) {
  const { swarms } = opts;
  try {
    const auths = (n: number) => Array.from({ length: n }, (_, i) => opts.auth(i));
    const clocks = await syncClocks(swarms);
    await openAll(
      swarms,
      opts.url,
      auths(WARMUP_SOCKETS),
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
      auths(SOCKETS),
      { rate: RATE },
      opts.readyOn,
      `${opts.name}: ${SOCKETS} sockets at ${RATE}/s`,
    );
    const cpuSplit: CpuSplit = await cpu();
    await sleep(SETTLE_MS);
    const loaded = await opts.memory();
    const seen = await opts.socketsSeen?.();
    await closeAll(swarms);

    let capacity: (Awaited<ReturnType<typeof openAll>> & { cpu: CpuSplit }) | undefined;
    if (IN_FLIGHT > 0) {
      await sleep(SETTLE_MS);
      const cpu2 = await cpuMeter([opts.pid], swarms);
      const c = await openAll(
        swarms,
        opts.url,
        auths(CAPACITY_SOCKETS),
        { rate: 1_000_000, maxInFlight: IN_FLIGHT },
        opts.readyOn,
        `${opts.name}: capacity, ${CAPACITY_SOCKETS} sockets, ${IN_FLIGHT} in flight`,
      );
      capacity = { ...c, cpu: await cpu2() };
      await closeAll(swarms);
    }
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
      capacity: capacity ?? { skipped: 'BENCH_CONNECT_INFLIGHT=0' },
    };
  } finally {
    await closeAll(swarms).catch(() => undefined);
  }
}
