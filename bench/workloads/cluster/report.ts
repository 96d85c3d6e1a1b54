// The cluster workload's ratios per node count, and its tables on stdout.
import { printTable, ratio } from '../../lib.js';
import type { Config, HubConfig } from './configs.js';

const closed = (c: Config) => c.negotiate.closedLoop.commandsPerSecond;
const cap = (c: Config, i: number) => c.fanout[i]?.capacity.deliveriesPerSecond ?? null;
const fixedP99 = (c: Config, i: number) => c.fanout[i]?.fixedRate.latency.p99ms ?? null;
const lat = (s: { p50ms: number; p99ms: number } | undefined) => (s ? `${s.p50ms} / ${s.p99ms}` : '-');

/** For each node count: hub : bare, and each side against its own figure on the fewest nodes. */
export function scaling(hubs: HubConfig[], bares: Config[], sizes: number[]) {
  const [h1, b1] = [hubs[0]!, bares[0]!];
  return hubs.map((h, i) => {
    const b = bares[i]!;
    const negRatio = ratio(closed(h), closed(b));
    return {
      nodes: h.nodes,
      negotiate: {
        hubCommandsPerSecond: closed(h),
        bareMessagesPerSecond: closed(b),
        hubToBare: negRatio,
        ratioToFirstRatio: ratio(negRatio, ratio(closed(h1), closed(b1))),
        hubToFirstHub: ratio(closed(h), closed(h1)),
        bareToFirstBare: ratio(closed(b), closed(b1)),
        hubEventsPerSecondClosedLoop: h.closedLoopEventsPerSecond,
        hubAckP99AtFixedRateMs: h.negotiate.fixedRate[0]?.ack.p99ms ?? null,
        hubDeliveryP99AtFixedRateMs: h.negotiate.fixedRate[0]?.delivery.p99ms ?? null,
        bareDeliveryP99AtFixedRateMs: b.negotiate.fixedRate[0]?.delivery.p99ms ?? null,
      },
      fanout: sizes.map((_, k) => {
        const fr = ratio(cap(h, k), cap(b, k));
        return {
          subscribers: h.fanout[k]?.subscribers ?? null,
          hubDeliveriesPerSecond: cap(h, k),
          bareDeliveriesPerSecond: cap(b, k),
          hubToBare: fr,
          ratioToFirstRatio: ratio(fr, ratio(cap(h1, k), cap(b1, k))),
          hubToFirstHub: ratio(cap(h, k), cap(h1, k)),
          bareToFirstBare: ratio(cap(b, k), cap(b1, k)),
          hubP99AtFixedRateMs: fixedP99(h, k),
          bareP99AtFixedRateMs: fixedP99(b, k),
        };
      }),
    };
  });
}

export function printCluster(
  hubs: HubConfig[],
  bares: Config[],
  sizes: number[],
  negRate: number,
  fanRate: number,
  scaled: ReturnType<typeof scaling>,
): void {
  const configs = hubs.flatMap((h, i): [string, Config][] => [
    [`hub, ${h.nodes} node(s)`, h],
    [`bare, ${h.nodes} node(s)`, bares[i]!],
  ]);
  printTable(
    configs.map(([name, c]) => {
      const n = c.negotiate;
      const f = n.fixedRate[0];
      return {
        negotiate: name,
        'cmds/s closed': closed(c),
        'events/s closed':
          'closedLoopEventsPerSecond' in c ? (c as HubConfig).closedLoopEventsPerSecond : '-',
        'ack p50/p99 closed': lat(n.closedLoop.service),
        [`ack p50/p99 @${negRate}/s`]: lat(f?.ack),
        [`delivery p50/p99 @${negRate}/s`]: lat(f?.delivery),
        'failed / lost': `${n.closedLoop.failed + (f?.failed ?? 0)} / ${n.closedLoop.deliveriesLost + (f?.deliveriesLost ?? 0)}`,
      };
    }),
  );
  printTable(
    sizes.flatMap((_, i) =>
      configs.map(([name, c]) => {
        const f = c.fanout[i];
        return {
          fanout: name,
          subscribers: f?.subscribers ?? '-',
          [`p50/p99 ms @${fanRate}/s`]: lat(f?.fixedRate.latency),
          'deliv/s max': f?.capacity.deliveriesPerSecond ?? '-',
          'p50/p99 ms max': lat(f?.capacity.latency),
          lost: f ? f.fixedRate.lost + f.capacity.lost + (f.carriedRate?.lost ?? 0) : '-',
          'cores srv/swarm/redis/other (max)': f
            ? `${f.capacity.cpu.server} / ${f.capacity.cpu.swarms} / ${f.capacity.cpu.redis} / ${f.capacity.cpu.other}`
            : '-',
        };
      }),
    ),
  );
  printTable(
    scaled.flatMap((s) => [
      {
        nodes: s.nodes,
        figure: 'negotiate closed loop',
        hub: s.negotiate.hubCommandsPerSecond,
        bare: s.negotiate.bareMessagesPerSecond,
        'hub:bare': s.negotiate.hubToBare ?? '-',
        'ratio / 1st ratio': s.negotiate.ratioToFirstRatio ?? '-',
        'hub n:1st': s.negotiate.hubToFirstHub ?? '-',
        'bare n:1st': s.negotiate.bareToFirstBare ?? '-',
      },
      ...s.fanout.map((f) => ({
        nodes: s.nodes,
        figure: `fanout ${f.subscribers} deliveries/s max`,
        hub: f.hubDeliveriesPerSecond ?? '-',
        bare: f.bareDeliveriesPerSecond ?? '-',
        'hub:bare': f.hubToBare ?? '-',
        'ratio / 1st ratio': f.ratioToFirstRatio ?? '-',
        'hub n:1st': f.hubToFirstHub ?? '-',
        'bare n:1st': f.bareToFirstBare ?? '-',
      })),
    ]),
  );
}
