// The short tables of a fanout comparison (fanout and cluster print them).
import { ratio } from '../../lib.js';
import type { SizeFigures } from './sizes.js';

/** The short table of a fanout comparison: one row per size. */
export function fanoutRows(hub: SizeFigures[], bare: SizeFigures[], hubName = 'hub', bareName = 'bare') {
  return hub.map((h, i) => {
    const b = bare[i];
    return {
      subscribers: h.subscribers,
      [`${hubName} p50/p99 ms @${h.fixedRate.offeredEventsPerSecond}/s`]: `${h.fixedRate.latency.p50ms} / ${h.fixedRate.latency.p99ms}`,
      [`${bareName} p50/p99 ms`]: b ? `${b.fixedRate.latency.p50ms} / ${b.fixedRate.latency.p99ms}` : '-',
      [`${hubName} deliv/s fixed`]: h.fixedRate.deliveriesPerSecond,
      [`${bareName} deliv/s fixed`]: b?.fixedRate.deliveriesPerSecond ?? '-',
      [`${hubName} deliv/s max`]: h.capacity.deliveriesPerSecond,
      [`${bareName} deliv/s max`]: b?.capacity.deliveriesPerSecond ?? '-',
      'ratio max': ratio(h.capacity.deliveriesPerSecond, b?.capacity.deliveriesPerSecond) ?? '-',
      lost: `${lostOf(h)} / ${b ? lostOf(b) : '-'}`,
    };
  });
}

const lostOf = (f: SizeFigures) => f.fixedRate.lost + f.capacity.lost + (f.carriedRate?.lost ?? 0);

/** The carried-rate rows (sizes where the asked rate was well beyond the capacity). */
export function carriedRows(hub: SizeFigures[], bare: SizeFigures[], hubName = 'hub', bareName = 'bare') {
  return hub.flatMap((h, i) => {
    const b = bare[i];
    if (!h.carriedRate) return [];
    return [
      {
        subscribers: h.subscribers,
        'events/s (half the capacity)': h.carriedRate.offeredEventsPerSecond,
        [`${hubName} p50/p99 ms`]: `${h.carriedRate.latency.p50ms} / ${h.carriedRate.latency.p99ms}`,
        [`${bareName} p50/p99 ms`]: b?.carriedRate
          ? `${b.carriedRate.latency.p50ms} / ${b.carriedRate.latency.p99ms}`
          : '-',
        [`${hubName} deliv/s`]: h.carriedRate.deliveriesPerSecond,
        [`${bareName} deliv/s`]: b?.carriedRate?.deliveriesPerSecond ?? '-',
      },
    ];
  });
}
