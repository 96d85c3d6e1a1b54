// Issue 20 in a real browser: the market's data on the dashboard (the chart, the tape and the best
// prices, live from the feed's `market.trade` and listing events, without a reload) and match
// suggestions on the trader's own listing (`listing.matched`, GET /listings/:id/matches, Propose).
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient, type Meter, type Swap } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput } from '../support/traders.js';
import { browserSuite, checkChromium, hasChromium, shot, until } from './browser-support.js';

checkChromium('market data browser tests');

const LONG = { timeout: 30_000 };

/** The chart shows `zone` and `energyType`, loaded (not loading). */
async function chartOn(page: Page, zone: string, energyType: string): Promise<void> {
  const pick = page.getByTestId('market-chart-pick');
  await pick.getByTestId('chart-zone').selectOption(zone);
  await pick.getByTestId('chart-energy').selectOption(energyType);
  await page
    .locator(
      `[data-testid="market-chart"][data-zone="${zone}"][data-energy-type="${energyType}"]:not([data-state="loading"])`,
    )
    .waitFor(LONG);
}

/** One delivery hour a day ahead, fixed once per test: listings made across an hour's turn still share it. */
function deliveryHour() {
  const start = new Date(Date.now() + 24 * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    deliveryStart: start.toISOString(),
    deliveryEnd: new Date(start.getTime() + 3_600_000).toISOString(),
  };
}

const summaryRow = (page: Page, zone: string, energyType: string) =>
  page.locator(`[data-testid="summary-row"][data-zone="${zone}"][data-energy-type="${energyType}"]`);

describe.skipIf(!hasChromium)('market data on the dashboard', () => {
  const env = browserSuite();

  test('the chart draws from live trades; the tape and the best prices follow, without a reload', async () => {
    const watcher = await env.uiTrader('Wanda Watch', undefined, undefined, false);
    const w = watcher.page;
    await chartOn(w, 'DE-North', 'solar');
    const chart = w.getByTestId('market-chart');
    expect(await chart.getAttribute('data-points')).toBe('0');
    // navigations would reload the page: there must be none
    let navigations = 0;
    w.on('framenavigated', (f) => {
      if (f === w.mainFrame()) navigations++;
    });

    const hour = deliveryHour();
    const seller = await env.apiTrader('Sven Seller');
    const buyer = await env.apiTrader('Berta Buyer');
    const supply = await seller.client.createListing(
      listingInput({ volumeKwh: '20', pricePerKwh: '0.1234', zone: 'DE-North', ...hour }),
    );
    await buyer.client.createListing(
      listingInput({ side: 'demand', volumeKwh: '50', pricePerKwh: '0.1100', zone: 'DE-North', ...hour }),
    );
    // the best prices follow the listing events (refreshed at most every 2 s)
    const row = summaryRow(w, 'DE-North', 'solar');
    await until(row.getByTestId('summary-best-supply'), '0.1234');
    await until(row.getByTestId('summary-best-demand'), '0.1100');
    expect((await row.getByTestId('summary-last').textContent())?.trim()).toBe('—');

    const s1 = await buyer.client.propose({ listingId: supply.id, volumeKwh: '10', pricePerKwh: '0.1234' });
    await seller.client.accept(s1.id, 1);

    // the tape shows it live, with its terms
    const tapeRow = w.getByTestId('tape-row').filter({ hasText: '0.1234' });
    await tapeRow.waitFor(LONG);
    expect(await tapeRow.getByTestId('tape-volume').textContent()).toBe('10.000');
    expect(await tapeRow.getByTestId('tape-zone').textContent()).toBe('DE-North');
    // the chart folded it into a candle and drew it
    await w.locator('[data-testid="market-chart"][data-last-close="0.1234"]').waitFor(LONG);
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    expect(await w.locator('#md-chart canvas').count()).toBeGreaterThan(0);
    await until(w.getByTestId('market-chart-summary'), 'last 0.1234');
    // the summary: last price and the day's volume, best ask still the listing's (10 left)
    await until(row.getByTestId('summary-last'), '0.1234');
    await until(row.getByTestId('summary-volume'), '10.000 kWh');
    await until(row.getByTestId('summary-vwap'), '0.1234');

    // a second trade moves the close; the live candle equals the hub's own candle
    const s2 = await buyer.client.propose({ listingId: supply.id, volumeKwh: '5', pricePerKwh: '0.1300' });
    await seller.client.accept(s2.id, 1);
    await w.locator('[data-testid="market-chart"][data-last-close="0.1300"]').waitFor(LONG);
    await until(w.getByTestId('tape-row').first(), '0.1300');
    expect(await w.getByTestId('tape-row').count()).toBe(2);
    const to = new Date(Date.now() + 3_600_000);
    const from = new Date(to.getTime() - 86_400_000);
    const q = new URLSearchParams({
      zone: 'DE-North',
      energyType: 'solar',
      interval: '15m',
      from: from.toISOString(),
      to: to.toISOString(),
    });
    const hub = await seller.client.rest<{ items: { start: string; close: string; volume: string }[] }>(
      'GET',
      `/api/v1/market/candles?${q}`,
    );
    const last = hub.items.at(-1)!;
    expect(await chart.getAttribute('data-last-start')).toBe(last.start);
    expect(await chart.getAttribute('data-last-volume')).toBe(last.volume);
    expect(await chart.getAttribute('data-points')).toBe(String(hub.items.length));
    await until(row.getByTestId('summary-last'), '0.1300');
    await until(row.getByTestId('summary-volume'), '15.000 kWh');

    expect(navigations).toBe(0);
    await w.getByTestId('market-data').scrollIntoViewIfNeeded();
    await shot(w, 'market-data-1440.png');
    // on a phone: no sideways scrolling
    await w.setViewportSize({ width: 390, height: 844 });
    await w.getByTestId('market-data').scrollIntoViewIfNeeded();
    await shot(w, 'market-data-390.png');
    expect(
      await w.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390);
    expect(watcher.errors).toEqual([]);
  }, 120_000);

  test('a proposal from a suggestion: the new match is told, the dialog is prefilled, the offer is made', async () => {
    const ann = await env.uiTrader('Ann Match');
    const a = ann.page;
    // Ann's demand listing, from her meter (the one she added in the dashboard)
    const hour = deliveryHour();
    const annApi = await HubClient.login(env.url, ann.email, PASSWORD);
    env.clients.push(annApi);
    await annApi.connect();
    const [meter] = (await annApi.rest<{ items: Meter[] }>('GET', '/api/v1/meters')).items;
    const own = await annApi.createListing({
      ...listingInput({ side: 'demand', volumeKwh: '30', pricePerKwh: '0.1500', zone: 'DE-North', ...hour }),
      meterId: meter!.id,
    });
    const ownRow = a.locator(`[data-testid="listing-row"][data-listing-id="${own.id}"]`);
    await ownRow.waitFor(LONG);

    // Bruno's supply crosses her price (0.1400 <= 0.1500): she is told on her listing
    const bruno = await env.apiTrader('Bruno Match');
    const match = await bruno.client.createListing(
      listingInput({ volumeKwh: '20', pricePerKwh: '0.1400', zone: 'DE-North', ...hour }),
    );
    await ownRow.getByTestId('new-match').waitFor(LONG);

    // the suggestions, opened from the keyboard
    const button = ownRow.getByTestId('matches-button');
    await button.focus();
    await button.press('Enter');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    await ownRow.getByTestId('new-match').waitFor({ state: 'hidden' });
    const suggestion = a.locator(
      `[data-testid="matches-row"][data-listing-id="${own.id}"] [data-testid="match-row"][data-listing-id="${match.id}"]`,
    );
    await suggestion.waitFor(LONG);
    expect(await suggestion.getByTestId('match-price').textContent()).toBe('0.1400');
    expect(await suggestion.getByTestId('match-owner').textContent()).toBe('Bruno Match');
    expect(await suggestion.getByTestId('match-available').textContent()).toBe('20.000 kWh');
    expect(await suggestion.getByTestId('match-landed').textContent()).toMatch(/^\d+\.\d{4}$/);

    // Bruno lowers his price after the suggestions loaded: the dashboard hears of it
    await bruno.client.amendListing(match.id, { pricePerKwh: '0.1350' });
    await until(
      a.locator(`[data-testid="listing-row"][data-listing-id="${match.id}"]`).getByTestId('listing-price'),
      '0.1350',
    );

    // Propose opens the offer dialog prefilled: her listing's meter, the match's price now, the most both can trade
    await suggestion.getByTestId('match-propose').click();
    const dialog = a.getByTestId('propose-dialog');
    await dialog.waitFor();
    expect(await dialog.getByTestId('propose-volume').inputValue()).toBe('20.000');
    expect(await dialog.getByTestId('propose-price').inputValue()).toBe('0.1350');
    expect(await dialog.getByTestId('propose-meter').inputValue()).toBe(meter!.id);
    await shot(a, 'market-matches-propose-1440.png');
    await dialog.getByTestId('propose-submit').click();
    await dialog.waitFor({ state: 'hidden' });

    const swaps = await bruno.client.rest<{ items: Swap[] }>('GET', `/api/v1/swaps?listingId=${match.id}`);
    expect(swaps.items).toHaveLength(1);
    const swap = swaps.items[0]!;
    expect(swap.initiatorId).toBe(annApi.user.id);
    expect(swap.volumeKwh).toBe('20.000');
    expect(swap.pricePerKwh).toBe('0.1350');
    expect(swap.buyerMeterId).toBe(meter!.id);
    expect(ann.errors).toEqual([]);
  }, 120_000);
});
