// Socket swarms: bench/swarm.ts child processes holding sockets, driven over IPC, and their clocks.
import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from '../lib.js';
import { stopAll } from './hub.js';

/** One bench/swarm.ts child process: holds sockets or runs a login storm, answers over IPC. */
export interface Swarm {
  pid: number;
  call<T = Record<string, unknown>>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** feed completions pushed by the child (`reset` with watch: true) */
  onDone(fn: (seq: number) => void): void;
  stop(): Promise<void>;
}

/** Starts `script` (a path under the repository) under tsx with an IPC channel; `exited` resolves when it ends. */
export function spawnIpcChild(script: string): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return { child, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
}

/** Starts bench/swarm.ts, or another `script` speaking the same IPC protocol (ready, {id, op} -> {id, result}). */
export async function startSwarm(script = 'bench/swarm.ts'): Promise<Swarm> {
  const { child, exited } = spawnIpcChild(script);
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
export async function startSwarms(n: number, script?: string): Promise<Swarm[]> {
  const out: Swarm[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(await startSwarm(script));
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
