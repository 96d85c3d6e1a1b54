// The dashboard in a real browser (Debian chromium through playwright-core) against a real hub:
// two traders register through the UI, post, see each other live, negotiate, trade, reload.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput, trader } from '../support/traders.js';
import {
  browserSuite,
  checkChromium,
  connected,
  hasChromium,
  metered,
  ROOT,
  until,
} from './browser-support.js';
import { routeSocket } from './route-socket.js';

const ARTIFACTS = path.join(ROOT, 'test/artifacts');

checkChromium('dashboard browser tests');

describe.skipIf(!hasChromium)('dashboard in a browser', () => {
  const env = browserSuite();

  const pwned = (page: Page) => page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);

  test('two traders: post, see it live, negotiate with a dropped connection, trade, reload', async () => {
    // --- Alice, with some trade history so the chart has data ------------------------------------
    const alice = await env.uiTrader('Alice Solar');
    const a = alice.page;
    const aliceApi = metered(await HubClient.login(env.url, alice.email, PASSWORD));
    await aliceApi.connect();
    const carol = metered(await trader(env.url, 'carol'));
    env.clients.push(aliceApi, carol);
    for (const [energyType, price] of [
      ['wind', '0.0950'],
      ['solar', '0.1180'],
      ['wind', '0.0990'],
      ['solar', '0.1210'],
    ] as const) {
      const l = await carol.createListing(
        listingInput({ energyType, pricePerKwh: price, volumeKwh: '50', zone: 'DE-South' }),
      );
      const s = await aliceApi.propose({ listingId: l.id, volumeKwh: '10', pricePerKwh: price });
      await carol.accept(s.id, 1);
    }
    await a.getByTestId('trade-row').nth(3).waitFor();
    // a reload keeps the session (and clears the notifications of the seeding)
    await a.reload();
    await until(a.getByTestId('user-name'), 'Alice Solar');
    await connected(a);
    // the history is read after the socket connects: wait for it, then count
    await a.getByTestId('trade-row').nth(3).waitFor();
    expect(await a.getByTestId('trade-row').count()).toBe(4);

    // --- Bob, whose socket goes through a switch the test can turn off -----------------------------
    let blocked = false;
    const bobSockets: WebSocketRoute[] = [];
    const bob = await env.uiTrader('Bob Wind', { viewport: { width: 1280, height: 900 } }, async (page) => {
      await routeSocket(page, { down: () => blocked, passed: (ws) => bobSockets.push(ws) });
    });
    const b = bob.page;

    // --- Alice posts a listing whose description is full of markup ---------------------------------
    const description =
      '<script>window.__pwned = 1</script>Fresh <b>solar</b>, 5 < 6 &lt;img src=x onerror="window.__pwned=2"&gt;';
    const post = a.getByTestId('post-listing-form');
    await post.getByLabel('Energy type').selectOption('solar');
    await post.getByLabel('Volume (kWh)').fill('100');
    await post.getByLabel('Price per kWh').fill('0.1200');
    await post.getByLabel('Description').fill(description);
    await post.getByRole('button', { name: 'Post listing' }).click();

    const aRow = a.getByTestId('listing-row').filter({ hasText: 'Fresh solar' });
    await aRow.waitFor();
    const listingId = (await aRow.getAttribute('data-listing-id'))!;
    const aDesc = aRow.getByTestId('listing-description');
    // stored as plain text (the encoded tag is decoded and removed too; a lone < stays) and shown
    // as text: no element, no script
    expect(await aDesc.textContent()).toBe('Fresh solar, 5 < 6');
    expect(await aDesc.locator('b, img, script').count()).toBe(0);
    await until(aRow.getByTestId('listing-available'), '100.000 / 100.000 kWh');
    await aRow.getByTestId('cancel-listing-button').waitFor();

    // --- Bob sees it appear without a reload -------------------------------------------------------
    const bRow = b.locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`);
    await until(bRow.getByTestId('listing-description'), 'Fresh solar, 5 < 6');
    expect(await bRow.getByTestId('listing-description').locator('*').count()).toBe(0);
    expect(await pwned(a)).toBeUndefined();
    expect(await pwned(b)).toBeUndefined();

    // the market filters: by energy type, and back
    const bFilters = b.getByTestId('market-filters');
    await bFilters.getByLabel('Energy').selectOption('wind');
    await bRow.waitFor({ state: 'detached' });
    await until(b.getByTestId('listing-row'), 'Wind');
    await bFilters.getByLabel('Energy').selectOption('');
    await bRow.waitFor();

    // --- Bob proposes, by keyboard -----------------------------------------------------------------
    await bRow.getByTestId('propose-button').focus();
    await b.keyboard.press('Enter');
    const dialog = b.getByTestId('propose-dialog');
    await dialog.waitFor();
    await b.keyboard.type('40'); // the volume field has focus, its value selected
    await dialog.getByLabel('Price per kWh').fill('0.1100');
    await dialog.getByLabel('Note').fill('Can you do <i>0.11</i>?');
    await dialog.getByLabel('Price per kWh').press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    const bCard = b.getByTestId('swap-card').first();
    await until(bCard.getByTestId('swap-turn'), 'Waiting for the counterparty');
    const swapId = (await bCard.getAttribute('data-swap-id'))!;
    await bRow.getByTestId('view-offer-button').waitFor();

    // --- Alice is notified the moment it arrives, and sees the thread ------------------------------
    await until(a.getByTestId('toast'), 'New offer on your listing');
    const aCard = a.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`);
    await until(aCard.getByTestId('swap-turn'), 'Your turn');
    await until(aCard.getByTestId('offer-round'), '40.000 kWh @ 0.1100');
    await until(aCard.getByTestId('offer-note'), 'Can you do 0.11?');
    await aCard
      .getByTestId('swap-countdown')
      .filter({ hasText: /^\d+:\d\d$/ })
      .waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await a.screenshot({ path: path.join(ARTIFACTS, 'dashboard-negotiation.png'), fullPage: true });

    // --- Bob's connection drops and stays down while Alice counters --------------------------------
    blocked = true;
    const socketsBefore = bobSockets.length;
    await Promise.all(bobSockets.map((ws) => ws.close({ code: 4000, reason: 'test: network down' })));
    await b.locator('[data-testid="connection-state"][data-state="reconnecting"]').waitFor();

    await aCard.getByTestId('counter-volume').fill('40');
    await aCard.getByTestId('counter-price').fill('0.1150');
    await aCard.getByTestId('counter-note').fill('Meet in the middle');
    await aCard.getByTestId('counter-button').click();
    await until(aCard.getByTestId('swap-turn'), 'Waiting for the counterparty');
    await until(aCard.getByTestId('offer-round').nth(1), '0.1150');

    // back online: Bob catches up from lastEventId, once
    blocked = false;
    await connected(b);
    expect(bobSockets.length).toBeGreaterThan(socketsBefore);
    await until(b.getByTestId('toast'), 'Counter-offer received');
    await until(bCard.getByTestId('swap-turn'), 'Your turn');
    await until(bCard.getByTestId('offer-round').nth(1), 'Meet in the middle');
    expect(await bCard.getByTestId('offer-round').count()).toBe(2);
    expect(await b.getByTestId('toast').filter({ hasText: 'Counter-offer received' }).count()).toBe(1);
    expect(await b.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`).count()).toBe(1);
    expect(await b.locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`).count()).toBe(1);

    // --- Bob accepts; both see the trade and the listing's volume, without a reload -----------------
    await bCard.getByTestId('accept-button').click();
    for (const page of [a, b]) {
      const trade = page.locator(`[data-testid="trade-row"][data-swap-id="${swapId}"]`);
      await trade.waitFor();
      await until(trade.getByTestId('trade-volume'), '40.000');
      await until(trade.getByTestId('trade-price'), '0.1150');
      const row = page.locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`);
      await until(row.getByTestId('listing-available'), '60.000 / 100.000 kWh');
    }
    await until(a.getByTestId('toast'), 'Trade done');
    await until(a.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`), 'Trade done');
    expect(await a.getByTestId('trade-row').count()).toBe(5);
    expect(await b.getByTestId('trade-row').count()).toBe(1);
    await a.getByTestId('price-chart').locator('canvas').first().waitFor();

    // --- Bob reloads: still signed in, the negotiation is still there ------------------------------
    await b.reload();
    await until(b.getByTestId('user-name'), 'Bob Wind');
    await connected(b);
    await b.getByText('History').click();
    const bAfter = b.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`);
    await until(bAfter, 'Trade done');
    expect(await bAfter.getAttribute('data-status')).toBe('accepted');
    await until(bAfter.getByTestId('offer-round').nth(1), 'Meet in the middle');
    expect(await bAfter.getByTestId('offer-round').count()).toBe(2);
    await b.locator(`[data-testid="trade-row"][data-swap-id="${swapId}"]`).waitFor();

    // --- Alice downloads her ledger ---------------------------------------------------------------
    const [download] = await Promise.all([a.waitForEvent('download'), a.getByTestId('download-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(6);
    expect(csv).toContain(swapId);
    expect(download.suggestedFilename()).toMatch(/^renex-trades-.*\.csv$/);

    // --- Alice cancels what is left of her listing; Bob sees it close ------------------------------
    await a
      .locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`)
      .getByTestId('cancel-listing-button')
      .click();
    // it shows as cancelled for a moment, then leaves the market without a reload
    await b
      .locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`)
      .waitFor({ state: 'detached' });

    // --- Bob logs out; the stored session is gone ------------------------------------------------
    await b.getByTestId('logout-button').click();
    await b.getByTestId('login-form').waitFor();
    expect(await b.evaluate(() => localStorage.getItem('renex.refreshToken'))).toBeNull();
    await b.reload();
    await b.getByTestId('login-form').waitFor();

    expect(await pwned(a)).toBeUndefined();
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  }, 120_000);

  test('a 375px wide phone shows negotiations and market in one column, without horizontal scrolling', async () => {
    const dave = await trader(env.url, 'dave');
    env.clients.push(dave);
    await dave.createListing(
      listingInput({
        energyType: 'geothermal',
        description: `A long description without spaces: ${'x'.repeat(120)}`,
      }),
    );
    const { page } = await env.uiTrader('Erin', { viewport: { width: 375, height: 800 } });
    const rows = page.getByTestId('listing-row');
    await until(rows, 'A long description without spaces');
    const widths = await page.evaluate(() => {
      const root = (globalThis as any).document.documentElement;
      return { scroll: root.scrollWidth as number, client: root.clientWidth as number };
    });
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    const market = (await page.getByTestId('market').boundingBox())!;
    const negotiations = (await page.getByTestId('negotiations').boundingBox())!;
    expect(market.x + market.width).toBeLessThanOrEqual(375);
    // one column: what needs an answer (negotiations) first, the market below it, not beside
    expect(market.y).toBeGreaterThan(negotiations.y + negotiations.height - 1);
    const row = (await rows.first().boundingBox())!;
    expect(row.x).toBeGreaterThanOrEqual(0);
    expect(row.x + row.width).toBeLessThanOrEqual(375);
  }, 60_000);

  test('index.html is revalidated, hashed assets are immutable', async () => {
    const index = await fetch(`${env.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${env.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });
});
