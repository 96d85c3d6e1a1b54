// One failover of the storm workload: the node holding every trader is signalled (SIGKILL, or
// SIGTERM: it drains), and each trader's way to the other node is timed from that moment, in
// the swarms, to its `sync` there (replay from `lastEventId` done) and to its feed subscription
// acked again. Meanwhile the receiving node's event-loop lag is read from its GET /metrics every
// LAG_SAMPLE_MS (prom-client resets its monitorEventLoopDelay histogram at each scrape, so each
// sample's p99 and max cover the interval since the previous one; at the monitor's 10 ms
// resolution a 250 ms sample holds ~25 delays, so its p99 is about its longest stall, and the
// storm's figure, the largest of them, is stricter than one p99 over the storm), the accept queues
// are read with `ss`, and CPU is split per process (the load balancer on its own).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import {
  cpuMeter,
  cpuSeconds,
  progress,
  type Swarm,
  scrapeMetrics,
  sleep,
  tcpCounters,
} from '../../harness.js';
import { type HubProcess, histogram, summary } from '../../lib.js';
import { AROUND_SECONDS, LAG_SAMPLE_MS, WAIT_SECONDS } from './settings.js';

type PhaseState = {
  traders: number;
  connected: number;
  feeds: number;
  down: number;
  synced: number;
  within: number;
  subscribed: number;
  replayed: number;
  withReplay: number;
  reconnectAttempts: number;
  connectErrors: Record<string, number>;
  subscribeErrors: Record<string, number>;
  sync: string;
  sub: string;
  syncBuckets: number[];
};

const epochNow = () => performance.timeOrigin + performance.now();
const BUCKET_MS = 1000;

/** The accept queue (Recv-Q of the listening socket, `ss -ltn`) of each of `ports` now. */
async function acceptQueues(ports: number[]): Promise<number[]> {
  const { stdout } = await promisify(execFile)('ss', ['-ltnH']);
  const out = ports.map(() => 0);
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    const at = ports.indexOf(Number(f[3]?.slice(f[3].lastIndexOf(':') + 1)));
    if (at >= 0) out[at] = Number(f[1]);
  }
  return out;
}

/**
 * GET /metrics of `url` every `everyMs`: each scrape's event-loop lag p99 and max, in ms; and the
 * accept queues of the load balancer and of the node (the largest seen).
 */
function lagSampler(url: string, everyMs: number, lbPort: number) {
  const samples: { at: number; p99ms: number; maxMs: number }[] = [];
  const queues = { loadBalancer: 0, node: 0 };
  const nodePort = Number(new URL(url).port);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      try {
        const [q1, q2] = await acceptQueues([lbPort, nodePort]);
        queues.loadBalancer = Math.max(queues.loadBalancer, q1 ?? 0);
        queues.node = Math.max(queues.node, q2 ?? 0);
        const m = await scrapeMetrics(url);
        const ms = (name: string) =>
          Math.round((m.get(`hub_nodejs_eventloop_lag_${name}_seconds`) ?? 0) * 1e6) / 1000;
        samples.push({ at: epochNow(), p99ms: ms('p99'), maxMs: ms('max') });
      } catch {}
      await sleep(Math.max(0, everyMs - (performance.now() - t)));
    }
  })();
  return {
    samples,
    queues,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function stateOf(swarms: Swarm[], withinMs: number) {
  const parts = await Promise.all(
    swarms.map((s) => s.call<PhaseState>('phase', { bucketMs: BUCKET_MS, withinMs })),
  );
  const sum = (k: keyof PhaseState) => parts.reduce((a, p) => a + (p[k] as number), 0);
  const merge = (k: 'connectErrors' | 'subscribeErrors') => {
    const out: Record<string, number> = {};
    for (const p of parts) for (const [e, n] of Object.entries(p[k])) out[e] = (out[e] ?? 0) + n;
    return out;
  };
  const hist = (k: 'sync' | 'sub') => {
    const h = histogram();
    for (const p of parts) h.add(hdr.decodeFromCompressedBase64(p[k]));
    return h;
  };
  const buckets: number[] = [];
  for (const p of parts) for (const [i, n] of p.syncBuckets.entries()) buckets[i] = (buckets[i] ?? 0) + n;
  return {
    traders: sum('traders'),
    connected: sum('connected'),
    feeds: sum('feeds'),
    down: sum('down'),
    synced: sum('synced'),
    within: sum('within'),
    subscribed: sum('subscribed'),
    replayed: sum('replayed'),
    withReplay: sum('withReplay'),
    reconnectAttempts: sum('reconnectAttempts'),
    connectErrors: merge('connectErrors'),
    subscribeErrors: merge('subscribeErrors'),
    sync: hist('sync'),
    sub: hist('sub'),
    syncPerSecond: Array.from(buckets, (n) => n ?? 0),
  };
}

export async function failover(o: {
  label: string;
  signal: 'SIGKILL' | 'SIGTERM';
  victim: HubProcess;
  receiver: HubProcess;
  swarms: Swarm[];
  lb: Swarm;
  lbPort: number;
  targetSeconds: number;
  onCommands(label: string): void;
}) {
  const { swarms, lb } = o;
  o.onCommands(o.label);
  await sleep(AROUND_SECONDS * 1000);
  const lag = lagSampler(o.receiver.url, LAG_SAMPLE_MS, o.lbPort);
  await sleep(3 * LAG_SAMPLE_MS); // quiet samples first: the lag before
  const socketsBefore = (await scrapeMetrics(o.receiver.url)).get('hub_sockets_connected') ?? -1;
  await lb.call('stats');
  const cpu = await cpuMeter([o.receiver.child.pid!], swarms);
  const lbCpu0 = await cpuSeconds(lb.pid);
  const tcp0 = await tcpCounters(['ListenOverflows', 'TCPSynRetrans']);
  const at = epochNow() + 20;
  await Promise.all(swarms.map((s) => s.call('mark', { at })));
  await sleep(Math.max(0, at - epochNow()));
  const signalled = epochNow();
  const exited = new Promise<number>((r) => o.victim.child.once('exit', () => r(epochNow() - signalled)));
  o.victim.child.kill(o.signal);

  const line = progress(`${o.label}: ${o.signal} to the node holding the traders`);
  let s = await stateOf(swarms, o.targetSeconds * 1000);
  const deadline = signalled + WAIT_SECONDS * 1000;
  while (epochNow() < deadline && (s.synced < s.traders || s.subscribed < s.traders)) {
    await sleep(500);
    s = await stateOf(swarms, o.targetSeconds * 1000);
    line.update(
      `${((epochNow() - signalled) / 1000).toFixed(1)} s: ${s.down} down, ${s.synced} synced, ` +
        `${s.subscribed} subscribed of ${s.traders}; ${Object.values(s.connectErrors).reduce((a, b) => a + b, 0)} connect errors`,
    );
  }
  const movedAt = epochNow();
  line.done(
    `${s.synced}/${s.traders} synced in ${((movedAt - signalled) / 1000).toFixed(1)} s, sync p99 ${summary(s.sync).p99ms} ms`,
  );
  const cpuSplit = await cpu();
  const lbCores = Number(((await cpuSeconds(lb.pid)) - lbCpu0) / (cpuSplit.seconds || 1)).toFixed(2);
  const tcp1 = await tcpCounters(['ListenOverflows', 'TCPSynRetrans']);
  const lbStats = await lb.call<{
    accepted: number;
    acceptedPer250ms: number[];
    noBackend: number;
    backends: { url: string; conns: number; opened: number; refused: number }[];
  }>('stats');
  const perSecond = (xs: number[]) =>
    Array.from({ length: Math.ceil(xs.length / 4) }, (_, i) =>
      xs.slice(4 * i, 4 * i + 4).reduce((a, b) => a + b, 0),
    );
  await sleep(AROUND_SECONDS * 1000); // commands go on after the move
  await lag.stop();
  const victimExitMs = await Promise.race([exited, sleep(15_000).then(() => -1)]);
  const socketsAfter = (await scrapeMetrics(o.receiver.url)).get('hub_sockets_connected') ?? -1;
  s = await stateOf(swarms, o.targetSeconds * 1000);

  // (the first sample covers the time since the node's previous scrape or its start: left out)
  const before = lag.samples.slice(1).filter((x) => x.at < signalled);
  const during = lag.samples.filter((x) => x.at >= signalled && x.at <= movedAt + LAG_SAMPLE_MS);
  const after = lag.samples.filter((x) => x.at > movedAt + LAG_SAMPLE_MS);
  const maxOf = (xs: typeof lag.samples, k: 'p99ms' | 'maxMs') =>
    xs.length ? Math.max(...xs.map((x) => x[k])) : null;
  return {
    signal: o.signal,
    traders: s.traders,
    /** traders whose socket dropped after the signal */
    down: s.down,
    /** traders synced on the other node after the signal */
    synced: s.synced,
    syncedWithinTarget: s.within,
    /** traders whose feed subscription was acked again after that sync */
    resubscribed: s.subscribed,
    connectedAtEnd: s.connected,
    feedsAtEnd: s.feeds,
    secondsToLastSync: Number(((movedAt - signalled) / 1000).toFixed(2)),
    /** from the signal to each trader's sync on the other node */
    toSync: summary(s.sync),
    /** from the signal to each trader's feed:subscribe acked there */
    toResubscribed: summary(s.sub),
    /** syncs on the other node per second after the signal: the shape of the storm */
    syncsPerSecond: s.syncPerSecond,
    reconnectAttempts: s.reconnectAttempts,
    connectErrors: s.connectErrors,
    subscribeErrors: s.subscribeErrors,
    /** events replayed from lastEventId between a new connection's connect and its sync */
    replayedEvents: s.replayed,
    tradersWithReplay: s.withReplay,
    receiverSockets: { before: socketsBefore, after: socketsAfter },
    victimExitMs: Math.round(victimExitMs),
    eventLoopLag: {
      sampleMs: LAG_SAMPLE_MS,
      before: { p99ms: maxOf(before, 'p99ms'), maxMs: maxOf(before, 'maxMs') },
      storm: { samples: during.length, maxP99ms: maxOf(during, 'p99ms'), maxMs: maxOf(during, 'maxMs') },
      after: { p99ms: maxOf(after, 'p99ms'), maxMs: maxOf(after, 'maxMs') },
      stormP99Series: during.map((x) => x.p99ms),
      afterP99Series: after.map((x) => x.p99ms),
    },
    /** the longest accept queues seen (listen backlog 511 each): where connections wait or are dropped */
    maxAcceptQueue: lag.queues,
    cpu: { ...cpuSplit, loadBalancer: Number(lbCores) },
    loadBalancer: { ...lbStats, acceptedPerSecond: perSecond(lbStats.acceptedPer250ms) },
    tcp: {
      ListenOverflows: (tcp1.ListenOverflows ?? 0) - (tcp0.ListenOverflows ?? 0),
      TCPSynRetrans: (tcp1.TCPSynRetrans ?? 0) - (tcp0.TCPSynRetrans ?? 0),
    },
  };
}
