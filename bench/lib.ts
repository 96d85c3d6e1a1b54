// Shared pieces of the benchmarks: hub processes, histograms, machine facts, results.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';

export const ROOT = path.resolve(import.meta.dirname, '..');

export function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** A latency histogram in microseconds, 1 us to 60 s, 3 significant digits. */
export function histogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function summary(h: hdr.Histogram) {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50ms: ms(h.getValueAtPercentile(50)),
    p99ms: ms(h.getValueAtPercentile(99)),
    p999ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
  };
}

export interface HubProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A port free on loopback now (the system's pick: never one a client connection holds). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * How a benchmark starts a hub: as `npm start` runs it, the compiled hub (`node --enable-source-maps
 * dist/main.js`, compiled once per `npm run bench` by buildHub), or with BENCH_HUB_SOURCE=1 from
 * src/ through tsx (its loader adds work of its own: esbuild's `__name` on every named closure).
 */
const HUB_COMMAND =
  process.env.BENCH_HUB_SOURCE === '1'
    ? ['--import', 'tsx', 'src/main.ts']
    : ['--enable-source-maps', 'dist/main.js'];

let built = false;

/**
 * Compiles the hub to dist/ (`tsc -p tsconfig.build.json`, the hub part of `npm run build`), unless
 * BENCH_HUB_SOURCE=1; once per process. `npm run bench` calls it first; a script that starts a hub
 * without it (bench/explain-listings.ts, bench/heap-census.ts) gets it at its first hub.
 */
export function buildHub(): void {
  if (process.env.BENCH_HUB_SOURCE === '1' || built) return;
  // typescript exports no ./bin/tsc: found beside its main module (lib/typescript.js)
  const tsc = path.join(
    path.dirname(createRequire(import.meta.url).resolve('typescript')),
    '..',
    'bin',
    'tsc',
  );
  const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) throw new Error('compiling the hub failed (tsc -p tsconfig.build.json)');
  built = true;
}

/** Starts the hub (HUB_COMMAND) on a free port with `env`; resolves when /readyz answers. */
export async function startHubProcess(env: Record<string, string>): Promise<HubProcess> {
  buildHub();
  const port = await freePort();
  const dataDir = env.DATA_DIR ?? (await mkdtemp(path.join(os.tmpdir(), 'renex-bench-')));
  const child = spawn(process.execPath, HUB_COMMAND, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SEED_DEMO: 'false',
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('hub exited during start-up');
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function saveResult(name: string, result: unknown): Promise<string> {
  const dir = path.join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** a : b to three decimals, or null when either is missing or b is not positive. */
export const ratio = (a: number | null, b: number | null | undefined): number | null =>
  a !== null && b && Number.isFinite(b) && b > 0 ? Number((a / b).toFixed(3)) : null;

export function printTable(rows: Record<string, string | number>[]): void {
  console.table(rows);
}
