// CPU profile of a hub process for the benchmarks: load it with
//   BENCH_HUB_NODE_OPTIONS="--import=./bench/profiler.mjs" npm run bench -- <workload>
// and each hub node writes bench/profiles/hub-<pid>.cpuprofile when it stops (open it in Chrome
// DevTools, or summarise it with `npx tsx bench/profile-summary.ts <file>`). The inspector is used
// because node refuses --cpu-prof in NODE_OPTIONS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = path.resolve(process.env.BENCH_PROFILE_DIR ?? 'bench/profiles');
mkdirSync(dir, { recursive: true });
const session = new Session();
session.connect();
session.post('Profiler.enable', () =>
  session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')),
);
let done = false;
const stop = () => {
  if (done) return;
  done = true;
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(path.join(dir, `hub-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('exit', stop);
