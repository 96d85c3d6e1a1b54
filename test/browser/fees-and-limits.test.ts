// Issue 18 in a real browser against a real hub: the post form trades from a meter on its zone's
// slot grid (snapped, in market time, all or none); every offer shows what the trader pays or
// receives with fees, line by line, on the card, in its thread and in the trades; an accept that
// would take a meter over its per-slot limit is refused with a sentence saying which, where, how much.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient, type Listing, type Swap } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput, registerMeter, trader, withMeter } from '../support/traders.js';
import {
  browserSuite,
  checkChromium,
  connected,
  hasChromium,
  loginInUi,
  newPage,
  shot,
  until,
} from './browser-support.js';

checkChromium('fees and limits browser tests');

interface Fees {
  energyNotional: string;
  buyer: { wheeling: string; interZone: string; platform: string; total: string };
  seller: { wheeling: string; platform: string; total: string };
  buyerPays: string;
  sellerReceives: string;
}
type FeeSwap = Omit<Swap, 'fees'> & { fees: Fees | null; buyerMeterId?: string | null };

describe.skipIf(!hasChromium)('meters, fees and limits in the dashboard', () => {
  const env = browserSuite();

  const card = (page: Page, swapId: string) =>
    page.locator(`[data-testid="swap-card"][data-swap-id="${swapId}"]`);
  const row = (page: Page, listingId: string) =>
    page.locator(`[data-testid="listing-row"][data-listing-id="${listingId}"]`);

  /** A trader registered in the dashboard, with an API client of the same login. */
  const uiWithApi = async (name: string, options = {}) => {
    const ui = await env.uiTrader(
      name,
      { viewport: { width: 1280, height: 1000 }, ...options },
      undefined,
      false,
    );
    const api = await HubClient.login(env.url, ui.email, PASSWORD);
    env.clients.push(api);
    return { ui, api };
  };

  test('posting a listing on the slot grid: the meter picks the zone, times snap to its 60-minute slots in market time, all or none', async () => {
    const { ui, api } = await uiWithApi('Nina Grid', { timezoneId: 'America/New_York' });
    const meter = await registerMeter(api, {
      zone: 'NL',
      exportCapacityKw: '50',
      importCapacityKw: '0',
      label: 'Dock',
    });
    const p = ui.page;
    await p.reload();
    await connected(p);
    const post = p.getByTestId('post-listing-form');
    await expect
      .poll(() => post.getByTestId('post-meter').locator('option').allTextContents())
      .toEqual([`Dock (${meter.externalId}) · NL`]);
    await until(post.getByTestId('post-zone'), 'NL');

    // three days ahead, in Amsterdam's market time whatever the browser's clock (New York here)
    const amsterdam = new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Amsterdam',
      dateStyle: 'short',
      timeStyle: 'short',
    });
    const day = amsterdam.format(new Date(Date.now() + 3 * 86_400_000)).slice(0, 10);
    const start = post.getByLabel(/^Delivery start \(CES?T\)/);
    const end = post.getByLabel(/^Delivery end \(CES?T\)/);
    await start.fill(`${day}T10:20`);
    await start.blur();
    await expect.poll(() => start.inputValue()).toBe(`${day}T10:00`);
    await end.fill(`${day}T12:40`);
    await end.blur();
    await expect.poll(() => end.inputValue()).toBe(`${day}T13:00`);
    await until(post.getByTestId('market-time-note'), 'this window: 3 slots');
    expect(await start.getAttribute('step')).toBe('3600');

    await post.getByLabel('Volume (kWh)').fill('30');
    await post.getByLabel('Price per kWh').fill('0.1100');
    await post.getByTestId('post-all-or-none').check();
    await post.getByRole('button', { name: 'Post listing' }).click();
    await until(p.getByTestId('toast'), 'Listing posted');

    const mine = (
      await api.rest<{ items: (Listing & Record<string, unknown>)[] }>('GET', '/api/v1/listings?owner=me')
    ).items;
    expect(mine).toHaveLength(1);
    const posted = mine[0]!;
    expect(amsterdam.format(new Date(posted.deliveryStart))).toBe(`${day} 10:00`);
    expect(amsterdam.format(new Date(posted.deliveryEnd))).toBe(`${day} 13:00`);
    expect(posted.zone).toBe('NL');
    expect(posted.meterId).toBe(meter.id);
    expect(posted.allOrNone).toBe(true);
    expect((posted.slots as unknown[]).length).toBe(3);

    // a listing whose own slot share is over the meter's limit (50 kW: 25.000 kWh per slot) is refused in words
    await post.getByLabel('Volume (kWh)').fill('90');
    await post.getByLabel('Price per kWh').fill('0.1100');
    await post.getByRole('button', { name: 'Post listing' }).click();
    const line = post.locator('.form-error');
    await until(line, 'This listing would take meter Dock');
    await until(line, 'over its export limit of 25.000 kWh in the slot starting');
    await until(line, '30.000 kWh requested');
    await shot(p, 'post-on-grid-1280.png');
    expect(ui.errors).toEqual([]);
  }, 90_000);

  test('an offer shows what each side pays or receives, line by line: on the card, in its thread and in the trades', async () => {
    const seller = await env.apiTrader('Sven Seller');
    const sven = await withMeter(seller.client);
    const listing = await sven.createListing(listingInput({ volumeKwh: '100', pricePerKwh: '0.0900' }));

    const { ui, api } = await uiWithApi('Nora Buyer');
    const flat = await registerMeter(api, {
      zone: 'NL',
      exportCapacityKw: '0',
      importCapacityKw: '100',
      label: 'Flat',
    });
    const garage = await registerMeter(api, {
      zone: 'DE-North',
      exportCapacityKw: '0',
      importCapacityKw: '100',
      label: 'Garage',
    });
    const p = ui.page;
    await p.reload();
    await connected(p);
    await row(p, listing.id).getByTestId('propose-button').click();
    const dialog = p.getByTestId('propose-dialog');
    // the meter in the listing's zone is chosen first; another zone is said to cross zones
    const meter = dialog.getByTestId('propose-meter');
    await expect.poll(() => meter.inputValue()).toBe(garage.id);
    await meter.selectOption(flat.id);
    await until(dialog.getByTestId('propose-meter-note'), 'crosses zones');
    await dialog.getByLabel('Volume (kWh)').fill('10');
    await dialog.getByTestId('propose-submit').click();
    const c = p.getByTestId('swap-card').first();
    await c.waitFor();
    const swapId = (await c.getAttribute('data-swap-id'))!;
    const swap = await api.rest<FeeSwap>('GET', `/api/v1/swaps/${swapId}`);
    expect(swap.buyerMeterId).toBe(flat.id);
    const f = swap.fees!;
    const fees = c.getByTestId('swap-fees');
    await until(fees.getByTestId('fee-energy'), `${f.energyNotional} EUR`);
    await until(fees.getByTestId('fee-wheeling'), `+ ${f.buyer.wheeling} EUR`);
    await until(fees.getByTestId('fee-inter-zone'), `+ ${f.buyer.interZone} EUR`);
    await until(fees.getByTestId('fee-platform'), `+ ${f.buyer.platform} EUR`);
    await until(fees.getByTestId('fee-total'), `You pay ${f.buyerPays} EUR`);
    expect(f.buyer.interZone).not.toBe('0.00');
    await until(c.getByTestId('offer-fees'), `You pay ${f.buyerPays} EUR`);

    // the seller's card: energy, wheeling, platform and what they receive; no inter-zone line
    const s = await newPage(env.browser, { viewport: { width: 1280, height: 1000 } });
    env.contexts.push(s.context);
    await s.page.goto(env.url);
    await loginInUi(s.page, seller.email);
    await connected(s.page);
    const sc = card(s.page, swapId);
    await until(sc.getByTestId('fee-total'), `You receive ${f.sellerReceives} EUR`);
    await until(sc.getByTestId('fee-wheeling'), `− ${f.seller.wheeling} EUR`);
    await until(sc.getByTestId('fee-platform'), `− ${f.seller.platform} EUR`);
    expect(await sc.getByTestId('fee-inter-zone').count()).toBe(0);

    // a counter: new terms, new fees; each round of the thread shows its own bottom line
    await sven.counter({ swapId, round: 1, volumeKwh: '10', pricePerKwh: '0.1000' });
    await until(c.getByTestId('swap-turn'), 'Your turn');
    const countered = await api.rest<FeeSwap>('GET', `/api/v1/swaps/${swapId}`);
    await until(
      c.getByTestId('swap-fees').getByTestId('fee-total'),
      `You pay ${countered.fees!.buyerPays} EUR`,
    );
    await c.getByTestId('offer-fees').nth(1).waitFor();
    expect(await c.getByTestId('offer-fees').allTextContents()).toEqual([
      expect.stringContaining(`You pay ${f.buyerPays} EUR`),
      expect.stringContaining(`You pay ${countered.fees!.buyerPays} EUR`),
    ]);
    await c.getByTestId('offer-fees').nth(1).locator('summary').click();
    await until(
      c.getByTestId('offer-fees').nth(1).getByTestId('fee-inter-zone'),
      countered.fees!.buyer.interZone,
    );
    await shot(p, 'fees-card-1280.png');

    // accepted: the trade shows what was paid, line by line
    await c.getByTestId('accept-button').click();
    await until(c.getByTestId('swap-turn'), 'Trade done');
    const trade = p.getByTestId('trade-row').filter({ hasText: 'Sven Seller' });
    await until(trade.getByTestId('trade-fees'), `You pay ${countered.fees!.buyerPays} EUR`);
    await until(
      s.page.getByTestId('trade-row').getByTestId('trade-fees'),
      `You receive ${countered.fees!.sellerReceives} EUR`,
    );
    expect(ui.errors).toEqual([]);
    expect(s.errors).toEqual([]);
  }, 120_000);

  test("an accept over the buyer's import limit is refused: which meter, which slot, how much, in a sentence", async () => {
    // the buyer's meter imports 2 kW: 1.000 kWh per 60-minute slot
    const ben = await trader(env.url, 'ben', true, { importCapacityKw: '2', exportCapacityKw: '0' });
    const first = await trader(env.url, 'first');
    env.clients.push(ben, first);
    const sue = await env.apiTrader('Sue Second');
    const second = await withMeter(sue.client);
    const input = listingInput({ volumeKwh: '5', pricePerKwh: '0.1000' });
    const one = await first.createListing(input);
    const two = await second.createListing(input);
    // each offer is within Ben's own limit; the first accepted fills his slot
    const taken = await ben.propose({ listingId: one.id, volumeKwh: '1', pricePerKwh: '0.1000' });
    const refused = await ben.propose({ listingId: two.id, volumeKwh: '1', pricePerKwh: '0.1000' });
    await first.accept(taken.id, 1);

    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 1280, height: 900 } });
    env.contexts.push(context);
    await page.goto(env.url);
    await loginInUi(page, sue.email);
    await connected(page);
    const c = card(page, refused.id);
    await until(c.getByTestId('swap-turn'), 'Your turn');
    await c.getByTestId('accept-button').click();
    const said = c.getByTestId('swap-error');
    await until(said, "This trade would take the other side's meter over its import limit of 1.000 kWh");
    await until(said, 'in the slot starting');
    await until(said, '(1.000 kWh already contracted, 1.000 kWh requested).');
    expect((await sue.client.rest<Swap>('GET', `/api/v1/swaps/${refused.id}`)).status).toBe('open');
    await shot(page, 'limit-refused-1280.png');
    expect(errors).toEqual([]);
  }, 90_000);
});
