// The bare relay (bench/bare-relay.ts) as a child process: the baseline server.
import { spawn } from 'node:child_process';
import { freePort, type HubProcess, ROOT } from '../lib.js';
import { sleep } from './basics.js';

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
