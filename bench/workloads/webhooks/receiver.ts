// The webhooks workload's receiver: a child process (bench/workloads/webhooks/receivers.ts starts
// it) with one node:http server for all the bench's webhooks, each at its own path /h/<index>.
// It answers 200 as soon as a request's body has arrived, then records the delivery: the hook,
// the webhook-id (the event id), the envelope's `at` (the event's commit time, epoch ms) and the
// time of receipt (this process's epoch clock, sub-millisecond). One delivery in SAMPLE_EVERY has
// its Standard Webhooks signature checked with the `standardwebhooks` package (the secrets come
// over IPC); the others are only parsed. A process of its own, so that receiving costs neither
// the bench client's event loop nor its CPU count.
// IPC in: {op: 'secrets', secrets: string[]} (by hook index), {op: 'count'}, {op: 'report'}.
// IPC out: {ready: true, port}, then one answer per request, in order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const SAMPLE_EVERY = 50;

let verifiers: (Webhook | undefined)[] = [];
const hooks: number[] = [];
const ids: string[] = [];
const at: number[] = [];
const received: number[] = [];
const seen = new Set<string>();
const sample = { checked: 0, failed: 0 };
let malformed = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = performance.timeOrigin + performance.now();
    res.writeHead(200, { 'content-length': '0' }).end();
    const hook = Number(/^\/h\/(\d+)$/.exec(req.url ?? '')?.[1] ?? Number.NaN);
    const id = req.headers['webhook-id'];
    let envelope: { id?: string; at?: string };
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      envelope = JSON.parse(body) as typeof envelope;
    } catch {
      envelope = {};
    }
    const commitAt = Date.parse(envelope.at ?? '');
    if (!Number.isInteger(hook) || typeof id !== 'string' || envelope.id !== id || Number.isNaN(commitAt)) {
      malformed++;
      return;
    }
    hooks.push(hook);
    ids.push(id);
    at.push(commitAt);
    received.push(now);
    seen.add(`${hook}:${id}`);
    const verifier = verifiers[hook];
    if (verifier && hooks.length % SAMPLE_EVERY === 1) {
      sample.checked++;
      try {
        verifier.verify(body, req.headers as Record<string, string>);
      } catch {
        sample.failed++;
      }
    }
  });
});

process.on('message', (m: { op: string; secrets?: string[] }) => {
  if (m.op === 'secrets') {
    verifiers = (m.secrets ?? []).map((s) => new Webhook(s));
    process.send!({ ok: true });
  } else if (m.op === 'count') {
    process.send!({ unique: seen.size, total: hooks.length });
  } else if (m.op === 'report') {
    process.send!({ hooks, ids, at, received, malformed, sample: { every: SAMPLE_EVERY, ...sample } });
  }
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () =>
  process.send!({ ready: true, port: (server.address() as AddressInfo).port }),
);
