// A meter's delivery slots as a chart (GET /api/v1/meters/:id/slots): per slot, what is contracted
// for export and for import as bars, each against its limit drawn as a line, in the zone's market
// time (labelled). Each slot is two half-slot columns, export then import, so both stay readable.
// Volumes become numbers only to be drawn: the hover and the summary show the hub's own strings.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compareDecimal, KWH_SCALE } from './decimal.js';
import { fmtKwh } from './locale.js';
import { fmtTime, marketZones } from './market-time.js';
import type { MeterSlot } from './market-types.js';
import { bars, halfSlotXs, slotChartOptions, slotLookup, stepped } from './slot-chart.js';

const HEIGHT = 220;
const EXPORT = '#34d399';
const IMPORT = '#60a5fa';

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
    const xs = halfSlotXs(
      slots.map((s) => s.start),
      slotMinutes * 60,
    );
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
    const { slotAt, exact } = slotLookup(slots);
    const opts = slotChartOptions({
      width: this.width(),
      height: HEIGHT,
      timeZone: tz,
      zone,
      xs,
      slotAt,
      series: [
        {
          label: 'Export contracted',
          stroke: EXPORT,
          fill: 'rgba(52,211,153,0.55)',
          width: 1,
          paths: bars(),
          points: { show: false },
          value: exact((s) => s.exportContractedKwh),
        },
        {
          label: 'Export limit',
          stroke: EXPORT,
          width: 2,
          dash: [6, 4],
          paths: stepped(),
          points: { show: false },
          value: exact((s) => s.exportLimitKwh),
        },
        {
          label: 'Import contracted',
          stroke: IMPORT,
          fill: 'rgba(96,165,250,0.55)',
          width: 1,
          paths: bars(),
          points: { show: false },
          value: exact((s) => s.importContractedKwh),
        },
        {
          label: 'Import limit',
          stroke: IMPORT,
          width: 2,
          dash: [2, 3],
          paths: stepped(),
          points: { show: false },
          value: exact((s) => s.importLimitKwh),
        },
      ],
    });
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
