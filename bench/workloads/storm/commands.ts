// The storm workload's command stream: a few senders (bundled clients in this process, through
// the load balancer like every trader) offer commands at a fixed rate, open loop, before, during
// and after each failover: on the sellers' listings, swap:propose, and swap:withdraw of that
// proposal the next time the same sender comes to the same listing (events the sellers must get,
// live or replayed: a sender has one open swap per listing), and every `createEvery`th (0: none)
// a listing:create (a feed event to every trader). Each command
// has its own requestId; its outcome as the client saw it is kept (acked, an error code from the
// hub, or UNAVAILABLE no_answer: every attempt of the client went unanswered) and is checked
// against what the database committed (idempotency_keys holds each committed requestId).
import { randomUUID } from 'node:crypto';
import { HubClientError } from '../../../src/client/index.js';
import { type BenchTrader, countInto, listingInput, queryRows } from '../../harness.js';

export interface Outcome {
  requestId: string;
  phase: string;
  kind: 'propose' | 'withdraw' | 'create';
  /** ms from the send to the answer */
  ms: number;
  /** 'ok', the hub's error code, or 'no_answer' */
  result: string;
  /** the error's message, when not ok */
  message?: string;
}

export function commandStream(senders: BenchTrader[], listings: string[], rate: number, createEvery: number) {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let phase = '';
  /** the open swap of each (sender, listing) pair, when its propose was acked */
  const open = new Map<number, string>();

  const one = async (i: number) => {
    const pair = i % (senders.length * listings.length);
    const sender = senders[pair % senders.length]!;
    const listingId = listings[Math.floor(pair / senders.length)]!;
    const requestId = randomUUID();
    const swapId = open.get(pair);
    const kind =
      createEvery > 0 && i % createEvery === createEvery - 1 ? 'create' : swapId ? 'withdraw' : 'propose';
    const t0 = performance.now();
    const p = phase;
    let result = 'ok';
    let message: string | undefined;
    try {
      if (kind === 'withdraw') {
        open.delete(pair);
        await sender.command('swap:withdraw', { swapId: swapId! }, { requestId });
      } else if (kind === 'create')
        await sender.command(
          'listing:create',
          { ...listingInput('1', sender.meterId), description: `storm ${i}` },
          { requestId },
        );
      else {
        const swap = await sender.command(
          'swap:propose',
          { listingId, meterId: sender.meterId, volumeKwh: '1', pricePerKwh: '0.1' },
          { requestId },
        );
        open.set(pair, swap.id);
      }
    } catch (err) {
      message = (err as Error).message?.slice(0, 120);
      result =
        err instanceof HubClientError
          ? err.details?.reason === 'no_answer'
            ? 'no_answer'
            : err.code
          : (err as Error).message.slice(0, 60);
    }
    outcomes.push({ requestId, phase: p, kind, ms: Math.round(performance.now() - t0), result, message });
  };

  return {
    outcomes,
    /** Starts (or goes on) offering commands at `rate`, labelled `label` from now on. */
    start(label: string) {
      phase = label;
      if (timer) return;
      const t0 = performance.now();
      const base = seq;
      timer = setInterval(() => {
        const due = base + Math.floor(((performance.now() - t0) * rate) / 1000);
        while (seq < due) {
          const p = one(seq++);
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }
      }, 5);
    },
    /** Stops offering and waits for every command sent to be answered or given up by the client. */
    async stop() {
      clearInterval(timer);
      timer = undefined;
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}

/** The outcomes of a phase against the database: what committed, what was lost. */
export async function checkOutcomes(dbUrl: string, outcomes: Outcome[]) {
  const rows = await queryRows<{ key: string }>(
    dbUrl,
    'SELECT key FROM idempotency_keys WHERE key = ANY($1)',
    [outcomes.map((o) => o.requestId)],
  );
  const committed = new Set(rows.map((r) => r.key));
  const results: Record<string, number> = {};
  let ackedNotCommitted = 0;
  let refusedButCommitted = 0;
  let noAnswer = 0;
  let noAnswerCommitted = 0;
  let maxMs = 0;
  const messages: Record<string, number> = {};
  for (const o of outcomes) {
    countInto(results, o.result);
    if (o.message) countInto(messages, `${o.kind}: ${o.message}`);
    maxMs = Math.max(maxMs, o.ms);
    const c = committed.has(o.requestId);
    if (o.result === 'ok' && !c) ackedNotCommitted++;
    else if (o.result === 'no_answer') {
      noAnswer++;
      if (c) noAnswerCommitted++;
    } else if (o.result !== 'ok' && c) refusedButCommitted++;
  }
  return {
    sent: outcomes.length,
    results,
    messages,
    committed: outcomes.filter((o) => committed.has(o.requestId)).length,
    /** never answered (the client gave up) */
    noAnswer,
    noAnswerCommitted,
    /** acked ok but not in the database */
    ackedNotCommitted,
    /** answered with an error (UNAVAILABLE ...) and yet committed */
    refusedButCommitted,
    /** lost: the trader was not told the truth (no answer, or an answer the database contradicts) */
    lost: noAnswer + ackedNotCommitted + refusedButCommitted,
    slowestAnswerMs: maxMs,
  };
}
