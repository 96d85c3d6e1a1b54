// Run the hub's real entry point (src/main.ts) as a child process, as an operator would.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { TEST_ENV } from './hub.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface HubProcess {
  child: ChildProcess;
  output(): string;
  /** what the process wrote to stderr */
  errors(): string;
  /** resolves with the exit code */
  exited: Promise<number | null>;
}

/** Spawns `node --import tsx src/main.ts` with the test defaults plus `env`. */
export function spawnHub(env: Record<string, string>): HubProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...TEST_ENV, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => {
    out += d;
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, errors: () => err, exited };
}
