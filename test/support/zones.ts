// What a zone of the market profile shows when its configuration gives only its id, and a
// MARKET_CONFIG file for a test hub.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The contract's defaults: a zone given only its id. */
export const DEFAULT_ZONE = {
  timeZone: 'UTC',
  slotMinutes: 60,
  gateLeadMinutes: 60,
  minStepKwh: '0.001',
  priceTick: '0.0001',
  minPrice: '0.0000',
  maxPrice: '5.0000',
  capFactor: '0.5',
  fees: {
    wheelingBuyerPerKwh: '0.0250',
    wheelingSellerPerKwh: '0.0300',
    platformPercent: '1.0',
    platformCapPerKwh: '0.0042',
  },
  settlement: {
    method: 'min_of_two',
    allocation: 'pro_rata',
    delayMinutes: 120,
    shortPricePerKwh: '0.3000',
    longPricePerKwh: '0.0500',
  },
};

/** Writes a market configuration to a file of a fresh temporary folder, for a hub's MARKET_CONFIG. */
export async function marketConfigFile(config: unknown): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'renex-market-')), 'market.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}
