// relay: the ceiling of the outbox relay. One node of the cluster relays the whole log (docs/delivery.md):
// how many events per second does it carry to three nodes before delivery latency climbs, and is that
// below what three nodes commit? Three hub nodes (BENCH_RELAY_NODES) on a fresh database and the run's
// Redis (a Redis Cluster of its own by default, BENCH_REDIS_CLUSTER=0: REDIS_URL; see cluster/redis.ts),
// BENCH_RELAY_SUBSCRIBERS_PER_NODE feed sockets (1) on every node, one swarm process per node; every event is a
// listing.created, so it reaches every socket, and latency runs from its stamp to the socket's receipt.
//   A. commits: create-listing commands from one publisher per node, closed loop
//      (BENCH_RELAY_LANES per node, 16): the events/s three nodes commit, and the latency meanwhile;
//   B. the same commands at fixed shares of A's rate (BENCH_RELAY_COMMAND_SHARES, "0.5,0.9");
//   C. the relay alone: events written straight into the log with SQL at rising fixed rates
//      (BENCH_RELAY_RATES, "1000,2000,4000,8000,12000,16000"), whatever is due in one INSERT, the relay kicked
//      after each through the adapter as a commit kicks it. The ceilings: the highest rates at which every
//      event arrives and p99 stays within 50 ms (a quiet stream) and within 250 ms (carried).
// BENCH_RELAY_SECONDS (5) per phase. Needs DATABASE_URL.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  envNumber,
  freshDatabase,
  hubEnv,
  registerTraders,
  scrapeMetrics,
  startReadyHub,
  startSwarms,
  stopAll,
  syncClocks,
} from '../harness.js';
import { type HubProcess, machine, printTable, saveResult } from '../lib.js';
import { benchRedis } from './cluster/redis.js';
import { commandsAt, commandsClosed, insertsAt, measure, relayKicker } from './cluster/relay-drivers.js';

const NODES = Math.floor(envNumber('BENCH_RELAY_NODES', 3));
const SECONDS = envNumber('BENCH_RELAY_SECONDS', 5);
const LANES = Math.floor(envNumber('BENCH_RELAY_LANES', 16));
const PER_NODE = Math.floor(envNumber('BENCH_RELAY_SUBSCRIBERS_PER_NODE', 1));
const list = (name: string, fallback: string) =>
  (process.env[name] || fallback)
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const SHARES = list('BENCH_RELAY_COMMAND_SHARES', '0.5,0.9');
const RATES = list('BENCH_RELAY_RATES', '1000,2000,4000,8000,12000,16000');

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  if (!adminUrl) return void console.log('relay: skipped (needs DATABASE_URL)');
  const redis = await benchRedis();
  if (typeof redis === 'string') return void console.log(`relay: skipped (${redis})`);
  console.log(
    `relay: ${NODES} hub nodes, ${redis.where}; ${PER_NODE} feed socket(s) per node; ${SECONDS} s per phase; ` +
      `commands closed loop (${LANES} lanes per node), at ${SHARES.join(', ')} of it; SQL inserts at ${RATES.join(', ')} events/s`,
  );
  const db = await freshDatabase(adminUrl, 'renex_bench_relay');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-relay-'));
  const ns = redis.namespace('relay');
  const hubs: HubProcess[] = [];
  const clients: { close(): void }[] = [];
  // one swarm process per node, holding that node's sockets: latency per node
  const swarms = await startSwarms(NODES);
  let kicker: Awaited<ReturnType<typeof relayKicker>> | undefined;
  const t0 = performance.now();
  const load0 = os.loadavg().map((l) => Number(l.toFixed(2)));
  try {
    const env = hubEnv({ DATABASE_URL: db.url, DATA_DIR: dataDir, ...ns.env });
    for (let i = 0; i < NODES; i++) hubs.push(await startReadyHub(env));
    const urls = hubs.map((h) => h.url);
    const pids = [...hubs.map((h) => h.child.pid!)];
    // trader i on node i publishes; the last one's token opens the subscriber sockets on every node
    const traders = await registerTraders(urls, NODES + 1, 'relay');
    clients.push(...traders);
    const publishers = traders.slice(0, NODES);
    await Promise.all(publishers.map((p) => p.connect()));
    const token = traders[NODES]!.session.accessToken;
    const opened = await Promise.all(
      swarms.map((sw, k) =>
        sw.call<{ subscribed: number; failed: number }>('open', {
          url: [urls[k]],
          auths: Array.from({ length: PER_NODE }, () => ({ token })),
          rate: 100,
          maxInFlight: 4,
          readyOn: 'subscribe',
          timeoutMs: 30_000,
          retries: 3,
        }),
      ),
    );
    const subs = opened.reduce((a, o) => a + o.subscribed, 0);
    if (subs !== NODES * PER_NODE) throw new Error(`only ${subs} of ${NODES * PER_NODE} sockets subscribed`);
    await syncClocks(swarms);
    await measure('warm-up', swarms, subs, pids, () => commandsClosed(publishers, LANES, 1));
    let template: Awaited<ReturnType<typeof commandsClosed>>['template'];
    const closed = await measure('A: commands, closed loop', swarms, subs, pids, async () => {
      const d = await commandsClosed(publishers, LANES, SECONDS);
      template = d.template;
      return d;
    });
    const fixed = [];
    for (const share of SHARES) {
      const rate = Math.max(1, Math.round(closed.eventsPerSecond * share));
      fixed.push({
        share,
        offered: rate,
        ...(await measure(`B: commands at ${rate}/s`, swarms, subs, pids, () =>
          commandsAt(publishers, rate, SECONDS),
        )),
      });
    }
    // the relay's node: the one that published (hub_events_published_total counts on the relay only)
    const published = await Promise.all(
      urls.map(async (u) => (await scrapeMetrics(u)).get('hub_events_published_total') ?? 0),
    );
    const relayNode = published.indexOf(Math.max(...published));
    kicker = await relayKicker(ns.env);
    const kick = kicker.kick;
    const measureInserts = (rate: number, seconds = SECONDS) =>
      measure(`C: SQL inserts at ${rate}/s`, swarms, subs, pids, () =>
        insertsAt(db.url, kick, template!, rate, seconds),
      );
    await measureInserts(RATES[0]!, 1); // warm-up: the kicker's adapter, the relay's first reads
    const inserts: ({ offered: number } & Awaited<ReturnType<typeof measureInserts>>)[] = [];
    for (const rate of RATES) {
      const m = await measureInserts(rate);
      inserts.push({ offered: rate, ...m });
      if (m.latency.p99ms > 5_000 || m.lost > m.deliveriesExpected / 2) break; // far past the ceiling
    }
    // a rate passes a bound when every event arrived, >= 95 % of it was inserted and p99 stayed within
    // the bound; the ceiling under a bound is the highest rate that passes it
    const ceilingWithin = (p99Ms: number) =>
      Math.max(
        0,
        ...inserts
          .filter((r) => r.lost === 0 && r.latency.p99ms <= p99Ms && r.eventsPerSecond >= r.offered * 0.95)
          .map((r) => r.offered),
      ) || null;
    const ceiling = { p99Within50ms: ceilingWithin(50), p99Within250ms: ceilingWithin(250) };
    const result = {
      workload: 'relay',
      machine: machine(),
      parameters: {
        nodes: NODES,
        seconds: SECONDS,
        lanesPerNode: LANES,
        subscribersPerNode: PER_NODE,
        commandShares: SHARES,
        insertRates: RATES,
        redis: redis.where,
        redisMode: redis.mode,
        ceilingRule:
          'highest insert rate with every event delivered, >= 95 % of the offered rate inserted and p99 within 50 ms (quiet) or 250 ms (carried)',
        runSeconds: Math.round((performance.now() - t0) / 1000),
        /** 1-, 5- and 15-minute load at the start and the end (the box is shared) */
        loadAverage: { start: load0, end: os.loadavg().map((l) => Number(l.toFixed(2))) },
      },
      commandsClosedLoop: closed,
      commandsFixedRate: fixed,
      relayAlone: inserts,
      relayNode,
      relayCeilingEventsPerSecond: ceiling,
      threeNodesCommitEventsPerSecond: closed.eventsPerSecond,
      ceilingToCommits: {
        p99Within50ms:
          ceiling.p99Within50ms && Number((ceiling.p99Within50ms / closed.eventsPerSecond).toFixed(1)),
        p99Within250ms:
          ceiling.p99Within250ms && Number((ceiling.p99Within250ms / closed.eventsPerSecond).toFixed(1)),
      },
    };
    const row = (
      name: string,
      r: (typeof inserts)[number] | typeof closed,
      extra: Record<string, unknown> = {},
    ) => ({
      phase: name,
      'events/s': r.eventsPerSecond,
      'delivered/expected': `${r.delivered}/${r.deliveriesExpected}`,
      'p50 / p99 / max ms': `${r.latency.p50ms} / ${r.latency.p99ms} / ${r.latency.maxMs}`,
      'cores hubs/pg/redis/swarm/bench/machine': `${r.cpu.server} / ${r.cpu.postgres} / ${r.cpu.redis} / ${r.cpu.swarms} / ${r.cpu.bench} / ${r.cpu.machine}`,
      ...extra,
    });
    printTable([
      row('A commands closed loop', closed, { ack: `${closed.ack.p50ms} / ${closed.ack.p99ms}` }),
      ...fixed.map((f) => row(`B commands @${f.offered}/s`, f, { ack: `${f.ack.p50ms} / ${f.ack.p99ms}` })),
      ...inserts.map((r) =>
        row(`C SQL @${r.offered}/s`, r, {
          ack: `insert lag ${r.insertLag.p50ms} / ${r.insertLag.p99ms}`,
          'cores per node (relay *)': r.coresPerNode
            .map((x, i) => (i === relayNode ? `${x}*` : x))
            .join(' / '),
        }),
      ),
    ]);
    console.log(
      `relay ceiling: ${ceiling.p99Within50ms ?? '-'} events/s within p99 50 ms, ${ceiling.p99Within250ms ?? '-'} within 250 ms; three nodes commit ` +
        `${closed.eventsPerSecond} events/s (create listing, closed loop)`,
    );
    console.log(`saved ${await saveResult('relay', result)}`);
  } finally {
    for (const c of clients) c.close();
    await stopAll([kicker, ...hubs, ...swarms, { stop: () => db.drop() }, { stop: () => ns.drop() }, redis]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
