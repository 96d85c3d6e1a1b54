import { describe, expect, test } from 'vitest';
import type { HubClientError, Swap } from '../../src/client/index.js';
import { startHub } from '../support/hub.js';
import { listingInput, recorder, trader } from '../support/traders.js';

describe('offers expire', () => {
  test('the sweep expires an offer at its deadline and tells both parties; it cannot be accepted then', async () => {
    const node = await startHub({ env: { OFFER_TTL_SECONDS: '1', SWEEP_INTERVAL_MS: '100' } });
    try {
      const owner = await trader(node.url, 'owner');
      const buyer = await trader(node.url, 'buyer');
      const [ownerLog, buyerLog] = [recorder(owner), recorder(buyer)];
      const listing = await owner.createListing(listingInput());
      const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      expect(Date.parse(swap.expiresAt) - Date.parse(swap.createdAt)).toBe(1000);
      for (const log of [ownerLog, buyerLog]) {
        const e = await log.next('swap.expired');
        expect(e.data).toMatchObject({ id: swap.id, status: 'expired', nextActorId: null });
        expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse(swap.expiresAt));
      }
      await expect(owner.accept(swap.id, 1)).rejects.toMatchObject({ code: 'INVALID_STATE' });
      owner.close();
      buyer.close();
    } finally {
      await node.stop();
    }
  });

  test('an offer past its deadline is refused even before the sweep reaches it', async () => {
    const node = await startHub({ env: { OFFER_TTL_SECONDS: '1', SWEEP_INTERVAL_MS: '600000' } });
    try {
      const owner = await trader(node.url, 'owner');
      const buyer = await trader(node.url, 'buyer');
      const listing = await owner.createListing(listingInput());
      const swap: Swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      await new Promise((r) => setTimeout(r, Date.parse(swap.expiresAt) - Date.now() + 20));
      const err = (await owner.accept(swap.id, 1).catch((e) => e)) as HubClientError;
      expect(err.code).toBe('INVALID_STATE');
      expect(err.details).toEqual({ status: 'expired' });
      owner.close();
      buyer.close();
    } finally {
      await node.stop();
    }
  });

  test('an offer never outlives the gate closure of its listing', async () => {
    // offers live two hours; the listing's zone (DE-North) closes trading 60 minutes before delivery
    const node = await startHub({ env: { OFFER_TTL_SECONDS: '7200' } });
    try {
      const owner = await trader(node.url, 'owner');
      const buyer = await trader(node.url, 'buyer');
      // the first start on the 60-minute grid more than 61 minutes ahead: its gate closes
      // 1 to 61 minutes from now, well before the offer's two hours are up
      const hour = 3_600_000;
      const start = new Date(Math.ceil((Date.now() + 61 * 60_000) / hour) * hour);
      const listing = await owner.createListing(
        listingInput({
          deliveryStart: start.toISOString(),
          deliveryEnd: new Date(start.getTime() + hour).toISOString(),
        }),
      );
      const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      expect(Date.parse(swap.expiresAt)).toBe(start.getTime() - 60 * 60_000);
      owner.close();
      buyer.close();
    } finally {
      await node.stop();
    }
  });
});
