// A dashboard (re)loaded while its socket cannot connect: the lists it reads over REST meanwhile
// are read again once the socket syncs (web/src/app.ts), so a counter committed between that read
// and the sync, which the sync's replay does not carry (a first connection replays nothing), is
// shown; and the badge says Live only once the sync has come. Every open swap is loaded, not only
// the latest 50: an offer to answer, and the count of offers a cancel voids.
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput } from '../support/traders.js';
import { browserSuite, checkChromium, connected, hasChromium, metered, until } from './browser-support.js';
import { routeSocket } from './route-socket.js';

checkChromium('first load browser tests');

describe.skipIf(!hasChromium)('the first load of a page', () => {
  const env = browserSuite();

  test('a counter committed while the reloaded page waited for its socket is shown once it syncs', async () => {
    // the page's socket goes through a switch: while down, each connection is closed at its first message
    let down = false;
    const alice = await env.uiTrader('Alice Reload', { viewport: { width: 1280, height: 900 } }, (page) =>
      routeSocket(page, { down: () => down }),
    );
    const a = alice.page;
    const aliceApi = metered(await HubClient.login(env.url, alice.email, PASSWORD));
    await aliceApi.connect();
    const { client: carol } = await env.apiTrader('Carol Counter');
    env.clients.push(aliceApi);
    const listing = await carol.createListing(listingInput({ volumeKwh: '50' }));
    const swap = await aliceApi.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1000' });
    const card = a.locator(`[data-testid="swap-card"][data-swap-id="${swap.id}"]`);
    await until(card.getByTestId('swap-turn'), 'Waiting for the counterparty');

    // reloaded with the network down: the lists are read over REST (after a few seconds without a
    // sync), the badge is not Live
    down = true;
    await a.reload();
    await until(card.getByTestId('swap-turn'), 'Waiting for the counterparty');
    expect(await a.getByTestId('connection-state').getAttribute('data-state')).not.toBe('connected');
    // Carol counters now: after the page's read, before its socket's sync
    await carol.counter({ swapId: swap.id, round: 1, volumeKwh: '10', pricePerKwh: '0.1050' });

    // the network is back: the socket syncs, the lists are read again, the counter is there
    down = false;
    await connected(a);
    await until(card.getByTestId('swap-turn'), 'Your turn');
    await until(card.getByTestId('offer-round'), '10.000 kWh @ 0.1050');
    expect(alice.errors).toEqual([]);
  }, 90_000);

  test('an open offer older than the latest 50 swaps is loaded: its card, and the count a cancel voids', async () => {
    const olga = await env.uiTrader('Olga Owner');
    const o = olga.page;
    const olgaApi = metered(await HubClient.login(env.url, olga.email, PASSWORD));
    await olgaApi.connect();
    const { client: bea } = await env.apiTrader('Bea Buyer');
    const { client: carl } = await env.apiTrader('Carl Lister');
    env.clients.push(olgaApi);
    const mine = await olgaApi.createListing(listingInput({ volumeKwh: '50' }));
    const offer = await bea.propose({ listingId: mine.id, volumeKwh: '5', pricePerKwh: '0.1000' });
    // then 50 swaps of Olga's own, newer than Bea's offer
    const start = Date.parse(listingInput().deliveryStart);
    for (let i = 1; i <= 50; i++) {
      const at = new Date(start + i * 3_600_000);
      const l = await carl.createListing(
        listingInput({
          volumeKwh: '10',
          deliveryStart: at.toISOString(),
          deliveryEnd: new Date(at.getTime() + 3_600_000).toISOString(),
        }),
      );
      await olgaApi.propose({ listingId: l.id, volumeKwh: '1', pricePerKwh: '0.1000' });
    }
    await o.reload();
    await connected(o);
    const card = o.locator(`[data-testid="swap-card"][data-swap-id="${offer.id}"]`);
    await until(card.getByTestId('swap-turn'), 'Your turn');
    const row = o.locator(`[data-testid="listing-row"][data-listing-id="${mine.id}"]`);
    // her own listings (Carl's 50 fill the book's first page): the one open offer a cancel voids
    await o.getByTestId('filter-mine').check();
    await until(row.getByTestId('listing-offers'), '1 open offer');
    expect(olga.errors).toEqual([]);
  }, 120_000);
});
