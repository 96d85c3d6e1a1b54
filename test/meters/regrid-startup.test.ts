// A MARKET_CONFIG that would re-grid what is still to be delivered stops the hub with one line
// (docs/decisions.md, "Trading with meters"): the per-slot limits are held per slot start, and a
// zone's trades on two grids would be counted apart.
import { describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

const real = await postgresAvailable('re-grid at start-up');

describe.skipIf(!real)("a zone's slot length changed under live listings", () => {
  test('refused at start-up while a listing is active; fees and leads may change', async () => {
    const db = await freshDatabase();
    const hourly = await marketConfigFile({ zones: [{ id: 'A' }] });
    const first = await startHub({ db, env: { MARKET_CONFIG: hourly } });
    let listingId: string;
    try {
      const owner = await trader(first.url, 'owner', true, { zone: 'A' });
      listingId = (await owner.createListing(listingInput({ zone: 'A' }))).id;
      owner.close();
    } finally {
      await first.stop();
    }
    const quarterly = await marketConfigFile({ zones: [{ id: 'A', slotMinutes: 15 }] });
    await expect(startHub({ db, env: { MARKET_CONFIG: quarterly } })).rejects.toThrow(
      'MARKET_CONFIG: zone A has slotMinutes 15, but 1 of its listings, swaps or trades still to be delivered are on its 60-minute grid; keep 60 until they are delivered',
    );
    // another fee or lead is fine; the listing keeps its grid and the gate it was posted with
    const cheaper = await marketConfigFile({
      zones: [{ id: 'A', gateLeadMinutes: 0, fees: { platformPercent: '0.5' } }],
    });
    const again = await startHub({ db, env: { MARKET_CONFIG: cheaper } });
    try {
      const reader = await trader(again.url, 'reader', false, { zone: 'A' });
      const l = await reader.rest<{ slots: unknown[] }>('GET', `/api/v1/listings/${listingId}`);
      expect(l.slots).toHaveLength(1);
    } finally {
      await again.stop();
      await db.drop();
    }
  });
});
