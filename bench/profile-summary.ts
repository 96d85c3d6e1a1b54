// Where a hub's time went: `npx tsx bench/profile-summary.ts <file.cpuprofile> [from-s] [to-s]`
// prints self time by package (node_modules package, src file or V8/native bucket such as
// (writev) or (idle)), the functions with the most self time, and inclusive time of the hub's own
// files. With from/to (seconds since the profile started) only that window is counted, e.g. the
// burst of hot-accept. Profiles come from bench/profiler.mjs.
import { readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, from, to] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [from-s] [to-s]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const fromUs = from === undefined ? 0 : Number(from) * 1e6;
const toUs = to === undefined ? Number.POSITIVE_INFINITY : Number(to) * 1e6;
const selfUs = new Map<number, number>();
let t = 0;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (t >= fromUs && t < toUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(f: Frame): string {
  const pkg = f.url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1]!;
  const src = f.url.match(/\/((src|dist|bench)\/.*)$/);
  if (src) return src[1]!;
  return f.url ? f.url.replace(/^node:/, 'node:') : `(${f.functionName})`;
}
const fn = (f: Frame) =>
  f.url ? `${f.functionName || '(anonymous)'} ${where(f)}:${f.lineNumber + 1}` : `(${f.functionName})`;

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const selfByPlace = new Map<string, number>();
const selfByFn = new Map<string, number>();
const inclusiveOwn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  add(selfByPlace, where(node.callFrame), us);
  add(selfByFn, fn(node.callFrame), us);
  const seen = new Set<string>();
  for (let j: number | undefined = id; j !== undefined; j = parent.get(j)) {
    const f = byId.get(j)!.callFrame;
    if (!/\/(src|dist)\//.test(f.url) || /node_modules/.test(f.url)) continue;
    const k = fn(f);
    if (!seen.has(k)) {
      seen.add(k);
      add(inclusiveOwn, k, us);
    }
  }
}
const top = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');

console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled${from ? ` from ${from} s to ${to ?? 'the end'}` : ''}`,
);
console.log(`\nself time by place\n${top(selfByPlace, 20)}`);
console.log(`\nself time by function\n${top(selfByFn, 20)}`);
console.log(`\ninclusive time of the hub's own functions\n${top(inclusiveOwn, 20)}`);
