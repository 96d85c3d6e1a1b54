// A meter's delivery slots as a chart (GET /api/v1/meters/:id/slots): per slot, what is contracted
// for export and for import as bars, each against its limit drawn as a line, in the zone's market
// time (labelled). Each slot is two half-slot columns, export then import, so both stay readable.
// Volumes become numbers only to be drawn: the hover and the summary show the hub's own strings.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compareDecimal, KWH_SCALE } from './decimal.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import { fmtDayHour, fmtTime, marketZones, tzLabel } from './market-time.js';
import type { MeterSlot } from './market-types.js';

const HEIGHT = 220;
const EXPORT = '#34d399';
const IMPORT = '#60a5fa';

const tickFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3, numberingSystem: 'latn' });

type Way = 'export' | 'import';

/** "Export: contracted in 2 of 24 slots, at most 3.000 kWh (limit 5.000 kWh)." */
function wayLine(slots: MeterSlot[], way: Way, zone: string): string {
  const contracted = (s: MeterSlot) => (way === 'export' ? s.exportContractedKwh : s.importContractedKwh);
  const limit = (s: MeterSlot) => (way === 'export' ? s.exportLimitKwh : s.importLimitKwh);
  const used = slots.filter((s) => compareDecimal(contracted(s), '0', KWH_SCALE) === 1);
  const Way = way === 'export' ? 'Export' : 'Import';
  if (used.length === 0) return `${Way}: nothing contracted (limit ${fmtKwh(limit(slots[0]!))} per slot).`;
  let top = used[0]!;
  for (const s of used) if (compareDecimal(contracted(s), contracted(top), KWH_SCALE) === 1) top = s;
  return `${Way}: contracted in ${used.length} of ${slots.length} slots, at most ${fmtKwh(contracted(top))} of ${fmtKwh(limit(top))} (slot starting ${fmtTime(top.start, zone)}).`;
}

export class MeterChart {
  private chart: uPlot | undefined;

  constructor(
    private readonly box: HTMLElement,
    private readonly summary: HTMLElement,
  ) {
    new ResizeObserver(() => this.chart?.setSize({ width: this.width(), height: HEIGHT })).observe(box);
  }

  private width(): number {
    return Math.max(240, this.box.clientWidth);
  }

  clear(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.summary.textContent = '';
  }

  /** Draws the slots of a meter of `zone` (of `slotMinutes` each). */
  render(slots: MeterSlot[], zone: string, slotMinutes: number): void {
    this.clear();
    this.box.dataset.slots = String(slots.length);
    if (slots.length === 0) {
      this.summary.textContent = 'No slots in this window.';
      return;
    }
    const tz = marketZones.timeZone(zone);
    const half = (slotMinutes * 60) / 2;
    const xs: number[] = [];
    const col = (pick: (s: MeterSlot) => string, at: 0 | 1 | 'both') => {
      const out: (number | null)[] = [];
      for (const s of slots) {
        const v = Number.parseFloat(pick(s));
        out.push(at === 1 ? null : v, at === 0 ? null : v);
      }
      // the end of the last slot, so that the limit lines reach it
      out.push(at === 'both' ? Number.parseFloat(pick(slots.at(-1)!)) : null);
      return out;
    };
    for (const s of slots) {
      const t = Date.parse(s.start) / 1000;
      xs.push(t, t + half);
    }
    xs.push(Date.parse(slots.at(-1)!.start) / 1000 + 2 * half);
    const names = [...new Set([xs[0]!, xs.at(-1)!].map((x) => tzLabel(tz, x * 1000)))].join('/');
    const slotAt = (idx: number | null | undefined) =>
      idx == null ? undefined : slots[Math.min(slots.length - 1, Math.floor(idx / 2))];
    /** the hub's own string for the slot under the cursor */
    const exact =
      (pick: (s: MeterSlot) => string) => (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
        const s = slotAt(idx);
        return s ? fmtDecimal(pick(s)) : '—';
      };
    const axis: uPlot.Axis = {
      stroke: '#8d9bb2',
      grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
      ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
    };
    const bars = uPlot.paths.bars!({ align: 1, size: [0.9, Number.POSITIVE_INFINITY] });
    const step = uPlot.paths.stepped!({ align: 1 });
    const opts: uPlot.Options = {
      width: this.width(),
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
        { ...axis, size: 56, label: 'kWh', values: (_u, splits) => splits.map((v) => tickFormat.format(v)) },
      ],
      series: [
        {
          value: (_u, v, _si, idx) => {
            const s = slotAt(idx);
            return v == null || !s ? '—' : fmtTime(s.start, zone);
          },
        },
        {
          label: 'Export contracted',
          stroke: EXPORT,
          fill: 'rgba(52,211,153,0.55)',
          width: 1,
          paths: bars,
          points: { show: false },
          value: exact((s) => s.exportContractedKwh),
        },
        {
          label: 'Export limit',
          stroke: EXPORT,
          width: 2,
          dash: [6, 4],
          paths: step,
          points: { show: false },
          value: exact((s) => s.exportLimitKwh),
        },
        {
          label: 'Import contracted',
          stroke: IMPORT,
          fill: 'rgba(96,165,250,0.55)',
          width: 1,
          paths: bars,
          points: { show: false },
          value: exact((s) => s.importContractedKwh),
        },
        {
          label: 'Import limit',
          stroke: IMPORT,
          width: 2,
          dash: [2, 3],
          paths: step,
          points: { show: false },
          value: exact((s) => s.importLimitKwh),
        },
      ],
    };
    this.chart = new uPlot(
      opts,
      [
        xs,
        col((s) => s.exportContractedKwh, 0),
        col((s) => s.exportLimitKwh, 'both'),
        col((s) => s.importContractedKwh, 1),
        col((s) => s.importLimitKwh, 'both'),
      ],
      this.box,
    );
    this.summary.textContent = `${wayLine(slots, 'export', zone)} ${wayLine(slots, 'import', zone)}`;
  }
}
