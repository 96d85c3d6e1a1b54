// fanout's phases on one size: events at a fixed offered rate, and capacity (a window in flight).
import {
  type CpuSplit,
  countInto,
  cpuMeter,
  errorCode,
  fixedRate,
  progress,
  type Swarm,
  sleep,
} from '../../harness.js';
import type { summary } from '../../lib.js';
import { collect, deliveryFigures, epoch, type FanoutTarget, waitDelivered } from './deliveries.js';
import { PUBLISH_LANES, SETTLE_MS, STALL_MS } from './settings.js';

let nextSeq = 1;

export interface PhaseFigures {
  events: number;
  publishErrors: Record<string, number>;
  deliveriesExpected: number;
  delivered: number;
  lost: number;
  /** deliveries / seconds from the phase's first send to its last delivery */
  deliveriesPerSecond: number;
  seconds: number;
  latency: ReturnType<typeof summary>;
  eventBytes: number;
  unparsed: number;
  disconnects: number;
  cpu: CpuSplit;
}

/** Events at a fixed offered rate; latency from each slot's scheduled time. */
export async function fixedPhase(
  target: FanoutTarget,
  swarms: Swarm[],
  subscribers: number,
  rate: number,
  seconds: number,
  label: string,
): Promise<PhaseFigures & { offeredEventsPerSecond: number; unserved: number }> {
  await Promise.all(swarms.map((s) => s.call('reset', { watch: false })));
  const cpu = await cpuMeter(target.pids, swarms);
  const errors: Record<string, number> = {};
  let ok = 0;
  const line = progress(label);
  const t0 = epoch();
  const out = await fixedRate({
    rate,
    seconds,
    workers: Array.from({ length: PUBLISH_LANES }, (_, i) => i),
    drainMs: SETTLE_MS,
    run: async (_lane, dueAt) => {
      const seq = nextSeq++;
      try {
        await target.publish(seq, performance.timeOrigin + dueAt);
        ok++;
      } catch (err) {
        countInto(errors, errorCode(err));
      }
    },
    onTick: (s) => line.update(`${s.toFixed(0)}/${seconds} s, ${ok} events`),
  });
  const expected = ok * subscribers;
  await waitDelivered(swarms, expected, SETTLE_MS);
  const split = await cpu();
  const c = await collect(swarms);
  const figures = {
    offeredEventsPerSecond: rate,
    events: ok,
    unserved: out.unserved,
    publishErrors: errors,
    ...deliveryFigures(c, expected, t0, split),
  };
  line.done(
    `${ok} events, ${c.delivered}/${expected} delivered, p50 ${figures.latency.p50ms} ms, ` +
      `p99 ${figures.latency.p99ms} ms, ${figures.deliveriesPerSecond} deliveries/s`,
  );
  return figures;
}

/**
 * Capacity: `window` events in flight; an event leaves the window when every subscriber has it
 * (each swarm reports when all its subscribed sockets have it), then the next is sent.
 * Latency here is from the actual send.
 */
export async function capacityPhase(
  target: FanoutTarget,
  swarms: Swarm[],
  window: number,
  seconds: number,
  label: string,
): Promise<PhaseFigures & { window: number; eventsPerSecond: number; stalled: number }> {
  const resets = await Promise.all(
    swarms.map((s) => s.call<{ subscribed: number }>('reset', { watch: true })),
  );
  const subscribers = resets.reduce((a, r) => a + r.subscribed, 0);
  const parts = resets.filter((r) => r.subscribed > 0).length;
  const outstanding = new Map<number, { left: number; at: number }>();
  let wake: (() => void) | undefined;
  let completed = 0;
  let stalled = 0;
  let ok = 0;
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  for (const s of swarms) {
    s.onDone((seq) => {
      const o = outstanding.get(seq);
      if (!o || --o.left > 0) return;
      outstanding.delete(seq);
      completed++;
      wake?.();
    });
  }
  const cpu = await cpuMeter(target.pids, swarms);
  const line = progress(label);
  const t0 = epoch();
  const end = performance.now() + seconds * 1000;
  let lastTick = performance.now();
  while (performance.now() < end) {
    while (outstanding.size < window && performance.now() < end) {
      const seq = nextSeq++;
      outstanding.set(seq, { left: parts, at: performance.now() });
      const p = target.publish(seq, epoch()).then(
        () => {
          ok++;
        },
        (err) => {
          countInto(errors, errorCode(err));
          if (outstanding.delete(seq)) wake?.();
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, 50);
    });
    const now = performance.now();
    for (const [seq, o] of outstanding) {
      if (now - o.at > STALL_MS) {
        outstanding.delete(seq);
        stalled++;
      }
    }
    if (now - lastTick > 1000) {
      lastTick = now;
      line.update(`${((now - (end - seconds * 1000)) / 1000).toFixed(0)}/${seconds} s, ${completed} events`);
    }
  }
  const drainEnd = performance.now() + SETTLE_MS;
  while (outstanding.size && performance.now() < drainEnd) await sleep(20);
  await Promise.allSettled([...inFlight]);
  const expected = ok * subscribers;
  await waitDelivered(swarms, expected, 1000);
  const split = await cpu();
  const c = await collect(swarms);
  for (const s of swarms) s.onDone(() => {});
  const delivery = deliveryFigures(c, expected, t0, split);
  const figures = {
    window,
    events: ok,
    eventsPerSecond: Math.round(completed / delivery.seconds),
    stalled,
    publishErrors: errors,
    ...delivery,
  };
  line.done(
    `${ok} events, ${c.delivered}/${expected} delivered, ${figures.deliveriesPerSecond} deliveries/s, ` +
      `p99 ${figures.latency.p99ms} ms, stalled ${stalled}`,
  );
  return figures;
}
