// The hub's Prometheus metrics: a scrape, and a histogram between two scrapes.
import { BENCH_METRICS_TOKEN } from './hub.js';

/** The hub's Prometheus metrics (GET /metrics) as name{labels} -> value. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * A Prometheus histogram of the hub between two scrapes, summed over its label sets: count, mean,
 * and the bucket bounds holding the median and the 99th percentile (upper bounds, as coarse as
 * the buckets).
 */
export function metricHistogramDelta(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  filter: (labels: string) => boolean = () => true,
) {
  const sum = (m: Map<string, number>, suffix: string) => {
    const buckets = new Map<number, number>();
    let total = 0;
    for (const [k, v] of m) {
      if (!k.startsWith(`${name}${suffix}`)) continue;
      const labels = k.slice(name.length + suffix.length);
      if (!filter(labels)) continue;
      if (suffix === '_bucket') {
        const le = labels.match(/le="([^"]+)"/)?.[1];
        if (le === undefined) continue;
        const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
        buckets.set(bound, (buckets.get(bound) ?? 0) + v);
      } else total += v;
    }
    return { buckets, total };
  };
  const count = sum(after, '_count').total - sum(before, '_count').total;
  const seconds = sum(after, '_sum').total - sum(before, '_sum').total;
  const b0 = sum(before, '_bucket').buckets;
  const b1 = sum(after, '_bucket').buckets;
  const bounds = [...b1.keys()].sort((a, b) => a - b);
  const at = (q: number) => {
    for (const le of bounds) {
      if ((b1.get(le) ?? 0) - (b0.get(le) ?? 0) >= q * count)
        return le === Number.POSITIVE_INFINITY ? 'inf' : le * 1000;
    }
    return 'inf';
  };
  return {
    count,
    meanMs: count ? Number(((seconds / count) * 1000).toFixed(2)) : null,
    p50UpToMs: count ? at(0.5) : null,
    p99UpToMs: count ? at(0.99) : null,
  };
}
