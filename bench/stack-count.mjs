// Which stack traces a hub formats (an Error's `stack` read: by a log line, by Node itself), load it
// into the hub nodes with
//   BENCH_HUB_NODE_OPTIONS="--import=./bench/stack-count.mjs" npm run bench -- <workload>
// and each node writes bench/profiles/stacks-<pid>.txt every 2 s and when it stops: per kind of
// error (its class, the start of its message and its six innermost frames) how many were formatted,
// most first. Formatting is what costs (with --enable-source-maps every frame is mapped); an Error
// whose stack nobody reads is not counted. A diagnostic, not part of the figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.env.BENCH_PROFILE_DIR ?? 'bench/profiles');
mkdirSync(dir, { recursive: true });
const counts = new Map();
const short = (file) => (file ?? '').replace(/.*node_modules\//, '').replace(/.*\/(dist|src)\//, '$1/');

// Node calls a user's Error.prepareStackTrace before its own (and before source maps); this one
// counts, then formats as V8 does by default
Error.prepareStackTrace = (err, frames) => {
  const top = frames
    .slice(0, 6)
    .map((f) => `${f.getFunctionName() ?? '?'} ${short(f.getFileName())}:${f.getLineNumber()}`)
    .join(' < ');
  const key = `${err?.constructor?.name}: ${String(err?.message).slice(0, 60)} | ${top}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return `${err}\n    at ${frames.join('\n    at ')}`;
};

const write = () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}\n`);
  writeFileSync(path.join(dir, `stacks-${process.pid}.txt`), rows.join(''));
};
process.on('SIGTERM', write);
process.on('exit', write);
// a node killed with SIGKILL writes nothing at the end
setInterval(write, 2000).unref();
