// Pieces shared by the socket workloads (negotiate, hot-accept, fanout, connect, login, cluster):
// throwaway databases, pgbench, the bare relay process, traders, a fixed-rate dispatcher, a
// progress line, socket swarm child processes, clock sync, and CPU, memory and kernel counters.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Sequelize } from 'sequelize';
import { HubClient, HubClientError } from '../src/client/index.js';
import { migrate } from '../src/store/migrate.js';
import { freshServerDatabase } from '../test/support/services.js';
import { type HubProcess, ROOT, startHubProcess } from './lib.js';

export const PASSWORD = 'bench password 123';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${raw})`);
  return n;
}

/** The benchmarks drive services on this machine only. */
export function assertLocal(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(
      `${what} must point at 127.0.0.1 (got host ${host}); the benchmarks target this machine only`,
    );
  }
}

/** The code of a failed command, for error counts. */
export function errorCode(err: unknown): string {
  if (err instanceof HubClientError) return err.code;
  return (err as Error)?.message?.slice(0, 60) ?? String(err);
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

// --- databases --------------------------------------------------------------------------------

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new database on the server of `adminUrl` (the tests' own helper); `drop()` removes it once. */
export async function freshDatabase(adminUrl: string, prefix: string): Promise<BenchDatabase> {
  assertLocal(adminUrl, 'DATABASE_URL');
  const db = await freshServerDatabase(adminUrl, prefix);
  let dropped = false;
  return {
    name: db.id,
    url: db.url!,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.drop();
    },
  };
}

/** Applies the hub's migrations to `url` (the same code the hub runs at start-up). */
export async function migrateDatabase(url: string): Promise<void> {
  const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  try {
    await migrate(sequelize);
  } finally {
    await sequelize.close();
  }
}

/** Runs `sql` (several statements allowed) on `url`. */
export async function execSql(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Deletes the Redis keys a benchmark's hubs left under `prefix` (rate-limit counters). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<number> {
  assertLocal(url, 'REDIS_URL');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  let n = 0;
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) n += await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

// --- pgbench ----------------------------------------------------------------------------------

export interface PgbenchResult {
  command: string;
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
  /** per-statement average latency (ms) from `-r`, in script order */
  statements: { ms: number; sql: string }[];
  error?: string;
}

/**
 * Runs `pgbench -n -M extended -r -f script -c clients -j threads -T seconds` against `url`.
 * Extended protocol because the hub (node-postgres with bind parameters) sends every statement
 * as parse/bind/execute of an unnamed statement; pgbench -M extended does the same.
 */
export async function runPgbench(opts: {
  url: string;
  script: string;
  clients: number;
  threads: number;
  seconds: number;
  defines?: Record<string, string | number>;
}): Promise<PgbenchResult> {
  const args = ['-n', '-M', 'simple', '-r', '-f', opts.script];
  args.push('-c', String(opts.clients), '-j', String(opts.threads), '-T', String(opts.seconds));
  for (const [k, v] of Object.entries(opts.defines ?? {})) args.push('-D', `${k}=${v}`);
  const shown = `pgbench ${args.map((a) => (a === opts.script ? path.relative(ROOT, a) : a)).join(' ')}`;
  args.push(opts.url);
  const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(-1));
  });
  const num = (re: RegExp) => {
    const m = out.match(re);
    return m ? Number(m[1]) : Number.NaN;
  };
  const statements: { ms: number; sql: string }[] = [];
  const at = out.indexOf('statement latencies');
  if (at >= 0) {
    for (const line of out.slice(at).split('\n').slice(1)) {
      // "         0.123           0  SELECT ..." (latency ms, failures, statement)
      const m = line.match(/^\s+([\d.]+)\s+(?:\d+\s+)?(.*)$/);
      if (m && !m[2]!.startsWith('\\')) statements.push({ ms: Number(m[1]), sql: m[2]!.trim() });
    }
  }
  const result: PgbenchResult = {
    command: shown,
    tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
    transactions: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/) || 0,
    latencyAvgMs: num(/latency average = ([\d.]+) ms/),
    statements,
  };
  if (code !== 0 || Number.isNaN(result.tps)) {
    result.error = `pgbench exited ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}`;
  }
  return result;
}

// --- hub --------------------------------------------------------------------------------------

/** the bearer token the bench's hubs require on GET /metrics (scrapeMetrics sends it); new per run */
export const BENCH_METRICS_TOKEN = randomBytes(24).toString('base64url');

/** Environment for a benchmark hub: limits off (login and command rates), demo seed off. */
/** The hub nodes' database pool (DATABASE_POOL_MAX, 10 unless BENCH_HUB_DATABASE_POOL_MAX): their concurrency. */
export const HUB_POOL_MAX = Math.floor(envNumber('BENCH_HUB_DATABASE_POOL_MAX', 10));

export function hubEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    SEED_DEMO: 'false',
    AUTH_RATE_IP_PER_MINUTE: '1000000',
    AUTH_RATE_EMAIL_PER_15MIN: '1000000',
    AUTH_REGISTER_PER_IP_PER_HOUR: '1000000',
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    COMMAND_RATE_PER_SECOND: '1000000',
    COMMAND_RATE_BURST: '1000000',
    // load generators open thousands of sockets from one address, many per trader, each subscribing
    FEED_RATE_PER_SECOND: '1000000',
    FEED_RATE_BURST: '1000000',
    SOCKET_UNAUTHENTICATED_PER_IP: '1000000',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  // e.g. BENCH_HUB_NODE_OPTIONS="--import=/path/to/profiler.mjs" to see where the hub's time goes
  if (process.env.BENCH_HUB_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_HUB_NODE_OPTIONS;
  // any other hub setting, to try another value: BENCH_HUB_DATABASE_POOL_MAX=20 sets DATABASE_POOL_MAX
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('BENCH_HUB_') && k !== 'BENCH_HUB_NODE_OPTIONS' && v !== undefined) env[k.slice(10)] = v;
  }
  return env;
}

/** startHubProcess, then one check that it really answers /readyz (the lib gives up silently). */
export async function startReadyHub(env: Record<string, string>): Promise<HubProcess> {
  const hub = await startHubProcess(env);
  const res = await fetch(`${hub.url}/readyz`).catch(() => undefined);
  if (!res?.ok) {
    await hub.stop();
    throw new Error(`hub at ${hub.url} did not become ready (readyz ${res?.status ?? 'unreachable'})`);
  }
  return hub;
}

/** Stops processes, reporting but not throwing, so every one of them is stopped. */
export async function stopAll(procs: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const p of procs) {
    try {
      await p?.stop();
    } catch (err) {
      console.error(`stopping a child process: ${(err as Error).message}`);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

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

// --- bare relay -------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts bench/bare-relay.ts as a child process; resolves once it answers /readyz. */
export async function startBareRelay(env: Record<string, string> = {}): Promise<HubProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-relay.ts', String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('bare relay exited during start-up');
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {}
    if (i > 300) {
      await stop();
      throw new Error('bare relay did not start');
    }
    await sleep(100);
  }
  return { url, child, stop };
}

// --- fixed-rate dispatch ----------------------------------------------------------------------

export interface FixedRateOutcome {
  /** slots due during the run */
  scheduled: number;
  /** slots handed to a worker */
  dispatched: number;
  /** slots still waiting for a free worker when the drain time ran out */
  unserved: number;
  /** seconds from the first slot to the last completion */
  elapsed: number;
}

/**
 * Open-loop load: slot i is due at t0 + i/rate whatever happened before. A due slot goes to the
 * next free worker (a worker holds one command in flight); `run` gets the slot's due time, so
 * latency measured from it includes any wait for a worker (no coordinated omission). New slots
 * stop after `seconds`; waiting slots get `drainMs` more to find a worker, the rest are counted
 * as unserved.
 */
export async function fixedRate<W>(opts: {
  rate: number;
  seconds: number;
  workers: W[];
  run(worker: W, dueAt: number): Promise<void>;
  drainMs: number;
  onTick?: (elapsedSeconds: number, backlog: number) => void;
}): Promise<FixedRateOutcome> {
  const interval = 1000 / opts.rate;
  const free = [...opts.workers];
  const due: number[] = [];
  let dueHead = 0;
  let dispatched = 0;
  let inFlight = 0;
  let allIdle: (() => void) | undefined;
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  let issued = 0;
  let lastDone = t0;
  const dispatch = () => {
    while (dueHead < due.length && free.length) {
      const w = free.shift()!; // the longest idle first: every worker takes its turn
      const at = due[dueHead++]!;
      dispatched++;
      inFlight++;
      void opts.run(w, at).finally(() => {
        inFlight--;
        lastDone = performance.now();
        free.push(w);
        dispatch();
        if (inFlight === 0) allIdle?.();
      });
    }
    if (dueHead > 4096 && dueHead * 2 > due.length) {
      due.splice(0, dueHead);
      dueHead = 0;
    }
  };
  let lastTick = t0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const shouldHave = Math.floor((now - t0) / interval) + 1;
    while (issued < shouldHave) due.push(t0 + issued++ * interval);
    dispatch();
    if (opts.onTick && now - lastTick >= 1000) {
      lastTick = now;
      opts.onTick((now - t0) / 1000, due.length - dueHead);
    }
    await sleep(1);
  }
  const drainEnd = performance.now() + opts.drainMs;
  while (dueHead < due.length && performance.now() < drainEnd) await sleep(5);
  const unserved = due.length - dueHead;
  due.length = 0;
  dueHead = 0;
  if (inFlight > 0) await new Promise<void>((r) => (allIdle = r));
  return { scheduled: issued, dispatched, unserved, elapsed: (lastDone - t0) / 1000 };
}

// --- progress ---------------------------------------------------------------------------------

/** One status line on stderr: rewritten in place on a terminal, a line every 2 s otherwise. */
export function progress(label: string) {
  const tty = process.stderr.isTTY;
  let last = 0;
  let text = '';
  const write = (final: boolean) => {
    if (tty) process.stderr.write(`\r\x1b[2K${label}: ${text}${final ? '\n' : ''}`);
    else process.stderr.write(`${label}: ${text}\n`);
  };
  return {
    update(t: string) {
      text = t;
      const now = performance.now();
      if (now - last >= (tty ? 200 : 2000)) {
        last = now;
        write(false);
      }
    },
    done(t?: string) {
      if (t !== undefined) text = t;
      write(true);
    },
  };
}

// --- socket swarms (load-generator child processes) -----------------------------------------

/** One bench/swarm.ts child process: holds sockets or runs a login storm, answers over IPC. */
export interface Swarm {
  pid: number;
  call<T = Record<string, unknown>>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** feed completions pushed by the child (`reset` with watch: true) */
  onDone(fn: (seq: number) => void): void;
  stop(): Promise<void>;
}

export async function startSwarm(): Promise<Swarm> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/swarm.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  let done: ((seq: number) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`swarm exited during start-up (${code})`));
      for (const w of waiting.values()) w.reject(new Error(`swarm process exited (${code})`));
      waiting.clear();
    });
    child.on(
      'message',
      (m: { id?: number; result?: unknown; error?: string; done?: number; ready?: boolean }) => {
        if (m.ready) return resolve();
        if (m.done !== undefined) return done?.(m.done);
        const w = waiting.get(m.id!);
        if (!w) return;
        waiting.delete(m.id!);
        if (m.error) w.reject(new Error(`swarm: ${m.error}`));
        else w.resolve(m.result);
      },
    );
  });
  await ready;
  return {
    pid: child.pid!,
    call<T>(op: string, args: Record<string, unknown> = {}) {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, ...args });
      });
    },
    onDone(fn) {
      done = fn;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts `n` swarms (stopping those started when one fails). */
export async function startSwarms(n: number): Promise<Swarm[]> {
  const out: Swarm[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(await startSwarm());
  } catch (err) {
    await stopAll(out);
    throw err;
  }
  return out;
}

/**
 * Measures each swarm's clock against this process's (`performance.timeOrigin + now()`, epoch ms)
 * with `pings` IPC round trips, keeps the one with the smallest round trip (offset = child clock
 * - midpoint of the round trip) and hands it to the swarm, which then reports times in this
 * process's clock. Returns the offsets and round trips (the error bound is half the round trip).
 */
export async function syncClocks(
  swarms: Swarm[],
  pings = 30,
): Promise<{ offsetMs: number; rttMs: number }[]> {
  const out = [];
  for (const s of swarms) {
    let best = { offsetMs: 0, rttMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < pings; i++) {
      const t0 = performance.timeOrigin + performance.now();
      const { now } = await s.call<{ now: number }>('clock');
      const t1 = performance.timeOrigin + performance.now();
      if (t1 - t0 < best.rttMs) best = { offsetMs: now - (t0 + t1) / 2, rttMs: t1 - t0 };
    }
    await s.call('offset', { offsetMs: best.offsetMs });
    out.push({ offsetMs: Number(best.offsetMs.toFixed(4)), rttMs: Number(best.rttMs.toFixed(4)) });
  }
  return out;
}

/** Splits `items` into `n` nearly equal consecutive parts. */
export function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
  }
  return out;
}

// --- process facts ----------------------------------------------------------------------------

/** Resident set size of process `pid` in bytes (VmRSS of /proc/<pid>/status). */
export async function rssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = text.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) process `pid` has used so far (/proc/<pid>/stat, 100 ticks/s). */
export async function cpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which is in parentheses and may hold spaces)
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/**
 * CPU seconds used by the processes named `comm` (e.g. postgres): their own time plus that of
 * their exited children (a backend that ended is counted in the postmaster's).
 */
export async function cpuSecondsOf(comm: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readFile(`/proc/${entry}/comm`, 'utf8')).trim() !== comm) continue;
      const text = await readFile(`/proc/${entry}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {}
  }
  return total;
}

/** The hub's Prometheus metrics (GET /metrics) as name{labels} -> value. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Where the CPU went during a phase, in cores (CPU seconds per second of wall time). */
export interface CpuSplit {
  seconds: number;
  /** the hub nodes or bare relays */
  server: number;
  /** the swarm child processes */
  swarms: number;
  /** this process (publisher, negotiating clients) */
  bench: number;
  postgres: number;
  redis: number;
  /** the whole machine (/proc/stat, busy = all but idle and iowait) */
  machine: number;
  /** the machine minus the processes above: anything else running on the box meanwhile */
  other: number;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat, USER_HZ = 100). */
async function machineBusySeconds(): Promise<number> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = user + nice + system + irq + softirq
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)) / 100;
}

/** Starts counting CPU time of the server processes, the swarms, this process, PostgreSQL and Redis. */
export async function cpuMeter(serverPids: number[], swarms: Swarm[]): Promise<() => Promise<CpuSplit>> {
  const snap = async () => {
    let server = 0;
    for (const pid of serverPids) server += await cpuSeconds(pid).catch(() => 0);
    let swarm = 0;
    for (const s of swarms) {
      const u = await s.call<{ cpu: { user: number; system: number } }>('usage');
      swarm += (u.cpu.user + u.cpu.system) / 1e6;
    }
    const me = process.cpuUsage();
    return {
      t: performance.now(),
      server,
      swarm,
      bench: (me.user + me.system) / 1e6,
      postgres: await cpuSecondsOf('postgres'),
      redis: await cpuSecondsOf('redis-server'),
      machine: await machineBusySeconds(),
    };
  };
  const a = await snap();
  return async () => {
    const b = await snap();
    const s = (b.t - a.t) / 1000;
    const cores = (x: number) => Number((x / s).toFixed(2));
    const known =
      b.server -
      a.server +
      (b.swarm - a.swarm) +
      (b.bench - a.bench) +
      (b.postgres - a.postgres) +
      (b.redis - a.redis);
    return {
      seconds: Number(s.toFixed(2)),
      server: cores(b.server - a.server),
      swarms: cores(b.swarm - a.swarm),
      bench: cores(b.bench - a.bench),
      postgres: cores(b.postgres - a.postgres),
      redis: cores(b.redis - a.redis),
      machine: cores(b.machine - a.machine),
      other: cores(Math.max(0, b.machine - a.machine - known)),
    };
  };
}

/**
 * A Prometheus histogram of the hub between two scrapes, summed over its label sets: count, mean,
 * and the bucket bounds holding the median and the 99th percentile (upper bounds, as coarse as
 * the buckets).
 */
export function metricHistogramDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  filter: (labels: string) => boolean = () => true,
) {
  const sum = (m: Map<string, number>, suffix: string) => {
    const buckets = new Map<number, number>();
    let total = 0;
    for (const [k, v] of m) {
      if (!k.startsWith(`${name}${suffix}`)) continue;
      const labels = k.slice(name.length + suffix.length);
      if (!filter(labels)) continue;
      if (suffix === '_bucket') {
        const le = labels.match(/le="([^"]+)"/)?.[1];
        if (le === undefined) continue;
        const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
        buckets.set(bound, (buckets.get(bound) ?? 0) + v);
      } else total += v;
    }
    return { buckets, total };
  };
  const count = sum(after, '_count').total - sum(before, '_count').total;
  const seconds = sum(after, '_sum').total - sum(before, '_sum').total;
  const b0 = sum(before, '_bucket').buckets;
  const b1 = sum(after, '_bucket').buckets;
  const bounds = [...b1.keys()].sort((a, b) => a - b);
  const at = (q: number) => {
    for (const le of bounds) {
      if ((b1.get(le) ?? 0) - (b0.get(le) ?? 0) >= q * count)
        return le === Number.POSITIVE_INFINITY ? 'inf' : le * 1000;
    }
    return 'inf';
  };
  return {
    count,
    meanMs: count ? Number(((seconds / count) * 1000).toFixed(2)) : null,
    p50UpToMs: count ? at(0.5) : null,
    p99UpToMs: count ? at(0.99) : null,
  };
}

/**
 * TcpExt counters of this network namespace (/proc/net/netstat), e.g. ListenOverflows (connections
 * dropped on a full accept queue) and TCPSynRetrans (SYNs sent again after such a drop).
 */
export async function tcpCounters(names: string[]): Promise<Record<string, number>> {
  const lines = (await readFile('/proc/net/netstat', 'utf8')).split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i]!.startsWith('TcpExt:')) continue;
    const keys = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    for (const n of names) {
      const at = keys.indexOf(n);
      if (at >= 0) out[n] = Number(values[at]);
    }
  }
  return out;
}
