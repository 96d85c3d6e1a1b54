// Where a socket's memory goes: starts a hub (or the bare relay) with --heapsnapshot-signal, takes a
// heap snapshot with a few sockets open and another with BENCH_CENSUS_SOCKETS more (subscribed to
// the feed, as a dashboard is), and prints the difference per socket by object kind and
// constructor: the objects each connection adds, largest first.
// Usage: DATABASE_URL=... npx tsx bench/heap-census.ts [hub|bare]
// Env: BENCH_CENSUS_SOCKETS (2000), BENCH_CENSUS_TOP (40).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { envNumber, sleep } from './harness/basics.js';
import {
  freshDatabase,
  hubEnv,
  registerTraders,
  startBareRelay,
  startReadyHub,
  startSwarms,
  stopAll,
} from './harness.js';
import type { HubProcess } from './lib.js';

const SOCKETS = Math.floor(envNumber('BENCH_CENSUS_SOCKETS', 2000));
const TOP = Math.floor(envNumber('BENCH_CENSUS_TOP', 40));
const which = process.argv[2] === 'bare' ? 'bare' : 'hub';

interface Census {
  /** "type name" -> [count, self bytes] */
  kinds: Map<string, [number, number]>;
}

/** Counts and self sizes by node type and name (a heap snapshot's nodes array, V8's format). */
function census(snapshot: {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}): Census {
  const f = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = f.length;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const kinds = new Map<string, [number, number]>();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]!]!;
    let name =
      type === 'object' || type === 'closure' || type === 'native'
        ? snapshot.strings[nodes[i + iName]!]!
        : '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type} ${name}`;
    const k = kinds.get(key) ?? [0, 0];
    k[0] += 1;
    k[1] += nodes[i + iSize]!;
    kinds.set(key, k);
  }
  return { kinds };
}

async function snapshotOf(proc: HubProcess, dir: string): Promise<Census> {
  const before = new Set(await readdir(dir));
  proc.child.kill('SIGWINCH');
  for (;;) {
    await sleep(500);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (files.length) {
      const file = path.join(dir, files[0]!);
      // the file is written in one go; wait until its size stops changing
      let last = -1;
      for (;;) {
        const size = (await readFile(file)).length;
        if (size === last && size > 0) break;
        last = size;
        await sleep(1000);
      }
      const c = census(JSON.parse(await readFile(file, 'utf8')));
      await rm(file);
      return c;
    }
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renex-census-'));
  const db =
    which === 'hub' && process.env.DATABASE_URL
      ? await freshDatabase(process.env.DATABASE_URL, 'renex_census')
      : undefined;
  const env = { NODE_OPTIONS: `--heapsnapshot-signal=SIGWINCH --diagnostic-dir=${dir}` };
  let proc: HubProcess | undefined;
  const swarms = await startSwarms(1);
  try {
    proc =
      which === 'hub'
        ? await startReadyHub(
            hubEnv({ DATABASE_URL: db?.url, DATA_DIR: dir, MAX_SOCKETS_PER_USER: '10000', ...env }),
          )
        : await startBareRelay(env);
    const traders = which === 'hub' ? await registerTraders([proc.url], 10, 'census', { meters: false }) : [];
    const auth = (i: number) =>
      which === 'hub'
        ? { token: traders[i % traders.length]!.session.accessToken }
        : { userId: `u${i % 10}` };
    const open = (n: number, from: number) =>
      swarms[0]!.call('open', {
        url: proc!.url,
        auths: Array.from({ length: n }, (_, i) => auth(from + i)),
        rate: 500,
        readyOn: 'subscribe',
        timeoutMs: 30_000,
      });
    console.log('opening 50 sockets', JSON.stringify(await open(50, 0)).slice(0, 300));
    await sleep(2000);
    console.log('snapshot 1');
    const a = await snapshotOf(proc, dir);
    console.log(`opening ${SOCKETS} sockets`);
    console.log('opened', JSON.stringify(await open(SOCKETS, 50)).slice(0, 120));
    await sleep(2000);
    const b = await snapshotOf(proc, dir);
    const rows = [...b.kinds].map(([key, [n, bytes]]) => {
      const [n0, bytes0] = a.kinds.get(key) ?? [0, 0];
      return { key, perSocketCount: (n - n0) / SOCKETS, perSocketBytes: (bytes - bytes0) / SOCKETS };
    });
    rows.sort((x, y) => y.perSocketBytes - x.perSocketBytes);
    const total = rows.reduce((s, r) => s + r.perSocketBytes, 0);
    console.log(`${which}: ${SOCKETS} sockets, heap objects per socket: ${(total / 1024).toFixed(2)} KB`);
    console.table(
      rows.slice(0, TOP).map((r) => ({
        kind: r.key,
        'objects/socket': r.perSocketCount.toFixed(2),
        'bytes/socket': r.perSocketBytes.toFixed(0),
      })),
    );
  } finally {
    await stopAll([proc, ...swarms]);
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
