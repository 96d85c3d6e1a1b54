// delivery: how long an event takes from a command's send to the counterparty's socket, with both
// traders on one node and with them on two nodes over Redis, measured in the same run at the same
// fixed offered rate. Needs DATABASE_URL and REDIS_URL.
import type { HubClient } from '../../src/client/index.js';
import {
  connectAll,
  dropRedisPrefix,
  envNumber,
  fixedRate,
  freshDatabase,
  hubEnv,
  listingInput,
  metricHistogramDelta,
  progress,
  registerTraders,
  scrapeMetrics,
  startReadyHub,
  stopAll,
} from '../harness.js';
import { histogram, machine, printTable, saveResult, summary } from '../lib.js';

export async function run(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    console.log('delivery: skipped (needs DATABASE_URL and REDIS_URL for two nodes)');
    return;
  }
  const pairs = envNumber('BENCH_PAIRS', 20);
  const rate = envNumber('BENCH_RATE', 100);
  const seconds = envNumber('BENCH_SECONDS', 10);
  const db = await freshDatabase(databaseUrl, 'renex_bench_delivery');
  const prefix = `bench-delivery-${db.name}`;
  const env = hubEnv({ DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' });
  const a = await startReadyHub(env);
  const b = await startReadyHub(env);
  const clients: HubClient[] = [];
  try {
    // sellers on node A; buyer i on A for even i (same node), on B for odd i (cross node)
    const sellers = await registerTraders([a.url], pairs, 'seller');
    const buyers = await registerTraders([a.url, b.url], pairs, 'buyer');
    clients.push(...sellers, ...buyers);
    await connectAll(clients);
    const listings = await Promise.all(
      sellers.map((s) => s.createListing(listingInput('100000', s.meterId))),
    );

    const sentAt = new Map<string, number>();
    const hist = { same: histogram(), cross: histogram() };
    let recording = false;
    sellers.forEach((seller, i) => {
      seller.onEvent((e) => {
        if (e.type !== 'swap.proposed') return;
        const t = sentAt.get((e.data as { initiatorId: string }).initiatorId);
        if (t === undefined || !recording) return;
        hist[i % 2 ? 'cross' : 'same'].recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
      });
    });
    const lanes = buyers.map((buyer, i) => ({ buyer, listingId: listings[i]!.id }));
    const step = async ({ buyer, listingId }: (typeof lanes)[number]) => {
      sentAt.set(buyer.user.id, performance.now());
      const s = await buyer.propose({
        listingId,
        meterId: buyer.meterId,
        volumeKwh: '1',
        pricePerKwh: '0.1',
      });
      await buyer.withdraw(s.id);
    };
    // warm-up, then the measured run at a fixed offered rate (each step is one propose and one withdraw)
    await fixedRate({ rate: rate / 2, seconds: 2, workers: lanes, run: (l) => step(l), drainMs: 5000 });
    recording = true;
    const before = await Promise.all([a, b].map((h) => scrapeMetrics(h.url)));
    const line = progress(`delivery at ${rate} commands/s`);
    const outcome = await fixedRate({
      rate: rate / 2,
      seconds,
      workers: lanes,
      run: (l) => step(l),
      drainMs: 5000,
      onTick: (t) => line.update(`${t.toFixed(0)}/${seconds} s`),
    });
    line.done();
    await new Promise((r) => setTimeout(r, 500));
    const after = await Promise.all([a, b].map((h) => scrapeMetrics(h.url)));
    // inside each hub: a command from arrival to answer, and its transaction
    const hubSide = ['A', 'B'].map((node, i) => ({
      node,
      commandMs: metricHistogramDelta(before[i]!, after[i]!, 'hub_command_duration_seconds'),
      transactionMs: metricHistogramDelta(before[i]!, after[i]!, 'hub_transaction_duration_seconds'),
    }));

    const same = summary(hist.same);
    const cross = summary(hist.cross);
    const result = {
      workload: 'delivery',
      machine: machine(),
      parameters: { pairs, offeredCommandsPerSecond: rate, seconds, nodes: 2 },
      outcome,
      hubSide,
      sameNode: same,
      crossNode: cross,
      ratio: {
        p50: Number((cross.p50ms / same.p50ms).toFixed(2)),
        p99: Number((cross.p99ms / same.p99ms).toFixed(2)),
      },
    };
    printTable([
      { figure: 'delivery p50 same node (ms)', value: same.p50ms },
      { figure: 'delivery p50 cross node (ms)', value: cross.p50ms },
      { figure: 'delivery p99 same node (ms)', value: same.p99ms },
      { figure: 'delivery p99 cross node (ms)', value: cross.p99ms },
      { figure: 'ratio cross : same (p50 / p99)', value: `${result.ratio.p50} / ${result.ratio.p99}` },
      { figure: 'samples (same / cross)', value: `${same.count} / ${cross.count}` },
      ...hubSide.map((h) => ({
        figure: `node ${h.node}: command / transaction mean ms (p99 bucket)`,
        value: `${h.commandMs.meanMs} (${h.commandMs.p99UpToMs}) / ${h.transactionMs.meanMs} (${h.transactionMs.p99UpToMs})`,
      })),
    ]);
    console.log(`saved ${await saveResult('delivery', result)}`);
  } finally {
    for (const c of clients) c.close();
    await stopAll([a, b]);
    await db.drop();
    await dropRedisPrefix(redisUrl, prefix);
  }
}
