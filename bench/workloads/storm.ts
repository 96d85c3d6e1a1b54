// storm (issue 23, connection storms): the failover storm. Two hub nodes on one PostgreSQL (a fresh
// database) and one Redis, behind a load balancer (bench/workloads/storm/lb.ts: a node:net TCP
// proxy in its own process, least connections, a backend that refuses is skipped; its CPU is
// reported on its own). BENCH_STORM_TRADERS bundled clients (src/client: socket.io-client's
// backoff 250 ms .. 5 s with jitter 0.5, `lastEventId` on every reconnect), held by swarm child
// processes (bench/workloads/storm/trader-swarm.ts), connect through the balancer while node A is
// its only backend, and each subscribes to the market feed (again after every sync). Then node B
// is started and added to the balancer, and:
// 1. kill: A gets SIGKILL. Every trader's socket drops, it reconnects through the balancer (A
//    refuses, so B), and its time from the SIGKILL to its `sync` on B (the replay after its
//    `lastEventId` done) and to its feed subscription acked again is recorded.
// 2. drain (a rolling restart): A is started again and added to the balancer; B, now holding every
//    trader, gets SIGTERM (it drains: finishes running commands, closes sockets) and the traders
//    move to the new A, timed from the SIGTERM.
// Meanwhile BENCH_STORM_SENDERS more clients (in this process, also through the balancer, also
// moved) offer commands at BENCH_STORM_COMMAND_RATE, open loop: proposals (and their withdrawals)
// on the listings of BENCH_STORM_SELLERS traders, so those have events to catch up on; with
// BENCH_STORM_CREATE_EVERY=N every Nth is a listing:create (a feed event to every trader; none by
// default, see storm/settings.ts). Every command's outcome (acked, an error code, no answer) is
// checked against the database (idempotency_keys); at the end every trader's own events in the
// database are checked against what its client received, and one more listing must reach every
// feed. The receiving node's event-loop lag: its GET /metrics every BENCH_STORM_LAG_SAMPLE_MS;
// the accept queues of the balancer and of the node: `ss -ltn` as often.
// Setup only: the hubs hash passwords with ARGON2_MEMORY_KIB=1024, TIME_COST=1 so that
// registering thousands of traders is quick (no login happens during the storms).
// Env: BENCH_STORM_TRADERS (5000), BENCH_STORM_SELLERS (200), BENCH_STORM_SENDERS (4),
// BENCH_STORM_COMMAND_RATE (20), BENCH_STORM_CREATE_EVERY (0), BENCH_STORM_CONNECT_RATE (500),
// BENCH_STORM_TARGET_SECONDS (15), BENCH_STORM_WAIT_SECONDS (40), BENCH_STORM_AROUND_SECONDS (3),
// BENCH_STORM_LAG_SAMPLE_MS (250), BENCH_SWARM_PROCS (2); DATABASE_URL and REDIS_URL (both needed).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  assertLocal,
  type BenchDatabase,
  type BenchTrader,
  connectAll,
  dropRedisPrefix,
  freshDatabase,
  hubEnv,
  type Swarm,
  sleep,
  startReadyHub,
  startSwarm,
  startSwarms,
  stopAll,
} from '../harness.js';
import { type HubProcess, machine, printTable, saveResult } from '../lib.js';
import { checkOutcomes, commandStream } from './storm/commands.js';
import { failover } from './storm/phase.js';
import {
  AROUND_SECONDS,
  COMMAND_RATE,
  CONNECT_RATE,
  CREATE_EVERY,
  LAG_SAMPLE_MS,
  LAG_TARGET_MS,
  SELLERS,
  SENDERS,
  SWARM_PROCS,
  TARGET_SECONDS,
  TRADERS,
  WAIT_SECONDS,
} from './storm/settings.js';
import { checkOwnEvents, connectSwarms, newestEventId, probeFeed, setupTraders } from './storm/setup.js';

type Phase = Awaited<ReturnType<typeof failover>>;

/**
 * startReadyHub, tried again on a failed start: the harness picks a random port in 20000-40000,
 * and with thousands of client connections open, ephemeral ports (32768-60999) are taken there.
 */
async function startHub(env: Record<string, string>): Promise<HubProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startReadyHub(env);
    } catch (err) {
      if (attempt >= 5) throw err;
      console.log(`hub start failed (${(err as Error).message}); again on another port`);
    }
  }
}

export async function run(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  if (!adminUrl || !redisUrl) {
    console.log('storm: skipped (needs DATABASE_URL and REDIS_URL for two nodes)');
    return;
  }
  assertLocal(redisUrl, 'REDIS_URL');
  console.log(
    `storm: ${TRADERS} traders (${SELLERS} with a listing) on node A behind a TCP load balancer, ` +
      `${SENDERS} senders at ${COMMAND_RATE} commands/s` +
      `${CREATE_EVERY ? ` (every ${CREATE_EVERY}th a listing:create)` : ''}; SIGKILL A, then restart A and SIGTERM B`,
  );
  const db: BenchDatabase = await freshDatabase(adminUrl, 'renex_bench_storm');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'renex-bench-storm-'));
  const prefix = `bench-storm-${randomBytes(4).toString('hex')}`;
  const env = hubEnv({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
  });
  const hubs: HubProcess[] = [];
  let lb: Swarm | undefined;
  let swarms: Swarm[] = [];
  let senderClients: BenchTrader[] = [];
  let result: ReturnType<typeof report> | undefined;
  try {
    lb = await startSwarm('bench/workloads/storm/lb.ts');
    const lbPort = (await lb.call<{ port: number }>('address')).port;
    const lbUrl = `http://127.0.0.1:${lbPort}`;
    swarms = await startSwarms(SWARM_PROCS, 'bench/workloads/storm/trader-swarm.ts');
    const a = await startHub(env);
    hubs.push(a);
    await lb.call('backends', { urls: [a.url] });
    const { swarmTraders, senders, listings } = await setupTraders(a.url, lbUrl, TRADERS, SELLERS, SENDERS);
    senderClients = senders;
    const opened = await connectSwarms(swarms, lbUrl, swarmTraders, CONNECT_RATE);
    console.log(
      `${opened.connected}/${TRADERS} traders synced on A in ${opened.seconds} s, ${opened.failed} failed`,
    );
    await connectAll(senders);
    const baseline = await newestEventId(db.url);

    const b = await startHub(env);
    hubs.push(b);
    await lb.call('backends', { urls: [a.url, b.url] });
    const stream = commandStream(senders, listings, COMMAND_RATE, CREATE_EVERY);
    const common = { swarms, lb, lbPort, targetSeconds: TARGET_SECONDS, onCommands: stream.start };
    const kill = await failover({ ...common, label: 'kill', signal: 'SIGKILL', victim: a, receiver: b });

    stream.start('restart');
    const a2 = await startHub(env);
    hubs.push(a2);
    await lb.call('backends', { urls: [b.url, a2.url] });
    const drain = await failover({ ...common, label: 'drain', signal: 'SIGTERM', victim: b, receiver: a2 });
    await stream.stop();

    await sleep(1000);
    const feedProbe = await probeFeed(senders[0]!, swarms, TRADERS);
    const events = await checkOwnEvents(db.url, swarms, baseline);
    const commands = Object.fromEntries(
      await Promise.all(
        ['kill', 'restart', 'drain'].map(async (p) => [
          p,
          await checkOutcomes(
            db.url,
            stream.outcomes.filter((o) => o.phase === p),
          ),
        ]),
      ),
    ) as Record<string, Awaited<ReturnType<typeof checkOutcomes>>>;
    result = report({ opened, kill, drain, commands, events, feedProbe });
  } finally {
    for (const c of senderClients) c.close();
    await Promise.all(swarms.map((s) => s.call('close').catch(() => undefined)));
    await stopAll([...hubs, lb, ...swarms]);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await dropRedisPrefix(redisUrl, prefix).catch(() => 0);
  }
  print(result);
  console.log(`saved ${await saveResult('storm', result)}`);
}

function report(r: {
  opened: Awaited<ReturnType<typeof connectSwarms>>;
  kill: Phase;
  drain: Phase;
  commands: Record<string, Awaited<ReturnType<typeof checkOutcomes>>>;
  events: Awaited<ReturnType<typeof checkOwnEvents>>;
  feedProbe: number;
}) {
  const lost = Object.values(r.commands).reduce((a, c) => a + c.lost, 0);
  const failedHandshakes = (p: Phase) => Object.values(p.connectErrors).reduce((a, b) => a + b, 0);
  const targets: Record<string, boolean> = {};
  for (const [name, p] of [
    ['kill', r.kill],
    ['drain', r.drain],
  ] as const) {
    targets[`${name}: every trader synced on the other node within ${TARGET_SECONDS} s`] =
      p.syncedWithinTarget === TRADERS;
    targets[`${name}: 0 failed handshakes`] = failedHandshakes(p) === 0;
    targets[
      `${name}: receiving node's event-loop lag p99 < ${LAG_TARGET_MS} ms (max of ${LAG_SAMPLE_MS} ms samples)`
    ] = (p.eventLoopLag.storm.maxP99ms ?? Number.POSITIVE_INFINITY) < LAG_TARGET_MS;
  }
  targets['0 commands lost (no answer, or an answer the database contradicts)'] = lost === 0;
  targets['every own event in the database received by its trader'] = r.events.missing === 0;
  targets['every trader gets feed events after both storms'] = r.feedProbe === TRADERS;
  return {
    workload: 'storm',
    machine: machine(),
    parameters: {
      traders: TRADERS,
      sellers: SELLERS,
      senders: SENDERS,
      commandRate: COMMAND_RATE,
      createEvery: CREATE_EVERY,
      connectRate: CONNECT_RATE,
      targetSeconds: TARGET_SECONDS,
      waitSeconds: WAIT_SECONDS,
      aroundSeconds: AROUND_SECONDS,
      lagSampleMs: LAG_SAMPLE_MS,
      swarmProcs: SWARM_PROCS,
      loadBalancer: 'node:net TCP proxy, own process, least connections, skips a backend that refuses',
      client:
        'src/client HubClient: reconnectionDelay 250, reconnectionDelayMax 5000, randomizationFactor 0.5',
      setupArgon2: 'ARGON2_MEMORY_KIB=1024 ARGON2_TIME_COST=1 (setup only)',
      transport: 'websocket',
    },
    initialConnect: r.opened,
    kill: r.kill,
    drain: r.drain,
    commands: r.commands,
    commandsLost: lost,
    ownEvents: r.events,
    feedProbeSeenBy: r.feedProbe,
    targets,
  };
}

function print(result: ReturnType<typeof report> | undefined): void {
  if (!result) return;
  const { kill, drain } = result;
  const row = (figure: string, f: (p: Phase) => string | number) => ({
    figure,
    kill: f(kill),
    drain: f(drain),
  });
  const errs = (p: Phase) => Object.values(p.connectErrors).reduce((a, b) => a + b, 0);
  const cmd = (name: string) => {
    const c = result.commands[name];
    if (!c) return '-';
    return `${c.sent} sent: ${Object.entries(c.results)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ${c.committed} committed, ${c.lost} lost, slowest ${c.slowestAnswerMs} ms`;
  };
  printTable([
    row('signal', (p) => p.signal),
    row('traders down / synced on the other node', (p) => `${p.down} / ${p.synced} of ${p.traders}`),
    row(`synced within ${TARGET_SECONDS} s`, (p) => p.syncedWithinTarget),
    row(
      'signal -> sync p50 / p99 / max ms',
      (p) => `${p.toSync.p50ms} / ${p.toSync.p99ms} / ${p.toSync.maxMs}`,
    ),
    row(
      'signal -> feed resubscribed p50 / p99 / max ms',
      (p) => `${p.toResubscribed.p50ms} / ${p.toResubscribed.p99ms} / ${p.toResubscribed.maxMs}`,
    ),
    row('connections to the LB per second after the signal', (p) =>
      p.loadBalancer.acceptedPerSecond.join(' '),
    ),
    row('syncs per second after the signal', (p) => p.syncsPerSecond.join(' ')),
    row('reconnect attempts / failed handshakes', (p) => `${p.reconnectAttempts} / ${errs(p)}`),
    row('events replayed (traders)', (p) => `${p.replayedEvents} (${p.tradersWithReplay})`),
    row(
      'receiver lag p99 before / storm max / after ms',
      (p) =>
        `${p.eventLoopLag.before.p99ms} / ${p.eventLoopLag.storm.maxP99ms} / ${p.eventLoopLag.after.p99ms}`,
    ),
    row('receiver lag max during the storm ms', (p) => `${p.eventLoopLag.storm.maxMs}`),
    row(
      'cores: receiver / swarms / LB / pg / machine',
      (p) =>
        `${p.cpu.server} / ${p.cpu.swarms} / ${p.cpu.loadBalancer} / ${p.cpu.postgres} / ${p.cpu.machine}`,
    ),
    row('accept overflows / SYN retransmits', (p) => `${p.tcp.ListenOverflows} / ${p.tcp.TCPSynRetrans}`),
    row(
      'longest accept queue: LB / node',
      (p) => `${p.maxAcceptQueue.loadBalancer} / ${p.maxAcceptQueue.node}`,
    ),
    row('victim exited after ms', (p) => p.victimExitMs),
  ]);
  for (const [name, p] of [
    ['kill', kill],
    ['drain', drain],
  ] as const) {
    if (errs(p)) console.log(`${name}: failed handshakes:`, p.connectErrors);
    if (Object.keys(p.subscribeErrors).length)
      console.log(`${name}: feed:subscribe errors:`, p.subscribeErrors);
  }
  for (const name of ['kill', 'restart', 'drain']) {
    console.log(`commands (${name}): ${cmd(name)}`);
    const m = result.commands[name]?.messages ?? {};
    if (Object.keys(m).length) console.log('  errors:', m);
  }
  console.log(
    `own events: ${result.ownEvents.expected} expected, ${result.ownEvents.missing} missing ` +
      `(${result.ownEvents.tradersMissing} traders); feed probe seen by ${result.feedProbeSeenBy}/${TRADERS}`,
  );
  printTable(Object.entries(result.targets).map(([target, met]) => ({ target, met: met ? 'yes' : 'NO' })));
  for (const [target, met] of Object.entries(result.targets))
    if (!met) console.log(`TARGET MISSED: ${target}`);
}
