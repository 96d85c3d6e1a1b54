// The trader's own trades as points: x is the delivery period (its start, in market time: the
// zones' time zone when all the trades' zones share one, else UTC; labelled), y the price, one
// series per energy type. Points, not lines: joining one trader's deals into a line would read as a
// market price series, which it is not (market prices come with the market-data issue).
// Prices become numbers only here, to be drawn: the hover shows each trade's own price string (in
// the reader's locale, exact) and the price axis's ticks are written by Intl in that locale.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Trade } from '../../src/client/index.js';
import { fmtDecimal } from './locale.js';
import { fmtDayHour, marketZones, tzLabel } from './market-time.js';
import { capitalize, ENERGY_TYPES } from './ui.js';

const COLORS: Record<string, string> = {
  solar: '#f5c518',
  wind: '#5ec8f2',
  hydro: '#4f7cff',
  biomass: '#7ccf62',
  geothermal: '#f0703a',
  other: '#b0b7c3',
};

const HEIGHT = 220;

/** the price axis's ticks, in the reader's locale (Latin digits, like every number here) */
const tickFormat = new Intl.NumberFormat(undefined, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
  numberingSystem: 'latn',
});

export class PriceChart {
  private chart: uPlot | undefined;

  constructor(
    private readonly box: HTMLElement,
    private readonly figure: HTMLElement,
  ) {
    new ResizeObserver(() => this.chart?.setSize({ width: this.width(), height: HEIGHT })).observe(box);
  }

  private width(): number {
    return Math.max(200, this.box.clientWidth);
  }

  render(trades: Trade[]): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.figure.hidden = trades.length === 0;
    if (trades.length === 0) return;
    const types = ENERGY_TYPES.filter((t) => trades.some((x) => x.energyType === t));
    const xs = [...new Set(trades.map((t) => Date.parse(t.deliveryStart) / 1000))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const zones = new Set(trades.map((t) => marketZones.timeZone(t.zone)));
    const tz = zones.size === 1 ? [...zones][0]! : 'UTC';
    const names = [...new Set(xs.map((x) => tzLabel(tz, x * 1000)))].join('/');
    // several trades of one type in one period: each is a point; the series holds the last, the
    // others go to extra series of the same colour without a legend entry
    const series: { type: string; ys: (number | null)[]; prices: (string | null)[] }[] = [];
    for (const t of trades) {
      const i = index.get(Date.parse(t.deliveryStart) / 1000)!;
      let s = series.find((x) => x.type === t.energyType && x.ys[i] === null);
      if (!s) {
        s = { type: t.energyType, ys: xs.map(() => null), prices: xs.map(() => null) };
        series.push(s);
      }
      s.ys[i] = Number.parseFloat(t.pricePerKwh);
      s.prices[i] = t.pricePerKwh;
    }
    series.sort((a, b) => types.indexOf(a.type as never) - types.indexOf(b.type as never));
    const axis: uPlot.Axis = {
      stroke: '#8d9bb2',
      grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
      ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
    };
    const seen = new Set<string>();
    const opts: uPlot.Options = {
      width: this.width(),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: {
        x: {
          time: true,
          // ticks fall on the market time's hours and days
          // a single period is centred in a day-wide window rather than stretched edge to edge
          range: (_u, min, max) =>
            max - min < 7200 ? [min - 43_200, max + 43_200] : [min - 1800, max + 1800],
        },
      },
      axes: [
        {
          ...axis,
          space: 90,
          values: (_u, splits) => splits.map((v) => fmtDayHour(v * 1000, tz)),
          label: `Delivery (${names})`,
        },
        { ...axis, size: 56, values: (_u, splits) => splits.map((v) => tickFormat.format(v)) },
      ],
      series: [
        { value: (_u, v) => (v == null ? '—' : `${fmtDayHour(v * 1000, tz)} ${tzLabel(tz, v * 1000)}`) },
        ...series.map((s): uPlot.Series => {
          const first = !seen.has(s.type);
          seen.add(s.type);
          return {
            label: capitalize(s.type),
            show: true,
            stroke: COLORS[s.type],
            width: 0,
            paths: () => null,
            points: { show: true, size: 8, fill: COLORS[s.type] },
            // the trade's own decimal, never the float drawn
            value: (_u, v, _si, idx) => {
              const price = idx == null ? null : s.prices[idx];
              return v == null || price == null ? '—' : fmtDecimal(price);
            },
            ...(first ? {} : { class: 'dup-series' }),
          };
        }),
      ],
    };
    this.chart = new uPlot(opts, [xs, ...series.map((s) => s.ys)], this.box);
  }
}
