// Traders of a workload: registered over REST, connected, and the listing they post.
import { randomBytes } from 'node:crypto';
import { HubClient } from '../../src/client/index.js';
import { mapLimit, PASSWORD } from './basics.js';
import { progress } from './progress.js';

/**
 * Registers `n` traders over REST on `urls[i % urls.length]` (8 at a time: argon2 hashes on the
 * hub), with one attempt per command and a long ack timeout, so every failure is counted.
 */
export async function registerTraders(urls: string[], n: number, tag: string): Promise<HubClient[]> {
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
        line.update(`${++done}/${n}`);
        return c;
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

/** A listing input delivering one day ahead for an hour. */
export function listingInput(volumeKwh: string, pricePerKwh = '0.1000') {
  const start = new Date(Date.now() + 24 * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    side: 'supply' as const,
    energyType: 'solar',
    volumeKwh,
    pricePerKwh,
    deliveryStart: start.toISOString(),
    deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
    zone: 'BENCH',
  };
}
