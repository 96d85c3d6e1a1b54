// Issue 17 in a real browser, continued: the order book (3), messages at the field (5), small
// truths (8: live removal, persisted case-insensitive filters, known zones, toasts that end with the
// deal; password feedback is in password-feedback.test.ts), an expired session returning
// to its view (6), names (2) and amending a listing in place (3), as PROTOCOL v1.1 adds them.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient, type Listing, type Session } from '../../src/client/index.js';
import { api, PASSWORD } from '../support/client.js';
import { startHub } from '../support/hub.js';
import { listingInput } from '../support/traders.js';
import {
  addMeterInUi,
  browserSuite,
  checkChromium,
  connected,
  hasChromium,
  loginInUi,
  newPage,
  registerInUi,
  until,
} from './browser-support.js';

checkChromium('market book browser tests');

const HOUR = 3_600_000;
/** A delivery period `hours` from now, on the hour (UTC). */
function period(hours: number) {
  const start = new Date(Date.now() + hours * HOUR);
  start.setUTCMinutes(0, 0, 0);
  return { deliveryStart: start.toISOString(), deliveryEnd: new Date(start.getTime() + HOUR).toISOString() };
}

/** An instant as a datetime-local value in NL's market time (Europe/Amsterdam). */
const amsterdam = (iso: string) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Amsterdam',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  })
    .format(new Date(iso))
    .replace(' ', 'T');

const prices = (page: Page, groupIndex: number, side: 'supply' | 'demand') =>
  page
    .getByTestId('period-group')
    .nth(groupIndex)
    .getByTestId(`book-${side}`)
    .getByTestId('listing-price')
    .allTextContents();

describe.skipIf(!hasChromium)('the market as an order book, messages, small truths', () => {
  const env = browserSuite();

  test('grouped by delivery period, best price first per side, sortable; filters kept across reload; closed listings leave live', async () => {
    const { client: carol } = await env.apiTrader('Carol');
    const p1 = period(30);
    const p2 = period(31);
    const zone = 'DE-South';
    const make = (side: 'supply' | 'demand', pricePerKwh: string, p = p1) =>
      carol.createListing(listingInput({ side, pricePerKwh, zone, ...p }));
    await make('supply', '0.1200');
    const mid = await make('supply', '0.1100');
    await make('supply', '0.1000');
    await make('demand', '0.0800');
    await make('demand', '0.0900');
    await make('supply', '0.1300', p2);

    const olga = await env.uiTrader('Olga Book');
    const o = olga.page;
    await o.locator(`[data-testid="listing-row"][data-listing-id="${mid.id}"]`).waitFor();
    // the zone filter takes any case and the known spelling is used
    await o.getByTestId('filter-zone').fill('de-south');
    await o.getByTestId('filter-zone').press('Enter');
    await expect.poll(() => o.getByTestId('period-group').count()).toBe(2);
    expect(await prices(o, 0, 'supply')).toEqual(['0.1000', '0.1100', '0.1200']);
    expect(await prices(o, 0, 'demand')).toEqual(['0.0900', '0.0800']);
    await until(o.getByTestId('period-best').first(), 'Best ask 0.1000 · best bid 0.0900');
    expect(await o.getByTestId('period-group').nth(0).getAttribute('data-period')).toContain(
      p1.deliveryStart,
    );

    // a column sorts, in every period
    await o.getByTestId('period-group').nth(0).getByTestId('book-supply').getByTestId('sort-price').click();
    expect(await prices(o, 0, 'supply')).toEqual(['0.1200', '0.1100', '0.1000']);
    const th = o
      .getByTestId('period-group')
      .nth(0)
      .getByTestId('book-supply')
      .locator('th[data-sort="price"]');
    expect(await th.getAttribute('aria-sort')).toBe('descending');

    // known zones are offered (the demo market's and those seen)
    const zones = await o
      .locator('#known-zones option')
      .evaluateAll((els) => els.map((e) => (e as any).value));
    expect(zones).toEqual(expect.arrayContaining(['DE-North', 'DE-South', 'NL', zone]));

    // filter and sort survive a reload
    await o.reload();
    await connected(o);
    expect(await o.getByTestId('filter-zone').inputValue()).toBe(zone);
    expect(o.url()).toContain(`zone=${zone}`);
    await expect.poll(() => prices(o, 0, 'supply')).toEqual(['0.1200', '0.1100', '0.1000']);

    // a cancelled listing leaves the book without a reload
    await carol.cancelListing(mid.id);
    await o
      .locator(`[data-testid="listing-row"][data-listing-id="${mid.id}"]`)
      .waitFor({ state: 'detached' });
    expect(await prices(o, 0, 'supply')).toEqual(['0.1200', '0.1000']);
    expect(olga.errors).toEqual([]);
  }, 90_000);

  test('messages at the field: a price far from the market, a hub refusal, more than what is left, a toast that ends with the deal', async () => {
    const { client: dora } = await env.apiTrader('Dora');
    const p = period(40);
    await dora.createListing(listingInput({ side: 'demand', zone: 'NL', pricePerKwh: '0.1000', ...p }));
    const supply = await dora.createListing(
      listingInput({ zone: 'NL', volumeKwh: '30', pricePerKwh: '0.1000' }),
    );

    const eve = await env.uiTrader('Eve Field', undefined, undefined, false);
    const e = eve.page;
    // her listing is in NL: the post form takes the zone from her (only) meter there
    await addMeterInUi(e, 'NL');
    const mineCount = async () => {
      const me = await HubClient.login(env.url, eve.email, PASSWORD);
      const n = (await me.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items.length;
      me.close();
      return n;
    };
    const post = e.getByTestId('post-listing-form');
    const submit = post.getByRole('button', { name: 'Post listing' });
    // a price far from the best bid of its period is questioned once
    await post.getByLabel('Volume (kWh)').fill('10');
    await post.getByLabel('Price per kWh').fill('0.5000');
    // NL is configured (Europe/Amsterdam): the form reads its market time, labelled CET or CEST
    const startField = post.getByLabel(/^Delivery start \(CES?T\)/);
    const endField = post.getByLabel(/^Delivery end \(CES?T\)/);
    await startField.fill(amsterdam(p.deliveryStart));
    await endField.fill(amsterdam(p.deliveryEnd));
    await submit.click();
    await until(post.getByTestId('field-msg-pricePerKwh'), 'more than 3 times the best bid for this period');
    expect(await mineCount()).toBe(0);
    await submit.click();
    await e.getByTestId('toast').filter({ hasText: 'Listing posted' }).waitFor();
    expect(await mineCount()).toBe(1);

    // the hub's refusal at its field, cleared on edit
    await startField.fill('2020-01-01T10:00');
    await endField.fill('2020-01-01T11:00');
    await post.getByLabel('Volume (kWh)').fill('10');
    await post.getByLabel('Price per kWh').fill('0.1000');
    await submit.click();
    const startMsg = post.getByTestId('field-msg-deliveryStart');
    await until(startMsg, 'Pick a delivery start in the future');
    expect(await startField.getAttribute('aria-invalid')).toBe('true');
    await startField.fill(amsterdam(p.deliveryStart));
    await startMsg.filter({ hasText: /./ }).waitFor({ state: 'detached' });

    // an offer above what is left says how much is left, and "available" follows live trades
    const row = e.locator(`[data-testid="listing-row"][data-listing-id="${supply.id}"]`);
    await row.getByTestId('propose-button').click();
    const dialog = e.getByTestId('propose-dialog');
    await dialog.getByLabel('Volume (kWh)').fill('31');
    await until(dialog.getByTestId('field-msg-volumeKwh'), 'Only 30.000 kWh left');
    const { client: fred } = await env.apiTrader('Fred');
    const s = await fred.propose({ listingId: supply.id, volumeKwh: '20', pricePerKwh: '0.1000' });
    await dora.accept(s.id, 1);
    await until(dialog.getByTestId('propose-available'), 'Available now: 10.000 kWh of 30.000 kWh');
    await dialog.getByLabel('Volume (kWh)').fill('12');
    await until(dialog.getByTestId('field-msg-volumeKwh'), 'Only 10.000 kWh left');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // the "new offer" toast goes when the deal ends (the proposer withdrew)
    const [own] = (await (async () => {
      const me = await HubClient.login(env.url, eve.email, PASSWORD);
      const items = (await me.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items;
      me.close();
      return items;
    })()) as Listing[];
    const offer = await fred.propose({ listingId: own!.id, volumeKwh: '5', pricePerKwh: '0.4000' });
    const toast = e.getByTestId('toast').filter({ hasText: 'New offer on your listing' });
    await toast.waitFor();
    await fred.withdraw(offer.id);
    await toast.waitFor({ state: 'detached' });
    expect(eve.errors).toEqual([]);
  }, 90_000);

  test('filters belong to their trader: another one logging in on the same browser starts from the defaults', async () => {
    const { email: benEmail } = await env.apiTrader('Ben Other');
    const ada = await env.uiTrader('Ada Mine');
    const page = ada.page;
    await page.getByTestId('filter-mine').check();
    await page.getByTestId('filter-zone').fill('NL');
    await page.getByTestId('filter-zone').press('Enter');
    await expect.poll(() => page.url()).toContain('mine=1');
    await page.getByTestId('logout-button').click();
    await page.getByTestId('login-form').waitFor();

    await loginInUi(page, benEmail);
    await until(page.getByTestId('user-name'), 'Ben Other');
    await connected(page);
    expect(await page.getByTestId('filter-zone').inputValue()).toBe('');
    expect(await page.getByTestId('filter-mine').isChecked()).toBe(false);
    expect(page.url()).not.toMatch(/[?&](zone|mine)=/);

    expect(ada.errors).toEqual([]);
  }, 90_000);

  test('an expired session returns to the login form with a sentence, then to the view', async () => {
    const shortLived = await startHub({ env: { ACCESS_TOKEN_TTL_SECONDS: '6' } });
    try {
      const gina = await registerInUi(env.browser, shortLived.url, 'Gina Gone');
      env.contexts.push(gina.context);
      const page = gina.page;
      // the view: a zone filter
      await page.getByTestId('filter-zone').fill('NL');
      await page.getByTestId('filter-zone').press('Enter');
      await expect.poll(() => page.url()).toContain('zone=NL');
      // the login is revoked from elsewhere; at its next token refresh the dashboard finds out
      const refreshToken = await page.evaluate(() => localStorage.getItem('renex.refreshToken'));
      const other = await api<Session>(shortLived.url, 'POST', '/api/v1/auth/login', {
        body: { email: gina.email, password: PASSWORD },
      });
      const out = await api(shortLived.url, 'POST', '/api/v1/auth/logout', {
        body: { refreshToken },
        token: other.body.accessToken,
      });
      expect(out.status).toBe(204);
      await until(page.getByTestId('auth-notice'), 'Your session has expired');
      expect(page.url()).toContain('zone=NL');
      await loginInUi(page, gina.email);
      await connected(page);
      expect(await page.getByTestId('filter-zone').inputValue()).toBe('NL');
      expect(await page.getByTestId('auth-notice').isHidden()).toBe(true);

      expect(gina.errors).toEqual([]);
    } finally {
      await shortLived.stop();
    }
  }, 90_000);

  test('names, not ids: owner in the book, counterparty on the card, in the trades table and CSV', async () => {
    const { client: nora } = await env.apiTrader('Nora Named');
    const listing = await nora.createListing(listingInput({ zone: 'DE-South', pricePerKwh: '0.1000' }));
    expect(listing.ownerName).toBe('Nora Named');

    const ulf = await env.uiTrader('Ulf Names');
    const u = ulf.page;
    const row = u.locator(`[data-testid="listing-row"][data-listing-id="${listing.id}"]`);
    await until(row.getByTestId('listing-owner'), 'Nora Named');
    await row.getByTestId('propose-button').click();
    await u.getByTestId('propose-dialog').getByLabel('Volume (kWh)').fill('10');
    await u.getByTestId('propose-submit').click();
    const card = u.getByTestId('swap-card').first();
    await until(card.getByTestId('swap-counterparty'), 'Nora Named');
    const swapId = (await card.getAttribute('data-swap-id'))!;
    await nora.accept(swapId, 1);
    const trade = u.locator(`[data-testid="trade-row"][data-swap-id="${swapId}"]`);
    await until(trade.getByTestId('trade-counterparty'), 'Nora Named');
    const [download] = await Promise.all([u.waitForEvent('download'), u.getByTestId('download-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toContain('counterpartyId,counterpartyName,');
    expect(csv).toContain('Nora Named');
    expect(ulf.errors).toEqual([]);
  }, 60_000);

  test('an owner amends the price in place; the book re-sorts', async () => {
    const amy = await env.apiTrader('Amy');
    const { client: bea } = await env.apiTrader('Bea');
    const p = period(50);
    const zone = 'DE-South';
    const own = await amy.client.createListing(listingInput({ zone, pricePerKwh: '0.1000', ...p }));
    await bea.createListing(listingInput({ zone, pricePerKwh: '0.1050', ...p }));
    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 1440, height: 1000 } });
    env.contexts.push(context);
    await page.goto(`${env.url}/?zone=${zone}`);
    await loginInUi(page, amy.email);
    await connected(page);
    const row = page.locator(`[data-testid="listing-row"][data-listing-id="${own.id}"]`);
    // the period of these two (other tests of this file list in DE-South too, in other periods)
    const ownPrices = () =>
      page
        .getByTestId('period-group')
        .filter({ has: row })
        .getByTestId('book-supply')
        .getByTestId('listing-price')
        .allTextContents();
    await expect.poll(ownPrices).toEqual(['0.1000', '0.1050']);
    await row.getByTestId('amend-button').click();
    await row.getByTestId('amend-price').fill('0.1100');
    await row.getByTestId('amend-save').click();
    await until(row.getByTestId('listing-price'), '0.1100');
    await expect.poll(ownPrices).toEqual(['0.1050', '0.1100']);
    const amended = await amy.client.rest<Listing>('GET', `/api/v1/listings/${own.id}`);
    expect(amended.pricePerKwh).toBe('0.1100');
    expect(amended.volumeKwh).toBe(own.volumeKwh);

    // amended elsewhere while the form is open: the form shows the price now, and a price set back
    // to the one it first showed is a change, sent
    await row.getByTestId('amend-button').click();
    await until(row.getByTestId('listing-price'), '0.1100');
    expect(await row.getByTestId('amend-price').inputValue()).toBe('0.1100');
    await amy.client.amendListing(own.id, { pricePerKwh: '0.1150' });
    await expect.poll(() => row.getByTestId('amend-price').inputValue()).toBe('0.1150');
    await row.getByTestId('amend-price').fill('0.1100');
    await row.getByTestId('amend-save').click();
    await expect
      .poll(async () => (await amy.client.rest<Listing>('GET', `/api/v1/listings/${own.id}`)).pricePerKwh)
      .toBe('0.1100');
    expect(errors).toEqual([]);
  }, 60_000);
});
