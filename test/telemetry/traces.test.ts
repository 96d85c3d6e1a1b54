// OpenTelemetry (docs/telemetry.md): one command's trace across two nodes, exported over OTLP/HTTP
// to a receiver in the test (node A in http/json, node B in http/protobuf, both decoded); and with
// no endpoint set, no SDK loaded and nothing sent.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { startNode, TestRedis, until } from '../support/cluster.js';
import { TEST_ENV } from '../support/hub.js';
import { otlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { freshDatabase, postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = (await postgresAvailable('tracing')) && (await redisAvailable('tracing'));
const ROOT = path.resolve(import.meta.dirname, '../..');

const hexId = (bytes: number) => randomBytes(bytes).toString('hex');
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

describe.skipIf(!ready)('traces across two nodes', () => {
  test('a command on node A: its span, statements, commit and the delivery on both nodes share its trace', async () => {
    const otlp = await otlpReceiver();
    const redis = await TestRedis.start();
    const db = await freshDatabase();
    const env = {
      ...db.env,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `t-${db.id}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'renex-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const [a, b] = await Promise.all([
      startNode({ ...env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
      startNode({ ...env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }),
    ]);
    const instanceOf = (pid: number) => (s: ReceivedSpan) =>
      String(s.resource['service.instance.id']).split(':')[1] === String(pid);
    const onA = instanceOf(a.pid);
    const onB = instanceOf(b.pid);
    try {
      const seller = await trader(b.url, 'seller');
      const buyer = await trader(a.url, 'buyer');
      const sellerLog = recorder(seller);
      const buyerLog = recorder(buyer);
      const listing = await seller.createListing(listingInput({ volumeKwh: '10' }));

      const traceId = hexId(16);
      const callerSpan = hexId(8);
      const proposed = await buyer.propose({
        listingId: listing.id,
        volumeKwh: '5',
        pricePerKwh: '0.1',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      } as Parameters<typeof buyer.propose>[0]);
      expect((await sellerLog.next('swap.proposed')).data).toEqual(proposed);
      await buyerLog.next('swap.proposed');

      const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
      const command = () => inTrace().find((s) => s.name === 'command swap:propose');
      const deliveries = () => inTrace().filter((s) => s.name === 'deliver events');
      await until(
        async () => command() !== undefined && deliveries().some(onA) && deliveries().some(onB),
        15_000,
        `the trace's spans: ${JSON.stringify(inTrace().map((s) => s.name))}`,
      );

      // the command span on A continues the caller's span, named and with its outcome, no user id
      const cmd = command()!;
      expect(onA(cmd)).toBe(true);
      expect(cmd.parentSpanId).toBe(callerSpan);
      expect(cmd.kind).toBe(SERVER);
      expect(cmd.attributes).toMatchObject({ 'renex.command': 'swap:propose', 'renex.outcome': 'ok' });
      expect(JSON.stringify(cmd.attributes)).not.toContain(buyer.user.id);

      // its transaction, commit and statements on A, under it
      const byId = new Map(inTrace().map((s) => [s.spanId, s]));
      const under = (s: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
        for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId))
          if (p === ancestor) return true;
        return false;
      };
      const tx = inTrace().find((s) => s.name === 'transaction')!;
      expect(tx && under(tx, cmd)).toBe(true);
      const commit = inTrace().find((s) => s.name === 'commit')!;
      expect(commit && under(commit, tx)).toBe(true);
      const statements = inTrace().filter(
        (s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'postgresql',
      );
      expect(statements.some((s) => s.name.startsWith('pg.query'))).toBe(true);
      for (const st of statements) {
        expect(onA(st)).toBe(true);
        expect(under(st, cmd)).toBe(true);
        // values the command path inlines are not shown
        expect(String(st.attributes['db.query.text'] ?? '')).not.toContain(listing.id);
        // the relay's read, which the commit sets off, is not filed under the command
        expect(String(st.attributes['db.query.text'] ?? '')).not.toContain('outbox_cursor');
        expect(String(st.attributes['db.query.text'] ?? '')).not.toContain('pg_snapshot_xmin');
      }

      // the delivery of its events on both nodes, children of the command's span
      for (const d of deliveries()) {
        expect(d.kind).toBe(CONSUMER);
        expect(byId.get(d.parentSpanId)?.name).toMatch(/^(command swap:propose|transaction|commit)$/);
      }
      // node B exported in protobuf, node A in JSON
      expect(deliveries().find(onB)!.contentType).toMatch(/^application\/x-protobuf/);
      expect(cmd.contentType).toMatch(/^application\/json/);

      // each node its own service.instance.id; the service name from OTEL_SERVICE_NAME
      const ids = new Set(otlp.spans.map((s) => String(s.resource['service.instance.id'])));
      expect(ids.size).toBe(2);
      expect(new Set(otlp.spans.map((s) => s.resource['service.name']))).toEqual(new Set(['renex-test']));

      // a REST request with a traceparent continues that trace
      const restTrace = hexId(16);
      const restParent = hexId(8);
      await seller.rest('GET', `/api/v1/listings/${listing.id}`, undefined, {
        traceparent: `00-${restTrace}-${restParent}-01`,
      });
      await until(
        async () => otlp.spans.some((s) => s.traceId === restTrace && s.parentSpanId === restParent),
        15_000,
        'the REST request span',
      );
      const http = otlp.spans.find((s) => s.traceId === restTrace && s.parentSpanId === restParent)!;
      expect(http.kind).toBe(SERVER);
      expect(onB(http)).toBe(true);
      seller.close();
      buyer.close();
    } finally {
      await Promise.all([a.kill(), b.kill()]);
      await redis.stop();
      await db.drop();
      await otlp.close();
    }
  }, 90_000);

  test('a command with a malformed traceparent is answered as usual, in a trace of its own', async () => {
    const otlp = await otlpReceiver();
    const db = await freshDatabase();
    const node = await startNode({
      ...db.env,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      const seller = await trader(node.url, 'seller');
      const listing = await seller.createListing({
        ...listingInput(),
        traceparent: '00-00000000000000000000000000000000-0000000000000000-01',
      } as Parameters<typeof seller.createListing>[0]);
      expect(listing.status).toBe('active');
      await until(
        async () => otlp.spans.some((s) => s.name === 'command listing:create'),
        15_000,
        'the command span',
      );
      const span = otlp.spans.find((s) => s.name === 'command listing:create')!;
      expect(span.parentSpanId).toBe('');
      expect(span.attributes['renex.traceparent_ignored']).toBe(true);
      seller.close();
    } finally {
      await node.kill();
      await db.drop();
      await otlp.close();
    }
  }, 60_000);
});

describe.skipIf(!ready)('tracing off (no OTLP endpoint)', () => {
  test('the SDK is not loaded, nothing is sent, and a traceparent on a command is simply taken off', async () => {
    const otlp = await otlpReceiver();
    const db = await freshDatabase();
    // OTEL_* without an endpoint: still off
    const env = { ...db.env, OTEL_SERVICE_NAME: 'renex-test', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    const port = String(await freePortOf());
    const child = spawnWithModuleReport({ ...env, PORT: port });
    try {
      const url = `http://127.0.0.1:${port}`;
      await until(async () => (await fetch(`${url}/readyz`)).ok, 30_000, `hub: ${child.output()}`);
      const seller = await trader(url, 'seller');
      const listing = await seller.createListing({
        ...listingInput(),
        traceparent: `00-${hexId(16)}-${hexId(8)}-01`,
      } as Parameters<typeof seller.createListing>[0]);
      expect(listing.status).toBe('active');
      // a retry with another traceparent is the same command: the traceparent is no part of it
      const requestId = randomUUID();
      const input = { ...listingInput(), meterId: seller.meterId };
      const traced = (traceparent: string) => ({ ...input, traceparent }) as typeof input;
      const first = await seller.command('listing:create', traced(`00-${hexId(16)}-${hexId(8)}-01`), {
        requestId,
      });
      expect(await seller.command('listing:create', traced('garbage'), { requestId })).toEqual(first);
      seller.close();
    } finally {
      child.process.kill('SIGTERM');
      await child.exited;
      await db.drop();
    }
    expect(child.output()).toContain('otel-sdk-loaded=false');
    expect(otlp.requests).toBe(0);
    await otlp.close();
  }, 60_000);
});

async function freePortOf(): Promise<number> {
  const { freePort } = await import('../support/cluster.js');
  return freePort();
}

/** src/main.ts with a preload that reports at exit whether any OpenTelemetry SDK module was loaded. */
function spawnWithModuleReport(env: Record<string, string>) {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './test/telemetry/report-sdk.mjs', 'src/main.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...TEST_ENV, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return { process: proc, output: () => out, exited };
}
