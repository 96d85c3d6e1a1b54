// A PostgreSQL cluster of the test's own, on a spare port with its own data directory, so a test
// can stop and start it without touching the shared server.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster.js';

const run = promisify(execFile);

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/** Runs a PostgreSQL tool as the postgres user when we are root (initdb refuses root). */
async function pgTool(tool: string, args: string[]): Promise<void> {
  const bin = path.join(binDir(), tool);
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', bin, ...args]);
  else await run(bin, args);
}

export class TestPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<TestPostgres> {
    const base = await mkdtemp(path.join(os.tmpdir(), 'renex-pg-'));
    await chmod(base, 0o777);
    const dir = path.join(base, 'data');
    await pgTool('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    const pg = new TestPostgres(dir, await freePort());
    await pg.start();
    return pg;
  }

  /** Whether this machine can run a cluster of the test's own; prints one line when it cannot. */
  static async available(what: string): Promise<boolean> {
    try {
      await (await TestPostgres.create()).destroy();
      return true;
    } catch (err) {
      if (process.env.REQUIRE_SERVICES === '1') throw err;
      console.warn(`skipped: ${what}: cannot run a PostgreSQL cluster of the test's own (${err})`);
      return false;
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    await pgTool('pg_ctl', [
      '-D',
      this.dir,
      '-w',
      '-l',
      path.join(this.dir, '..', 'log'),
      '-o',
      `-p ${this.port} -k ${path.dirname(this.dir)} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  /** `fast` disconnects sessions and shuts down cleanly; `immediate` is a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pgTool('pg_ctl', ['-D', this.dir, '-w', '-m', mode, 'stop']).catch(() => {});
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    await rm(path.dirname(this.dir), { recursive: true, force: true });
  }
}
