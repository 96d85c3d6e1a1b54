// Candles kept as the hub's strings: a live trade of the tape is folded into its bucket (aligned to
// UTC boundaries of the interval, as the hub's candles are) with exact decimal comparisons and an
// integer sum of volumes, so a folded candle reads exactly as the hub would send it.
import { compareDecimal, fromUnits, KWH_SCALE, PRICE_SCALE, toUnits } from './decimal.js';
import type { Candle, CandleInterval, TapeTrade } from './market-types.js';

export const INTERVAL_MS: Record<CandleInterval, number> = {
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** The start of the bucket `at` falls in (UTC-aligned), as an ISO string like the hub's. */
export const bucketOf = (at: string, interval: CandleInterval): string => {
  const ms = INTERVAL_MS[interval];
  return new Date(Math.floor(Date.parse(at) / ms) * ms).toISOString();
};

const addKwh = (a: string, b: string): string =>
  fromUnits((toUnits(a, KWH_SCALE) ?? 0n) + (toUnits(b, KWH_SCALE) ?? 0n), KWH_SCALE);

/** The price scale's form of a price ("0.1" as "0.1000"). */
const price = (p: string): string => {
  const u = toUnits(p, PRICE_SCALE);
  return u === undefined ? p : fromUnits(u, PRICE_SCALE);
};

/**
 * `candles` (oldest first) with `trade` folded in: its bucket's high, low, close and volume move,
 * or a new bucket starts at its price. A trade older than the bucket's close cannot be told apart
 * by time alone, so the close is the latest trade seen: trades arrive in order on one feed.
 */
export function foldTrade(candles: Candle[], trade: TapeTrade, interval: CandleInterval): Candle[] {
  const start = bucketOf(trade.at, interval);
  const p = price(trade.pricePerKwh);
  const i = candles.findIndex((c) => Date.parse(c.start) === Date.parse(start));
  if (i < 0) {
    const fresh: Candle = { start, open: p, high: p, low: p, close: p, volume: addKwh('0', trade.volumeKwh) };
    return [...candles, fresh].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }
  const c = candles[i]!;
  const next: Candle = {
    start: c.start,
    open: c.open,
    high: (compareDecimal(p, c.high, PRICE_SCALE) ?? 0) > 0 ? p : c.high,
    low: (compareDecimal(p, c.low, PRICE_SCALE) ?? 0) < 0 ? p : c.low,
    close: p,
    volume: addKwh(c.volume, trade.volumeKwh),
  };
  return candles.map((x, j) => (j === i ? next : x));
}
