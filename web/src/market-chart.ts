// The market's prices as candlesticks (uPlot): the trader picks a zone, an energy type and a candle
// length; the candles come from GET /api/v1/market/candles, then every `market.trade` of that market
// is folded into its bucket live (candles.ts), without asking the hub again. Prices become floats
// only to be drawn: the hover, the summary line and the data attributes carry the hub's strings.
// A trade of the market arriving while the candles load may or may not be in the answer: the
// candles are loaded again then, rather than folding it in twice.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { foldTrade, INTERVAL_MS } from './candles.js';
import { sentenceFor } from './field-messages.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import { fmtDayHour, marketZones, tzLabel } from './market-time.js';
import type { Candle, CandleInterval, TapeTrade } from './market-types.js';
import type { DashboardClient } from './session.js';
import { byId, capitalize, ENERGY_TYPES, field, h, setContent } from './ui.js';

const HEIGHT = 220;
const UP = '#22c55e';
const DOWN = '#f05252';
const LINE = '#7dd3fc';

/** How far back each candle length looks (within the hub's limits: 7 days of 15m, 31 of 1h). */
const SPAN_MS: Record<CandleInterval, number> = {
  '15m': 86_400_000,
  '1h': 7 * 86_400_000,
  '1d': 90 * 86_400_000,
};

const SPAN_TEXT: Record<CandleInterval, string> = {
  '15m': 'the last 24 hours',
  '1h': 'the last 7 days',
  '1d': 'the last 90 days',
};

const tickFormat = new Intl.NumberFormat(undefined, {
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
  numberingSystem: 'latn',
});

const AXIS: uPlot.Axis = {
  stroke: '#8d9bb2',
  grid: { stroke: 'rgba(141,155,178,0.12)', width: 1 },
  ticks: { stroke: 'rgba(141,155,178,0.25)', width: 1 },
};

export interface ChartMarket {
  zone: string;
  energyType: string;
}

export class MarketChart {
  private readonly figure = byId('md-chart-figure');
  private readonly box = byId('md-chart');
  private readonly summary = byId('md-chart-summary');
  private readonly form = byId<HTMLFormElement>('md-pick');
  private readonly zoneSel = field<HTMLSelectElement>(this.form, 'select[name=zone]');
  private readonly typeSel = field<HTMLSelectElement>(this.form, 'select[name=energyType]');
  private readonly intervalSel = field<HTMLSelectElement>(this.form, 'select[name=interval]');
  private chart: uPlot | undefined;
  /** what the chart's options were built for: another time zone or candle length builds anew */
  private chartKey = '';
  private candles: Candle[] = [];
  private market: ChartMarket | undefined;
  private interval: CandleInterval = '15m';
  /** the trader chose the market: a default no longer replaces it */
  private chosen = false;
  private generation = 0;
  private loading = false;
  /** a trade of the market arrived while loading: load again */
  private stale = false;

  constructor(private readonly client: DashboardClient) {
    for (const t of ENERGY_TYPES) this.typeSel.append(h('option', { value: t }, capitalize(t)));
    this.fillZones();
    marketZones.onChange(() => {
      this.fillZones();
      // the axis and the summary are in the zone's market time
      this.render();
    });
    this.form.addEventListener('submit', (ev) => ev.preventDefault());
    this.form.addEventListener('change', () => {
      this.chosen = true;
      this.interval = this.intervalSel.value as CandleInterval;
      this.show({ zone: this.zoneSel.value, energyType: this.typeSel.value });
    });
    new ResizeObserver(() => this.chart?.setSize({ width: this.width(), height: HEIGHT })).observe(this.box);
  }

  /** The configured zones, and any other the market showed (a zone is never dropped from the list). */
  fillZones(extra: string[] = []): void {
    const have = new Set([...this.zoneSel.options].map((o) => o.value.toLowerCase()));
    for (const z of [...marketZones.list().map((z) => z.id), ...extra]) {
      if (have.has(z.toLowerCase())) continue;
      have.add(z.toLowerCase());
      this.zoneSel.append(h('option', { value: z }, z));
    }
    if (this.market) this.zoneSel.value = this.market.zone;
  }

  /** The market to show when the trader has not chosen one (the first with trades). */
  suggest(m: ChartMarket | undefined): void {
    if (this.chosen) return;
    const fallback = { zone: this.zoneSel.options[0]?.value ?? 'DE-North', energyType: 'solar' };
    // a market already drawing candles stays: the chart does not jump while it is watched
    if (this.market && this.candles.length > 0) return;
    const next = m ?? this.market ?? fallback;
    if (this.market && same(this.market, next)) return;
    this.show(next);
  }

  /** The trader picked a market elsewhere (in the summary's table). */
  choose(m: ChartMarket): void {
    this.chosen = true;
    this.show(m);
  }

  /** Shows another market (or candle length): its candles are loaded. */
  show(m: ChartMarket): void {
    this.market = m;
    this.fillZones([m.zone]);
    this.zoneSel.value = m.zone;
    this.typeSel.value = m.energyType;
    this.intervalSel.value = this.interval;
    this.candles = [];
    this.render();
    void this.load();
  }

  /** After a (re)connect: what was missed is in the candles. */
  reload(): void {
    if (this.market) void this.load();
  }

  /** A `market.trade` of any market: folded in when it is the one shown. */
  add(t: TapeTrade): void {
    const m = this.market;
    if (!m || t.zone.toLowerCase() !== m.zone.toLowerCase() || t.energyType !== m.energyType) return;
    if (this.loading) {
      this.stale = true;
      return;
    }
    this.candles = foldTrade(this.candles, t, this.interval);
    this.render();
  }

  private async load(): Promise<void> {
    const m = this.market;
    if (!m) return;
    const gen = ++this.generation;
    this.loading = true;
    this.figure.dataset.state = 'loading';
    try {
      // a few tries at most: a busy market could otherwise keep the chart loading
      for (let attempt = 0; attempt < 3; attempt++) {
        this.stale = false;
        const step = INTERVAL_MS[this.interval];
        const to = Math.floor(Date.now() / step) * step + step;
        const q = new URLSearchParams({
          zone: m.zone,
          energyType: m.energyType,
          interval: this.interval,
          from: new Date(to - SPAN_MS[this.interval]).toISOString(),
          to: new Date(to).toISOString(),
        });
        const page = await this.client.rest<{ items: Candle[] }>('GET', `/api/v1/market/candles?${q}`);
        if (gen !== this.generation) return;
        this.candles = page.items;
        if (!this.stale) break;
      }
      this.summary.dataset.kind = '';
    } catch (err) {
      if (gen !== this.generation) return;
      this.summary.dataset.kind = 'error';
      this.summary.textContent = `Prices not loaded: ${sentenceFor(err)}`;
      this.figure.dataset.state = 'error';
      return;
    } finally {
      if (gen === this.generation) this.loading = false;
    }
    this.render();
  }

  private width(): number {
    return Math.max(200, this.box.clientWidth);
  }

  private render(): void {
    const m = this.market;
    const c = this.candles;
    const last = c.at(-1);
    this.figure.dataset.points = String(c.length);
    this.figure.dataset.lastClose = last?.close ?? '';
    this.figure.dataset.lastVolume = last?.volume ?? '';
    this.figure.dataset.lastStart = last?.start ?? '';
    this.figure.dataset.zone = m?.zone ?? '';
    this.figure.dataset.energyType = m?.energyType ?? '';
    this.figure.dataset.interval = this.interval;
    if (!this.loading) this.figure.dataset.state = c.length ? 'ready' : 'empty';
    if (!m) return;
    const tz = marketZones.timeZone(m.zone);
    const what = `${capitalize(m.energyType)} in ${m.zone}`;
    if (!this.loading && this.summary.dataset.kind !== 'error')
      this.summary.textContent = last
        ? `${what}: last ${fmtDecimal(last.close)} per kWh (${this.describe(last, tz)}); ${c.length === 1 ? '1 candle' : `${c.length} candles`} over ${SPAN_TEXT[this.interval]}.`
        : `${what}: no trades over ${SPAN_TEXT[this.interval]}.`;
    if (c.length === 0) {
      this.chart?.destroy();
      this.chart = undefined;
      setContent(this.box);
      return;
    }
    // each close at the middle of its candle
    const half = INTERVAL_MS[this.interval] / 2000;
    const data: uPlot.AlignedData = [
      c.map((x) => Date.parse(x.start) / 1000 + half),
      c.map((x) => Number(x.close)),
    ];
    const key = `${tz}|${this.interval}`;
    if (this.chart && this.chartKey === key) {
      this.chart.setData(data);
      return;
    }
    this.chart?.destroy();
    setContent(this.box);
    this.chart = new uPlot(this.options(tz), data, this.box);
    this.chartKey = key;
  }

  /** A candle in words: its start in market time, open, high, low and volume. */
  private describe(x: Candle, tz: string): string {
    const at = Date.parse(x.start);
    return `${this.interval} candle from ${fmtDayHour(at, tz)} ${tzLabel(tz, at)}: open ${fmtDecimal(x.open)}, high ${fmtDecimal(x.high)}, low ${fmtDecimal(x.low)}, ${fmtKwh(x.volume)}`;
  }

  private options(tz: string): uPlot.Options {
    const step = INTERVAL_MS[this.interval] / 1000;
    const candleAt = (idx: number | null | undefined) => (idx == null ? undefined : this.candles[idx]);
    return {
      width: this.width(),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      legend: { live: true },
      scales: {
        x: {
          time: true,
          // the whole span up to now, so a quiet market reads as quiet; a new bucket widens it
          // (from the candles, not uPlot's min and max: it widens a single point's by 1000 days)
          range: () => {
            const now = Date.now() / 1000;
            const first = Date.parse(this.candles[0]?.start ?? '') / 1000 || now;
            const last = Date.parse(this.candles.at(-1)?.start ?? '') / 1000 || now;
            return [Math.min(first, now - SPAN_MS[this.interval] / 1000), Math.max(last + step, now)];
          },
        },
        y: {
          range: () => {
            let lo = Number.POSITIVE_INFINITY;
            let hi = Number.NEGATIVE_INFINITY;
            for (const x of this.candles) {
              lo = Math.min(lo, Number(x.low));
              hi = Math.max(hi, Number(x.high));
            }
            const pad = Math.max((hi - lo) * 0.15, hi * 0.05, 0.001);
            return [Math.max(0, lo - pad), hi + pad];
          },
        },
      },
      axes: [
        {
          ...AXIS,
          space: 140,
          values: (_u, splits) => splits.map((v) => fmtDayHour(v * 1000, tz)),
          label: `Trade time (${tzLabel(tz, Date.now())})`,
        },
        { ...AXIS, size: 56, values: (_u, splits) => splits.map((v) => tickFormat.format(v)) },
      ],
      series: [
        {
          value: (_u, v, _si, idx) => {
            const x = candleAt(idx);
            const at = x && Date.parse(x.start);
            return v == null || !at ? '—' : `${fmtDayHour(at, tz)} ${tzLabel(tz, at)}`;
          },
        },
        {
          label: 'Close',
          stroke: LINE,
          width: 1,
          points: { show: true, size: 5, fill: LINE },
          // the candle's own strings, never the float drawn
          value: (_u, v, _si, idx) => {
            const x = candleAt(idx);
            return v == null || !x
              ? '—'
              : `${fmtDecimal(x.close)} (O ${fmtDecimal(x.open)} H ${fmtDecimal(x.high)} L ${fmtDecimal(x.low)} · ${fmtKwh(x.volume)})`;
          },
        },
      ],
      hooks: {
        drawSeries: [
          (u, si) => {
            if (si === 1) this.drawCandles(u, step);
          },
        ],
      },
    };
  }

  /** Wicks from low to high and bodies from open to close, green up and red down. */
  private drawCandles(u: uPlot, step: number): void {
    const ctx = u.ctx;
    const px = Math.abs(u.valToPos(step, 'x', true) - u.valToPos(0, 'x', true));
    const body = Math.max(3, Math.min(14 * devicePixelRatio, px * 0.7));
    ctx.save();
    for (const x of this.candles) {
      const cx = u.valToPos(Date.parse(x.start) / 1000 + step / 2, 'x', true);
      const [o, hi, lo, c] = [x.open, x.high, x.low, x.close].map((p) =>
        u.valToPos(Number(p), 'y', true),
      ) as [number, number, number, number];
      const up = Number(x.close) >= Number(x.open);
      ctx.strokeStyle = ctx.fillStyle = up ? UP : DOWN;
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      ctx.beginPath();
      ctx.moveTo(cx, hi);
      ctx.lineTo(cx, lo);
      ctx.stroke();
      ctx.fillRect(cx - body / 2, Math.min(o, c), body, Math.max(1, Math.abs(o - c)));
    }
    ctx.restore();
  }
}

const same = (a: ChartMarket, b: ChartMarket) =>
  a.zone.toLowerCase() === b.zone.toLowerCase() && a.energyType === b.energyType;
