// fanout over the asked sizes: open the subscribers, sync clocks, run the phases of each size.
import * as hdr from 'hdr-histogram-js';
import { progress, type Swarm, split, syncClocks } from '../../harness.js';
import { histogram, summary } from '../../lib.js';
import type { FanoutTarget } from './deliveries.js';
import { capacityPhase, fixedPhase } from './phases.js';
import { type FanoutSettings, OPEN_IN_FLIGHT, OPEN_TIMEOUT_MS } from './settings.js';

export interface SizeFigures {
  subscribers: number;
  open: {
    opened: number;
    subscribed: number;
    failed: number;
    errors: Record<string, number>;
    retried: Record<string, number>;
    /** from each socket's scheduled time to its feed:subscribe ack */
    ready: ReturnType<typeof summary>;
    seconds: number;
  };
  clocks: { offsetMs: number; rttMs: number }[];
  fixedRate: Awaited<ReturnType<typeof fixedPhase>>;
  capacity: Awaited<ReturnType<typeof capacityPhase>>;
  /**
   * a second fixed rate when the asked one is well above the capacity (a load that queues up):
   * half the capacity, for latency under a load the server carries
   */
  carriedRate?: Awaited<ReturnType<typeof fixedPhase>>;
}

/** Half the capacity in events/s when the asked rate is well beyond it (as negotiate's phase B). */
export function carriedRate(asked: number, capacityEventsPerSecond: number): number | undefined {
  const half = Math.round(capacityEventsPerSecond * 5) / 10;
  return half > 0 && half < asked * 0.6 ? half : undefined;
}

/**
 * For each size, ascending: opens the extra subscriber sockets (spread over the swarms, socket i
 * of a swarm on urls[i % urls.length]), syncs clocks, warms up, then the fixed-rate and capacity
 * phases, and the carried rate (see `carriedRate`; `carried[i]` given: that rate for size i, so
 * the baseline runs the hub's rates). The sockets stay open from one size to the next and are
 * closed at the end.
 */
export async function fanoutSizes(
  target: FanoutTarget,
  swarms: Swarm[],
  s: FanoutSettings,
  carried?: (number | undefined)[],
): Promise<SizeFigures[]> {
  const out: SizeFigures[] = [];
  let held = 0;
  try {
    for (const size of s.sizes) {
      const line = progress(`${target.name}: opening ${size - held} subscriber sockets`);
      const auths = Array.from({ length: size - held }, (_, k) => target.auth(held + k));
      const parts = split(auths, swarms.length);
      const opened = await Promise.all(
        swarms.map((sw, k) =>
          sw.call<{
            connected: number;
            failed: number;
            errors: Record<string, number>;
            retried: Record<string, number>;
            ready: string;
            elapsedSeconds: number;
            subscribed: number;
          }>('open', {
            url: target.urls,
            auths: parts[k],
            rate: s.openRate / swarms.length,
            // a closed loop: at most OPEN_IN_FLIGHT handshakes under way, so a slow server's accept
            // queue does not overflow (the connect workload measures that storm)
            maxInFlight: Math.max(1, Math.round(OPEN_IN_FLIGHT / swarms.length)),
            readyOn: 'subscribe',
            timeoutMs: OPEN_TIMEOUT_MS,
            // a refused or reset handshake is tried again (and counted)
            retries: 3,
          }),
        ),
      );
      held = size;
      const ready = histogram();
      const errors: Record<string, number> = {};
      const retried: Record<string, number> = {};
      for (const o of opened) {
        if (o.connected) ready.add(hdr.decodeFromCompressedBase64(o.ready));
        for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v;
        for (const [k, v] of Object.entries(o.retried)) retried[k] = (retried[k] ?? 0) + v;
      }
      const retries = Object.values(retried).reduce((x, y) => x + y, 0);
      const subscribed = opened.reduce((a, o) => a + o.subscribed, 0);
      const failed = opened.reduce((a, o) => a + o.failed, 0);
      line.done(`${subscribed} subscribed, ${failed} failed, ${retries} attempts retried`);
      const clocks = await syncClocks(swarms);
      await fixedPhase(
        target,
        swarms,
        subscribed,
        s.rate,
        s.warmupSeconds,
        `${target.name} ${size}: warm-up`,
      );
      const fixed = await fixedPhase(
        target,
        swarms,
        subscribed,
        s.rate,
        s.seconds,
        `${target.name} ${size}: ${s.rate} events/s`,
      );
      const capacity = await capacityPhase(
        target,
        swarms,
        s.window,
        s.saturationSeconds,
        `${target.name} ${size}: capacity, ${s.window} events in flight`,
      );
      const lower = carried ? carried[out.length] : carriedRate(s.rate, capacity.eventsPerSecond);
      const carriedFigures = lower
        ? await fixedPhase(
            target,
            swarms,
            subscribed,
            lower,
            Math.max(5, s.seconds / 2),
            `${target.name} ${size}: ${lower} events/s`,
          )
        : undefined;
      out.push({
        subscribers: subscribed,
        open: {
          opened: auths.length,
          subscribed,
          failed,
          errors,
          retried,
          ready: summary(ready),
          seconds: Math.max(...opened.map((o) => o.elapsedSeconds)),
        },
        clocks,
        fixedRate: fixed,
        capacity,
        ...(carriedFigures ? { carriedRate: carriedFigures } : {}),
      });
    }
  } finally {
    await Promise.all(swarms.map((sw) => sw.call('close').catch(() => undefined)));
  }
  return out;
}
