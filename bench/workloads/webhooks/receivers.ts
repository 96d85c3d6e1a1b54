// The webhooks workload's side of the deliveries: the receiver process (receiver.ts), the traders'
// webhooks pointed at it, the wait for every event the database addressed to them, and the figures
// (delivery latency from the event's `at`, missing, duplicates).
import {
  type BenchTrader,
  mapLimit,
  progress,
  queryRows as query,
  sleep,
  spawnIpcChild,
} from '../../harness.js';
import { histogram, summary } from '../../lib.js';
import { us } from '../negotiate/settings.js';

export interface ReceiverProcess {
  pid: number;
  /** the URL of hook `i` */
  url(i: number): string;
  /** one IPC request; the child answers them in order */
  ask<T>(op: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** Starts bench/workloads/webhooks/receiver.ts; resolves once it listens. */
export async function startReceiver(): Promise<ReceiverProcess> {
  const { child, exited } = spawnIpcChild('bench/workloads/webhooks/receiver.ts');
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`webhook receiver exited during start-up (${code})`)));
  });
  let queue = Promise.resolve<unknown>(undefined);
  return {
    pid: child.pid!,
    url: (i) => `http://127.0.0.1:${port}/h/${i}`,
    ask<T>(op: string, args: Record<string, unknown> = {}) {
      const next = queue.then(
        () =>
          new Promise<T>((resolve) => {
            child.once('message', (m: T) => resolve(m));
            child.send({ op, ...args });
          }),
      );
      queue = next.catch(() => undefined);
      return next;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A webhook of the run: hook index (its path), its trader, its id, and its position when created. */
export interface BenchHook {
  index: number;
  userId: string;
  webhookId: string;
  /** notify_targets.cursor right after creation: the hook gets the events of its user after it */
  since: string;
}

/**
 * Each of the first `n` traders registers one webhook (every event type, the default) to its own
 * path on the receiver, which gets the secrets to check its samples with.
 */
export async function registerWebhooks(
  traders: BenchTrader[],
  n: number,
  receiver: ReceiverProcess,
  databaseUrl: string,
): Promise<BenchHook[]> {
  const line = progress(`registering ${n} webhooks`);
  const made = await mapLimit(traders.slice(0, n), 8, async (t, index) => {
    const w = await t.rest<{ id: string; secret: string }>('POST', '/api/v1/webhooks', {
      url: receiver.url(index),
      description: `bench hook ${index}`,
    });
    return { index, userId: t.user.id, webhookId: w.id, secret: w.secret };
  });
  await receiver.ask('secrets', { secrets: made.map((m) => m.secret) });
  const rows = await query<{ id: string; cursor: string }>(
    databaseUrl,
    `SELECT id, cursor::text AS cursor FROM notify_targets WHERE id = ANY($1::uuid[])`,
    [made.map((m) => m.webhookId)],
  );
  const since = new Map(rows.map((r) => [r.id, r.cursor]));
  line.done(`${made.length} webhooks`);
  return made.map(({ secret: _, ...m }) => ({ ...m, since: since.get(m.webhookId)! }));
}

/** The events the database addressed to each hook (its user's, past its position, of its types): "index:eventId". */
export async function addressed(databaseUrl: string, hooks: BenchHook[]): Promise<Set<string>> {
  const rows = await query<{ k: string }>(
    databaseUrl,
    `SELECT x.i || ':' || e.id AS k
     FROM unnest($1::int[], $2::uuid[], $3::bigint[]) AS x(i, target, since)
     JOIN notify_targets t ON t.id = x.target
     JOIN events e ON (e.user_a = t.user_id OR e.user_b = t.user_id) AND e.id > x.since AND e.type = ANY(t.events)`,
    [hooks.map((h) => h.index), hooks.map((h) => h.webhookId), hooks.map((h) => h.since)],
  );
  return new Set(rows.map((r) => r.k));
}

/** The delivery log's attempts that did not deliver, by status and error (what a duplicate came from). */
export async function undelivered(
  databaseUrl: string,
): Promise<{ status: string; error: string; n: number }[]> {
  const rows = await query<{ status: string; error: string | null; n: string }>(
    databaseUrl,
    `SELECT status, left(coalesce(error, ''), 60) AS error, count(*)::text AS n FROM notify_attempts
      WHERE status <> 'delivered' GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 10`,
  );
  return rows.map((r) => ({ status: r.status, error: r.error ?? '', n: Number(r.n) }));
}

/** Database transactions committed so far (pg_stat_database; flushed by the backends about once a second). */
export async function commits(adminUrl: string, database: string): Promise<number> {
  const [row] = await query<{ n: string }>(
    adminUrl,
    'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  return Number(row?.n ?? 0);
}

export interface ReceiverReport {
  hooks: number[];
  ids: string[];
  at: number[];
  received: number[];
  malformed: number;
  sample: { every: number; checked: number; failed: number };
}

/**
 * Waits (up to `timeoutMs`) until the receiver has every event the database addressed to the hooks
 * so far; the addressed set, and how long it waited.
 */
export async function catchUp(
  databaseUrl: string,
  hooks: BenchHook[],
  receiver: ReceiverProcess,
  timeoutMs: number,
  label = 'waiting for the last webhook deliveries',
): Promise<{ expected: Set<string>; unique: number; waitedMs: number }> {
  const line = progress(label);
  const t0 = performance.now();
  let expected = await addressed(databaseUrl, hooks);
  let unique = 0;
  for (;;) {
    ({ unique } = await receiver.ask<{ unique: number }>('count'));
    line.update(`${unique}/${expected.size} received`);
    if (unique >= expected.size || performance.now() - t0 > timeoutMs) break;
    await sleep(250);
    expected = await addressed(databaseUrl, hooks);
  }
  const waitedMs = Math.round(performance.now() - t0);
  line.done(`${unique}/${expected.size} received, waited ${waitedMs} ms`);
  return { expected, unique, waitedMs };
}

/**
 * Once the load has stopped: waits (up to `timeoutMs`) until the receiver has every event the
 * database addressed to the hooks, then compares the two. Latency is from the event's `at` to its
 * first receipt; `windows` (epoch ms, by phase) pick the events committed during each measured phase.
 */
export async function drainAndCompare<P extends string>(
  databaseUrl: string,
  hooks: BenchHook[],
  receiver: ReceiverProcess,
  loadStoppedAt: number,
  windows: Record<P, { from: number; to: number }>,
  timeoutMs: number,
) {
  const { expected, waitedMs } = await catchUp(databaseUrl, hooks, receiver, timeoutMs);
  const r = await receiver.ask<ReceiverReport>('report');

  const all = histogram();
  const phases = Object.keys(windows) as P[];
  const byPhase = Object.fromEntries(phases.map((p) => [p, histogram()])) as Record<
    P,
    ReturnType<typeof histogram>
  >;
  const first = new Set<string>();
  let duplicates = 0;
  let unexpected = 0;
  let negative = 0;
  let lastReceipt = 0;
  const perHookLate = new Map<number, number>();
  /** each hook's first receipt (epoch ms) */
  const firstReceipt = new Map<number, number>();
  for (let i = 0; i < r.hooks.length; i++) {
    const k = `${r.hooks[i]}:${r.ids[i]}`;
    if (first.has(k)) {
      duplicates++;
      continue;
    }
    first.add(k);
    if (!expected.has(k)) unexpected++;
    const ms = r.received[i]! - r.at[i]!;
    if (ms < 0) negative++;
    all.recordValue(us(ms));
    for (const p of phases)
      if (r.at[i]! >= windows[p].from && r.at[i]! < windows[p].to) byPhase[p].recordValue(us(ms));
    lastReceipt = Math.max(lastReceipt, r.received[i]!);
    if (ms > 1000) perHookLate.set(r.hooks[i]!, (perHookLate.get(r.hooks[i]!) ?? 0) + 1);
    const f = firstReceipt.get(r.hooks[i]!);
    if (f === undefined || r.received[i]! < f) firstReceipt.set(r.hooks[i]!, r.received[i]!);
  }
  const missing = [...expected].filter((k) => !first.has(k));
  return {
    addressed: expected.size,
    received: r.hooks.length,
    delivered: first.size,
    missing: missing.length,
    missingSample: missing.slice(0, 10),
    duplicates,
    unexpected,
    malformed: r.malformed,
    signatureSample: r.sample,
    latencyAll: summary(all),
    /** the same for the events committed during each phase */
    latencyByPhase: Object.fromEntries(phases.map((p) => [p, summary(byPhase[p])])) as Record<
      P,
      ReturnType<typeof summary>
    >,
    /** receipts stamped before the event's `at` (clocks of two processes; clamped to 1 us) */
    negativeLatencies: negative,
    /** hooks with at least one delivery later than 1 s after commit */
    hooksWithDeliveriesOver1s: perHookLate.size,
    /** hooks that received nothing before the load stopped (events addressed to them meanwhile or not) */
    hooksFirstServedAfterLoad: hooks.filter((h) => (firstReceipt.get(h.index) ?? Infinity) >= loadStoppedAt)
      .length,
    /** from the end of the load to the last receipt */
    lastReceiptAfterLoadMs: lastReceipt ? Math.round(lastReceipt - loadStoppedAt) : null,
    waitedMs,
  };
}
