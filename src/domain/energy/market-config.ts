// Where the market profile comes from: the file named by MARKET_CONFIG, or the built-in default
// with the demo zones. Read once at start-up (src/hub-parts.ts); a bad file stops the hub.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type MarketProfile, parseMarketConfig } from './zones.js';

/** A MARKET_CONFIG that cannot be used; its message is the one line the hub stops with. */
export class MarketConfigError extends Error {
  override name = 'MarketConfigError';
}

/**
 * The built-in market: the demo zones (src/store/db/demo-seed.ts), every rule at the contract's
 * default, and inter-zone wheeling both ways between each pair, dearer across the border.
 */
export const DEFAULT_MARKET_CONFIG = {
  zones: [
    { id: 'DE-North', name: 'Germany North', timeZone: 'Europe/Berlin' },
    { id: 'DE-South', name: 'Germany South', timeZone: 'Europe/Berlin' },
    { id: 'NL', name: 'Netherlands', timeZone: 'Europe/Amsterdam' },
  ],
  interZoneWheelingPerKwh: {
    'DE-North->DE-South': '0.0100',
    'DE-South->DE-North': '0.0100',
    'DE-North->NL': '0.0200',
    'NL->DE-North': '0.0200',
    'DE-South->NL': '0.0200',
    'NL->DE-South': '0.0200',
  },
} as const;

/** The profile of DEFAULT_MARKET_CONFIG. */
export function defaultMarketProfile(): MarketProfile {
  const parsed = parseMarketConfig(DEFAULT_MARKET_CONFIG);
  if (!parsed.ok) throw new Error(`the built-in market configuration is invalid: ${parsed.message}`);
  return parsed.profile;
}

/**
 * Reads and validates the market configuration file at `file`; the built-in default when unset.
 * Throws MarketConfigError with one line naming the file and what is wrong, e.g.
 * `MARKET_CONFIG /etc/renex/market.json: zones.1.slotMinutes: must be one of 5, 15, 30, 60`.
 */
export async function loadMarketProfile(file?: string): Promise<MarketProfile> {
  if (file === undefined) return defaultMarketProfile();
  const where = `MARKET_CONFIG ${path.resolve(file)}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MarketConfigError(`${where}: cannot read: ${firstLine(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MarketConfigError(`${where}: not valid JSON: ${firstLine(err)}`);
  }
  const parsed = parseMarketConfig(json);
  if (!parsed.ok) throw new MarketConfigError(`${where}: ${parsed.message}`);
  return parsed.profile;
}

function firstLine(err: unknown): string {
  const e = err as { message?: string; code?: string } | undefined;
  return (e?.message || e?.code || String(err)).split('\n')[0]!;
}
