// A trade is settled at the fee rates it was agreed at (docs/decisions.md, "Trading with meters"):
// the hub restarts with other fees between the accept and the settlement, and the settlement still
// charges the rates of the accepted offer.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { Trade } from '../../src/client/index.js';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, trader, withMeter } from '../support/traders.js';
import { marketConfigFile } from '../support/zones.js';

const real = await postgresAvailable('agreed rates');
const HOUR = 3_600_000;
const OPERATOR = 'rates.operator@example.test';

describe.skipIf(!real)('fees at settlement', () => {
  test('are those of the accepted offer, not of a configuration changed since', async () => {
    const db = await freshDatabase();
    const env = (fees: unknown) => async () => ({
      MARKET_CONFIG: await marketConfigFile({ zones: [{ id: 'R', fees }] }),
      OPERATOR_EMAILS: OPERATOR,
      SWEEP_INTERVAL_MS: '100',
    });
    const first = await startHub({ db, env: await env({})() });
    let swapId: string;
    let deliveryStart: string;
    const emails: Record<string, string> = {};
    try {
      const seller = await trader(first.url, 'rates-seller', true, { zone: 'R' });
      const buyer = await trader(first.url, 'rates-buyer', true, { zone: 'R' });
      emails.seller = seller.user.email;
      emails.buyer = buyer.user.email;
      const listing = await seller.createListing(
        listingInput({ zone: 'R', volumeKwh: '10', pricePerKwh: '0.1' }),
      );
      deliveryStart = listing.deliveryStart;
      const s = await buyer.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1' });
      await seller.accept(s.id, 1);
      swapId = s.id;
      for (const t of [seller, buyer]) t.close();
      await HubClient.register(first.url, { email: OPERATOR, password: PASSWORD, displayName: 'Op' });
      // the trade's slot ends up to an hour ago: an hour at least before its settlement deadline
      const hours = Math.ceil((Date.parse(deliveryStart) + HOUR - Date.now() + 60_000) / HOUR);
      const q = (sql: string) =>
        first.hub.db!.sequelize.query(sql, { bind: [swapId, hours], type: QueryTypes.UPDATE });
      await q(`UPDATE listings SET delivery_start = delivery_start - $2 * interval '1 hour',
                 delivery_end = delivery_end - $2 * interval '1 hour', gate_closes_at = gate_closes_at - $2 * interval '1 hour'
               WHERE id = (SELECT listing_id FROM swaps WHERE id = $1)`);
      await q(`UPDATE trade_slots SET slot_start = slot_start - $2 * interval '1 hour' WHERE swap_id = $1`);
      deliveryStart = new Date(Date.parse(deliveryStart) - hours * HOUR).toISOString();
    } finally {
      await first.stop();
    }
    // the market's fees are now ten times dearer
    const second = await startHub({
      db,
      env: await env({ wheelingBuyerPerKwh: '0.2500', wheelingSellerPerKwh: '0.3000' })(),
    });
    try {
      const op = await withMeter(await HubClient.login(second.url, OPERATOR, PASSWORD), { zone: 'R' });
      const seller = await HubClient.login(second.url, emails.seller!, PASSWORD);
      const buyer = await HubClient.login(second.url, emails.buyer!, PASSWORD);
      const meters = await Promise.all(
        [seller, buyer].map(
          async (t) => (await t.rest<{ items: { externalId: string }[] }>('GET', '/api/v1/meters')).items[0]!,
        ),
      );
      await op.rest('POST', '/api/v1/operator/readings', {
        readings: [
          {
            meterExternalId: meters[0]!.externalId,
            slotStart: deliveryStart,
            exportedKwh: '10',
            importedKwh: '0',
          },
          {
            meterExternalId: meters[1]!.externalId,
            slotStart: deliveryStart,
            exportedKwh: '0',
            importedKwh: '10',
          },
        ],
      });
      await expect
        .poll(async () => (await buyer.rest<{ items: Trade[] }>('GET', '/api/v1/trades')).items[0]!.status, {
          timeout: 10_000,
        })
        .toBe('settled');
      const [trade] = (await buyer.rest<{ items: Trade[] }>('GET', '/api/v1/trades')).items;
      // agreed: 10 kWh at 0.1000, buyer wheeling 0.0250 -> 0.25, platform 0.01: pays 1.26 (at the new
      // rates it would be 1.00 + 2.50 + 0.01 = 3.51)
      expect(trade!.settlement).toMatchObject({
        energyNotional: '1.00',
        buyerPays: '1.26',
        sellerReceives: '0.69',
      });
    } finally {
      await second.stop();
      await db.drop();
    }
  });
});
