// `npm run bench` runs every workload; `npm run bench -- <name>` runs one.
import { buildHub } from './lib.js';

const WORKLOADS = [
  'auth',
  'negotiate',
  'hot-accept',
  'delivery',
  'fanout',
  'connect',
  'login',
  'cluster',
  'relay',
  'settle',
  'market',
  'webhooks',
  'storm',
] as const;

const asked = process.argv.slice(2);
const names = asked.length ? asked : [...WORKLOADS];
for (const name of names) {
  if (!(WORKLOADS as readonly string[]).includes(name)) {
    console.error(`unknown workload "${name}"; choose from: ${WORKLOADS.join(', ')}`);
    process.exit(2);
  }
}
buildHub();
for (const name of names) {
  console.log(`\n== ${name} ==`);
  const mod = (await import(`./workloads/${name}.js`)) as { run(): Promise<void> };
  await mod.run();
}
