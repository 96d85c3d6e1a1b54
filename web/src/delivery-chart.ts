// A trade's slots as a chart once it settles (uPlot): per slot, the kWh contracted and the kWh
// delivered and settled, as two half-slot bars, in the zone's market time (labelled). Volumes become
// numbers only to be drawn: the hover shows the hub's own strings.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { marketZones } from './market-time.js';
import type { MarketTrade, TradeSlotView } from './market-types.js';
import { bars, halfSlotXs, slotChartOptions, slotLookup } from './slot-chart.js';
import { h } from './ui.js';

const HEIGHT = 180;
const CONTRACTED = '#94a3b8';
const SETTLED = '#34d399';

/** The slot length of a trade: its zone's, else its window over its slots. */
function slotSeconds(t: MarketTrade): number {
  const zone = marketZones.get(t.zone)?.slotMinutes;
  if (zone) return zone * 60;
  const span = (Date.parse(t.deliveryEnd) - Date.parse(t.deliveryStart)) / 1000;
  return Math.max(60, Math.round(span / Math.max(1, t.slots.length)));
}

/**
 * Draws `t`'s slots into a new figure (`data-testid="delivery-chart"`, its chart area carrying
 * `data-slots` and `data-settled`); `destroy` removes the chart.
 */
export function deliveryChart(t: MarketTrade): { figure: HTMLElement; destroy: () => void } {
  const area = h('div', {
    class: 'chart-area delivery-chart-area',
    'data-testid': 'delivery-chart-area',
    'data-slots': String(t.slots.length),
    'data-settled': String(t.slots.filter((s) => s.settledKwh !== null).length),
  });
  const tz = marketZones.timeZone(t.zone);
  const figure = h(
    'figure',
    { class: 'chart delivery-chart', 'data-testid': 'delivery-chart' },
    h(
      'figcaption',
      { class: 'muted small' },
      `Contracted and delivered (settled) kWh per slot, in ${t.zone}'s market time`,
    ),
    area,
  );
  let chart: uPlot | undefined;
  let observer: ResizeObserver | undefined;
  const slots = t.slots;
  const draw = () => {
    if (chart || slots.length === 0) return;
    const xs = halfSlotXs(
      slots.map((s) => s.start),
      slotSeconds(t),
    );
    const col = (pick: (s: TradeSlotView) => string | null, at: 0 | 1) => {
      const out: (number | null)[] = [];
      for (const s of slots) {
        const v = pick(s);
        const n = v === null ? null : Number.parseFloat(v);
        out.push(at === 0 ? n : null, at === 1 ? n : null);
      }
      out.push(null);
      return out;
    };
    const { slotAt, exact } = slotLookup(slots);
    const width = () => Math.max(240, area.clientWidth);
    chart = new uPlot(
      slotChartOptions({
        width: width(),
        height: HEIGHT,
        timeZone: tz,
        zone: t.zone,
        xs,
        slotAt,
        series: [
          {
            label: 'Contracted',
            stroke: CONTRACTED,
            fill: 'rgba(148,163,184,0.45)',
            width: 1,
            paths: bars(),
            points: { show: false },
            value: exact((s) => s.contractedKwh),
          },
          {
            label: 'Delivered (settled)',
            stroke: SETTLED,
            fill: 'rgba(52,211,153,0.6)',
            width: 1,
            paths: bars(),
            points: { show: false },
            value: exact((s) => s.settledKwh),
          },
        ],
      }),
      [xs, col((s) => s.contractedKwh, 0), col((s) => s.settledKwh, 1)],
      area,
    );
    observer = new ResizeObserver(() => chart?.setSize({ width: width(), height: HEIGHT }));
    observer.observe(area);
  };
  // drawn once the figure is in the page (uPlot measures its box)
  queueMicrotask(draw);
  return {
    figure,
    destroy: () => {
      observer?.disconnect();
      chart?.destroy();
      chart = undefined;
    },
  };
}
