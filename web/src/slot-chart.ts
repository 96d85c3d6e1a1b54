// What the slot charts share (uPlot): a slot is two half-slot columns on a time axis in a zone's
// market time (labelled with its abbreviation), kWh on the other axis, and the hover showing the
// hub's own strings of the slot under the cursor. Used by the meter chart and the delivery chart.
import uPlot from 'uplot';
import { fmtDecimal } from './locale.js';
import { fmtDayHour, fmtTime, tzLabel } from './market-time.js';

const tickFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3, numberingSystem: 'latn' });

const AXIS: uPlot.Axis = {
  stroke: '#8d9bb2',
  grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
  ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
};

/** Bars of half a slot, and a stepped line (a limit) across whole slots. */
export const bars = () => uPlot.paths.bars!({ align: 1, size: [0.9, Number.POSITIVE_INFINITY] });
export const stepped = () => uPlot.paths.stepped!({ align: 1 });

/**
 * The x values of `starts` (ISO times of slots `slotSeconds` long): each slot's start and its
 * middle, then the end of the last slot.
 */
export function halfSlotXs(starts: string[], slotSeconds: number): number[] {
  const half = slotSeconds / 2;
  const xs: number[] = [];
  for (const s of starts) {
    const t = Date.parse(s) / 1000;
    xs.push(t, t + half);
  }
  xs.push(Date.parse(starts.at(-1)!) / 1000 + 2 * half);
  return xs;
}

/** What a slot chart of `slots` needs to find the slot under the cursor (two x values a slot). */
export function slotLookup<S>(slots: S[]) {
  const slotAt = (idx: number | null | undefined) =>
    idx == null ? undefined : slots[Math.min(slots.length - 1, Math.floor(idx / 2))];
  /** a series' hover value: the hub's own string of the slot under the cursor */
  const exact =
    (pick: (s: S) => string | null) => (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
      const s = slotAt(idx);
      const v = s ? pick(s) : null;
      return v === null ? '—' : fmtDecimal(v);
    };
  return { slotAt, exact };
}

/**
 * The options every slot chart has: size, the zone's time on the x axis, kWh on the y axis from
 * 0, and the x series showing the start of the slot under the cursor. `series` follow it.
 */
export function slotChartOptions<S extends { start: string }>(p: {
  width: number;
  height: number;
  timeZone: string;
  zone: string;
  xs: number[];
  slotAt: (idx: number | null | undefined) => S | undefined;
  series: uPlot.Series[];
}): uPlot.Options {
  const names = [...new Set([p.xs[0]!, p.xs.at(-1)!].map((x) => tzLabel(p.timeZone, x * 1000)))].join('/');
  return {
    width: p.width,
    height: p.height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), p.timeZone),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
    axes: [
      {
        ...AXIS,
        space: 90,
        values: (_u, splits) => splits.map((v) => fmtDayHour(v * 1000, p.timeZone)),
        label: `Slot start (${names})`,
      },
      { ...AXIS, size: 56, label: 'kWh', values: (_u, splits) => splits.map((v) => tickFormat.format(v)) },
    ],
    series: [
      {
        value: (_u, v, _si, idx) => {
          const s = p.slotAt(idx);
          return v == null || !s ? '—' : fmtTime(s.start, p.zone);
        },
      },
      ...p.series,
    ],
  };
}
