// Issue 17 in a real browser against a real hub: Accept does what it says (1), honest connection
// state with a command retried under the same requestId (6), what needs an answer first on a phone
// and managed focus (7), market time and a German locale (4). Screenshots at 390, 1280 and 1920 px.
import type { Page, WebSocketRoute } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient, type Listing, type Swap } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput, trader } from '../support/traders.js';
import {
  browserSuite,
  checkChromium,
  connected,
  focused,
  hasChromium,
  loginInUi,
  metered,
  newPage,
  shot,
  until,
} from './browser-support.js';

checkChromium('trading screen browser tests');

describe.skipIf(!hasChromium)('the dashboard as a trading screen', () => {
  const env = browserSuite();

  const card = (page: Page, swapId: string) =>
    page.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`);
  const row = (page: Page, listingId: string) =>
    page.locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`);

  test('Accept carries the terms, is held while the counter differs; cancelling asks how many offers it voids', async () => {
    const seller = await env.apiTrader('Sara');
    const buyer = await trader(env.url, 'bert');
    env.clients.push(buyer);
    const listing = await seller.client.createListing(
      listingInput({ volumeKwh: '100', pricePerKwh: '0.1000' }),
    );
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '100', pricePerKwh: '0.0900' });
    // one more where the seller answered last: its card starts as the other side's turn
    const third = await seller.client.createListing(listingInput({ volumeKwh: '10', pricePerKwh: '0.1200' }));
    const waiting = await buyer.propose({ listingId: third.id, volumeKwh: '10', pricePerKwh: '0.1000' });
    await seller.client.counter({ swapId: waiting.id, round: 1, volumeKwh: '10', pricePerKwh: '0.1150' });

    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 1280, height: 900 } });
    env.contexts.push(context);
    await page.goto(env.url);
    await loginInUi(page, seller.email);
    await connected(page);
    const c = card(page, swap.id);
    await until(c.getByTestId('swap-turn'), 'Your turn');
    // focus after login: the negotiation waiting for this trader, not the page body
    await expect.poll(async () => (await focused(page)).swapId).toBe(swap.id);

    const accept = c.getByTestId('accept-button');
    await until(accept, 'Accept 100.000 kWh @ 0.0900 = 9.00 EUR');
    expect(await accept.isEnabled()).toBe(true);

    // typing another price: Accept no longer matches the fields, so it is held, with the reason
    await c.getByTestId('counter-price').fill('0.1050');
    await c.locator('[data-testid="accept-button"]:disabled').waitFor();
    await until(c.getByTestId('terms-differ'), 'You changed the terms');
    expect(await accept.getAttribute('aria-describedby')).toContain('terms-differ');

    // the same terms again: Accept is back; a counter repeating them is refused in words
    await c.getByTestId('counter-price').fill('0.0900');
    await c.locator('[data-testid="accept-button"]:enabled').waitFor();
    await c.getByTestId('counter-button').click();
    await until(c.getByTestId('swap-error'), 'repeats the terms on the table');
    expect((await seller.client.rest<Swap>('GET', `/api/v1/swaps/${swap.id}`)).round).toBe(1);

    // changed and put back with one click, then accepted: booked at the terms on the button
    await c.getByTestId('counter-volume').fill('50');
    await c.locator('[data-testid="accept-button"]:disabled').waitFor();
    await c.getByTestId('reset-terms').click();
    await accept.click();
    await until(c.getByTestId('swap-turn'), 'Trade done');
    const booked = await seller.client.rest<Swap>('GET', `/api/v1/swaps/${swap.id}`);
    expect(booked.status).toBe('accepted');
    expect(booked.pricePerKwh).toBe('0.0900');

    // a second listing with an open offer: cancelling it asks first, saying how many are voided
    const second = await seller.client.createListing(
      listingInput({ volumeKwh: '20', pricePerKwh: '0.1100' }),
    );
    const offer = await buyer.propose({ listingId: second.id, volumeKwh: '5', pricePerKwh: '0.1000' });
    await until(row(page, second.id).getByTestId('listing-offers'), '1 open offer');
    await row(page, second.id).getByTestId('cancel-listing-button').click();
    const dialog = page.getByTestId('confirm-dialog');
    await until(dialog, '1 open offer on it will be voided');
    await dialog.getByTestId('confirm-keep').click();
    await dialog.waitFor({ state: 'detached' });
    expect((await seller.client.rest<Listing>('GET', `/api/v1/listings/${second.id}`)).status).toBe('active');
    await row(page, second.id).getByTestId('cancel-listing-button').click();
    await dialog.getByTestId('confirm-yes').click();
    await expect
      .poll(async () => (await buyer.rest<Swap>('GET', `/api/v1/swaps/${offer.id}`)).status)
      .toBe('voided');

    // a card built before the connection was up, while it was the other side's turn: when the
    // turn comes back, its answers are enabled (order entry follows the connection, not the past)
    await buyer.counter({ swapId: waiting.id, round: 2, volumeKwh: '10', pricePerKwh: '0.1120' });
    await until(card(page, waiting.id).getByTestId('swap-turn'), 'Your turn');
    await card(page, waiting.id).locator('[data-testid="accept-button"]:enabled').waitFor();
    expect(await card(page, waiting.id).getByTestId('reject-button').isEnabled()).toBe(true);
    expect(await card(page, waiting.id).getByTestId('counter-button').isEnabled()).toBe(true);
    expect(errors).toEqual([]);
  }, 90_000);

  test('offline: live data greyed, entry held with the reason, a lost answer retried with the same requestId', async () => {
    const { client: carol } = await env.apiTrader('Carol');
    const target = await carol.createListing(
      listingInput({ zone: 'NL', volumeKwh: '30', pricePerKwh: '0.1000' }),
    );
    const other = await carol.createListing(
      listingInput({ zone: 'NL', volumeKwh: '30', pricePerKwh: '0.1100' }),
    );

    let blocked = false;
    let dropAckOf: string | undefined;
    let armed = false;
    const proposeIds: string[] = [];
    const sockets: WebSocketRoute[] = [];
    const bob = await env.uiTrader('Bob Offline', { viewport: { width: 1280, height: 900 } }, (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        sockets.push(ws);
        ws.onMessage((m) => {
          const text = String(m);
          if (blocked) return void ws.close({ code: 4000, reason: 'test: network down' });
          const propose = /^42(\d+)\["swap:propose",(.*)\]$/.exec(text);
          if (propose) {
            proposeIds.push(JSON.parse(propose[2]!).requestId);
            if (armed) {
              armed = false;
              dropAckOf = propose[1];
            }
          }
          server.send(m);
        });
        server.onMessage((m) => {
          if (dropAckOf && String(m).startsWith(`43${dropAckOf}[`)) {
            // the hub committed and answered; the answer is lost with the connection
            dropAckOf = undefined;
            blocked = true;
            void ws.close({ code: 4000, reason: 'test: network down' });
            return;
          }
          ws.send(m);
        });
      }),
    );
    const b = bob.page;
    await row(b, target.id).waitFor();
    await row(b, target.id).getByTestId('propose-button').click();
    const dialog = b.getByTestId('propose-dialog');
    await dialog.getByLabel('Volume (kWh)').fill('10');
    armed = true;
    await dialog.getByTestId('propose-submit').click();

    // the answer was lost: said plainly, and everything that sends is held while offline
    await b.locator('[data-testid="connection-state"][data-state="reconnecting"]').waitFor();
    await until(dialog.locator('.form-error'), 'sent again with the same request id');
    await b.getByTestId('offline-banner').waitFor();
    await b.locator('#dashboard[data-live="reconnecting"]').waitFor();
    const otherOffer = row(b, other.id).getByTestId('propose-button');
    expect(await otherOffer.isDisabled()).toBe(true);
    expect(await otherOffer.getAttribute('aria-describedby')).toContain('offline-reason');
    expect(
      await b.getByTestId('post-listing-form').getByRole('button', { name: 'Post listing' }).isDisabled(),
    ).toBe(true);
    await shot(b, 'offline-1280.png');

    // back online: the same requestId goes again, the hub answers it once
    blocked = false;
    await connected(b);
    await dialog.waitFor({ state: 'hidden' });
    const mine = b.getByTestId('swap-card').filter({ hasText: 'Waiting for the counterparty' });
    await mine.first().waitFor();
    expect(proposeIds.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proposeIds).size).toBe(1);
    const swaps = await carol.rest<{ items: Swap[] }>('GET', `/api/v1/swaps?listingId=${target.id}`);
    expect(swaps.items).toHaveLength(1);
    // focus after sending an offer: the new negotiation card, not the page body
    await expect.poll(async () => (await focused(b)).swapId).toBe(swaps.items[0]!.id);
    expect(await otherOffer.isEnabled()).toBe(true);
    expect(sockets.length).toBeGreaterThan(1);
    expect(bob.errors).toEqual([]);
  }, 90_000);

  test('logging out with a command still unanswered asks first, saying how many and that they may have been done', async () => {
    const cleo = await env.uiTrader('Cleo Leaving', { viewport: { width: 1280, height: 900 } }, (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        // listing:create never reaches the hub: it stays unanswered
        ws.onMessage((m) => {
          if (!/^42\d+\["listing:create",/.test(String(m))) server.send(m);
        });
        server.onMessage((m) => ws.send(m));
      }),
    );
    const p = cleo.page;
    const post = p.getByTestId('post-listing-form');
    await post.getByLabel('Volume (kWh)').fill('5');
    await post.getByLabel('Price per kWh').fill('0.1100');
    await post.getByRole('button', { name: 'Post listing' }).click();
    await p.getByTestId('logout-button').click();
    const dialog = p.getByTestId('confirm-dialog');
    await until(dialog, '1 command has not been answered by the hub yet: it may or may not have been done');
    await dialog.getByTestId('confirm-keep').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await p.getByTestId('user-name').textContent()).toBe('Cleo Leaving');
    expect(await p.getByTestId('login-form').isHidden()).toBe(true);
    await p.getByTestId('logout-button').click();
    await dialog.getByTestId('confirm-yes').click();
    await p.getByTestId('login-form').waitFor();
    expect(cleo.errors).toEqual([]);
  }, 60_000);

  test('no answer at all: said it may have been done; the same listing sent again carries the same requestId', async () => {
    let lose = true;
    const createIds: string[] = [];
    const dropAcks = new Set<string>();
    const bea = await env.uiTrader('Bea Noanswer', { viewport: { width: 1280, height: 900 } }, (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => {
          const create = /^42(\d+)\["listing:create",(.*)\]$/.exec(String(m));
          if (create) {
            createIds.push(JSON.parse(create[2]!).requestId);
            if (lose) dropAcks.add(create[1]!);
          }
          server.send(m);
        });
        server.onMessage((m) => {
          const ack = /^43(\d+)\[/.exec(String(m));
          if (ack && dropAcks.delete(ack[1]!)) {
            // the hub did it and answered; the answer never reaches the dashboard
            void ws.close({ code: 4000, reason: 'test: answer lost' });
            return;
          }
          ws.send(m);
        });
      }),
    );
    const p = bea.page;
    const post = p.getByTestId('post-listing-form');
    await post.getByLabel('Volume (kWh)').fill('7');
    await post.getByLabel('Price per kWh').fill('0.1300');
    await post.getByRole('button', { name: 'Post listing' }).click();
    // every try went unanswered: the form does not claim that nothing was done
    await post
      .locator('.form-error')
      .filter({ hasText: 'No answer from the hub: it may have been done' })
      .waitFor({ timeout: 100_000 });
    expect(await post.locator('.form-error').textContent()).not.toContain('nothing was done');
    const first = createIds.length;
    expect(first).toBeGreaterThan(1);

    // the same listing again from the same form: the same requestId, so it is done once
    lose = false;
    await connected(p);
    await post.locator('button[type=submit]:enabled').waitFor();
    await post.getByRole('button', { name: 'Post listing' }).click();
    await until(p.getByTestId('toast'), 'Listing posted');
    expect(createIds.length).toBeGreaterThan(first);
    expect(new Set(createIds).size).toBe(1);
    const api = await HubClient.login(env.url, bea.email, PASSWORD);
    env.clients.push(api);
    const mine = (await api.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items;
    expect(mine).toHaveLength(1);
    expect(mine[0]!.volumeKwh).toBe('7.000');
    expect(bea.errors).toEqual([]);
  }, 150_000);

  test('390 px: a "your turn" card is visible without scrolling; toasts never cover a card; 1920 px uses the width', async () => {
    const seller = await env.apiTrader('Pia Phone');
    const buyer = metered(await trader(env.url, 'quentin'));
    env.clients.push(buyer);
    // a full market ahead of it, as on the demo hub
    for (let i = 0; i < 13; i++)
      await buyer.createListing(
        listingInput({ zone: 'DE-South', pricePerKwh: `0.1${String(i).padStart(3, '0')}` }),
      );
    const listing = await seller.client.createListing(
      listingInput({ volumeKwh: '40', pricePerKwh: '0.1200' }),
    );

    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 390, height: 844 } });
    env.contexts.push(context);
    await page.goto(env.url);
    await loginInUi(page, seller.email);
    await connected(page);
    await page.getByTestId('listing-row').nth(13).waitFor();
    // an offer arrives live: a toast and a card waiting for the answer
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '40', pricePerKwh: '0.1100' });
    const c = card(page, swap.id);
    await until(c.getByTestId('swap-turn'), 'Your turn');
    await until(page.getByTestId('toast'), 'New offer on your listing');
    await until(page.getByTestId('your-turn-count'), 'Your turn: 1');

    const box = (await c.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    expect(await page.evaluate(() => (globalThis as any).scrollY)).toBe(0);
    const toastBox = (await page.getByTestId('toast').first().boundingBox())!;
    for (const cardBox of await Promise.all(
      (await page.getByTestId('swap-card').all()).map((l) => l.boundingBox()),
    )) {
      const overlap =
        cardBox &&
        toastBox.x < cardBox.x + cardBox.width &&
        cardBox.x < toastBox.x + toastBox.width &&
        toastBox.y < cardBox.y + cardBox.height &&
        cardBox.y < toastBox.y + toastBox.height;
      expect(overlap).toBeFalsy();
    }
    // negotiation cards come before listing buttons in tab order (document order, no tabindex > 0)
    const cardFirst = await page.evaluate(() => {
      const d = (globalThis as any).document;
      const cardEl = d.querySelector('[data-testid="swap-card"]');
      const button = d.querySelector('[data-testid="propose-button"]');
      return (
        Boolean(cardEl.compareDocumentPosition(button) & 4) &&
        d.querySelectorAll('[tabindex]:not([tabindex="-1"]):not([tabindex="0"])').length === 0
      );
    });
    expect(cardFirst).toBe(true);
    await shot(page, 'trading-390.png');

    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: 1000 });
      const neg = (await page.getByTestId('negotiations').boundingBox())!;
      const market = (await page.getByTestId('market').boundingBox())!;
      const trades = (await page.getByTestId('trades').boundingBox())!;
      // negotiations first, on the left, in view at the top
      expect(neg.x).toBeLessThan(market.x);
      expect(neg.y).toBeLessThan(200);
      if (width === 1920) {
        // no empty right column: the post form and trades sit there, up to the right edge
        expect(trades.x).toBeGreaterThan(market.x + market.width - 1);
        expect(trades.x + trades.width).toBeGreaterThan(width - 60);
        expect(trades.y).toBeLessThan(1000);
      }
      await shot(page, `trading-${width}.png`);
    }
    expect(errors).toEqual([]);
  }, 120_000);

  test('de-DE: "12,5" kWh posts 12.5; numbers in German; delivery shown in DE-North market time (CET/CEST) in a Berlin browser', async () => {
    const hans = await env.uiTrader('Hans Komma', {
      viewport: { width: 1280, height: 900 },
      locale: 'de-DE',
      timezoneId: 'Europe/Berlin',
    });
    const p = hans.page;
    const post = p.getByTestId('post-listing-form');
    await post.getByLabel('Volume (kWh)').fill('12,5');
    await post.getByLabel('Price per kWh').fill('0,1250');
    // the form's zone is DE-North (Europe/Berlin): its window is read in that market time
    const start = await post.getByLabel(/^Delivery start \(CES?T\)/).inputValue();
    await post.getByRole('button', { name: 'Post listing' }).click();

    const api = await HubClient.login(env.url, hans.email, PASSWORD);
    env.clients.push(api);
    await expect
      .poll(
        async () => (await api.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items.length,
      )
      .toBe(1);
    const [posted] = (await api.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items;
    expect(posted!.volumeKwh).toBe('12.500');
    expect(posted!.pricePerKwh).toBe('0.1250');
    // the form's time was read in Berlin's market time, and the book shows the same hour, labelled
    const berlin = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Berlin',
      dateStyle: 'short',
      timeStyle: 'short',
    });
    expect(berlin.format(new Date(posted!.deliveryStart)).replace(' ', 'T')).toBe(start);
    const r = row(p, posted!.id);
    await until(r.getByTestId('listing-available'), '12,500 / 12,500 kWh');
    await until(r.getByTestId('listing-price'), '0,1250');
    const period = p.getByTestId('period-group').filter({ has: r });
    await until(period.locator('h3'), `${start.slice(11, 16)} –`);
    await until(period.locator('h3'), /CES?T/);

    // a thousands separator is not guessed: said at the field
    await post.getByLabel('Volume (kWh)').fill('1.000');
    await post.getByLabel('Price per kWh').fill('0,1250');
    await post.getByRole('button', { name: 'Post listing' }).click();
    await until(post.getByTestId('field-msg-volumeKwh'), 'Write decimals with a comma');
    await post.getByLabel('Volume (kWh)').fill('1000');
    await post.getByTestId('field-msg-volumeKwh').filter({ hasText: /./ }).waitFor({ state: 'detached' });
    await shot(p, 'trading-de-1280.png');
    expect(hans.errors).toEqual([]);
  }, 60_000);
});
