// Traders of a workload: registered over REST, each with a meter, connected, and the listing they post.
import { randomBytes } from 'node:crypto';
import { HubClient, type Meter } from '../../src/client/index.js';
import { mapLimit, PASSWORD } from './basics.js';
import { progress } from './progress.js';

/** The zone the workloads trade in: one of the hub's built-in zones (PROTOCOL-MARKET.md). */
export const BENCH_ZONE = 'DE-North';

/**
 * A workload's trader: a HubClient and the meter its listings and proposals name. The meter has
 * the largest capacities the hub takes (1000000 kW each way: 500000 kWh a 60-minute slot at the
 * default capFactor 0.5), so trading limits never bound a workload.
 */
export type BenchTrader = HubClient & { meterId: string };

/**
 * Registers `n` traders over REST on `urls[i % urls.length]` (8 at a time: argon2 hashes on the
 * hub), with one attempt per command and a long ack timeout, so every failure is counted; each
 * registers a meter (POST /api/v1/meters) unless `meters` is false (workloads that do not trade).
 */
export async function registerTraders(
  urls: string[],
  n: number,
  tag: string,
  { meters = true }: { meters?: boolean } = {},
): Promise<BenchTrader[]> {
  const run = randomBytes(4).toString('hex');
  const line = progress(`registering ${n} traders`);
  let done = 0;
  try {
    return await mapLimit(
      Array.from({ length: n }, (_, i) => i),
      8,
      async (i) => {
        const c = await HubClient.register(
          urls[i % urls.length]!,
          { email: `${tag}-${run}-${i}@bench.renex`, password: PASSWORD, displayName: `${tag}${i}` },
          { attempts: 1, ackTimeoutMs: 30_000 },
        );
        const t = c as BenchTrader;
        if (meters) {
          const meter = await c.rest<Meter>('POST', '/api/v1/meters', {
            externalId: `BENCH-${tag}-${run}-${i}`,
            zone: BENCH_ZONE,
            exportCapacityKw: '1000000',
            importCapacityKw: '1000000',
            label: `${tag}${i}`,
          });
          t.meterId = meter.id;
        }
        line.update(`${++done}/${n}`);
        return t;
      },
    );
  } finally {
    line.done();
  }
}

export async function connectAll(clients: HubClient[]): Promise<void> {
  const line = progress(`connecting ${clients.length} sockets`);
  let done = 0;
  try {
    await mapLimit(clients, 20, async (c) => {
      await c.connect();
      line.update(`${++done}/${clients.length}`);
    });
  } finally {
    line.done();
  }
}

/**
 * A listing input on `meterId` delivering one day ahead for an hour: one 60-minute slot of
 * BENCH_ZONE's grid, far past its gate. At most 500000 kWh (the meter's slot limit).
 */
export function listingInput(volumeKwh: string, meterId: string, pricePerKwh = '0.1000') {
  const start = new Date(Date.now() + 24 * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    side: 'supply' as const,
    energyType: 'solar',
    volumeKwh,
    pricePerKwh,
    deliveryStart: start.toISOString(),
    deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
    zone: BENCH_ZONE,
    meterId,
  };
}
