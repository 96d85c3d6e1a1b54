// A trade's slots as a chart once it settles (uPlot): per slot, the kWh contracted and the kWh
// delivered and settled, as two half-slot bars, in the zone's market time (labelled). Volumes become
// numbers only to be drawn: the hover shows the hub's own strings.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtDecimal } from './locale.js';
import { fmtDayHour, fmtTime, marketZones, tzLabel } from './market-time.js';
import type { MarketTrade, TradeSlotView } from './market-types.js';
import { h } from './ui.js';

const HEIGHT = 180;
const CONTRACTED = '#94a3b8';
const SETTLED = '#34d399';

const tickFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3, numberingSystem: 'latn' });

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
    const half = slotSeconds(t) / 2;
    const xs: number[] = [];
    for (const s of slots) {
      const x = Date.parse(s.start) / 1000;
      xs.push(x, x + half);
    }
    xs.push(Date.parse(slots.at(-1)!.start) / 1000 + 2 * half);
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
    const slotAt = (idx: number | null | undefined) =>
      idx == null ? undefined : slots[Math.min(slots.length - 1, Math.floor(idx / 2))];
    const exact =
      (pick: (s: TradeSlotView) => string | null) =>
      (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
        const s = slotAt(idx);
        const v = s ? pick(s) : null;
        return v === null ? '—' : fmtDecimal(v);
      };
    const names = [...new Set([xs[0]!, xs.at(-1)!].map((x) => tzLabel(tz, x * 1000)))].join('/');
    const axis: uPlot.Axis = {
      stroke: '#8d9bb2',
      grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
      ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
    };
    const bars = uPlot.paths.bars!({ align: 1, size: [0.9, Number.POSITIVE_INFINITY] });
    const width = () => Math.max(240, area.clientWidth);
    chart = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        axes: [
          {
            ...axis,
            space: 90,
            values: (_u, splits) => splits.map((v) => fmtDayHour(v * 1000, tz)),
            label: `Slot start (${names})`,
          },
          {
            ...axis,
            size: 56,
            label: 'kWh',
            values: (_u, splits) => splits.map((v) => tickFormat.format(v)),
          },
        ],
        series: [
          {
            value: (_u, v, _si, idx) => {
              const s = slotAt(idx);
              return v == null || !s ? '—' : fmtTime(s.start, t.zone);
            },
          },
          {
            label: 'Contracted',
            stroke: CONTRACTED,
            fill: 'rgba(148,163,184,0.45)',
            width: 1,
            paths: bars,
            points: { show: false },
            value: exact((s) => s.contractedKwh),
          },
          {
            label: 'Delivered (settled)',
            stroke: SETTLED,
            fill: 'rgba(52,211,153,0.6)',
            width: 1,
            paths: bars,
            points: { show: false },
            value: exact((s) => s.settledKwh),
          },
        ],
      },
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
