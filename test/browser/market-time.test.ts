// Issue 17 point 4 with zones that carry a timeZone (GET /api/v1/zones): every delivery time of a
// listing, a negotiation card and a trade is shown in its zone's market time with the zone's short
// name for that date (the built-in DE-North is Europe/Berlin, NL Europe/Amsterdam), a zone that is
// not configured in UTC labelled "UTC", whatever the browser's own time zone; the post form reads
// its wall times in the chosen zone's market time and refuses one the clocks skip.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HubClient, type Listing } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput } from '../support/traders.js';
import { browserSuite, checkChromium, hasChromium, metered, until } from './browser-support.js';

checkChromium('market time browser tests');

const HOUR = 3_600_000;
/** a winter date always ahead: January 15 of next year, 12:00 UTC (13:00 CET) */
const YEAR = new Date().getUTCFullYear() + 1;
const WINTER = new Date(Date.UTC(YEAR, 0, 15, 12));
const slot = (start: Date) => ({
  deliveryStart: start.toISOString(),
  deliveryEnd: new Date(start.getTime() + HOUR).toISOString(),
});
/** the last Sunday of March of YEAR: the clocks go forward in Berlin at 02:00 */
function springForward(): string {
  const d = new Date(Date.UTC(YEAR, 2, 31));
  d.setUTCDate(31 - d.getUTCDay());
  return d.toISOString().slice(0, 10);
}

describe.skipIf(!hasChromium)('market time from the zones', () => {
  const env = browserSuite();
  const row = (page: Page, id: string) =>
    page.locator(`[data-testid="listing-row"][data-listing-id="${id}"]`);
  const periodOf = (page: Page, id: string) =>
    page
      .getByTestId('period-group')
      .filter({ has: row(page, id) })
      .locator('h3');

  test("listings, cards and trades in their zone's market time; the post form converts exactly", async () => {
    const { client: mona } = await env.apiTrader('Mona Zeit');
    const at = slot(WINTER);
    const north = await mona.createListing(listingInput({ zone: 'DE-North', pricePerKwh: '0.1000', ...at }));
    const nl = await mona.createListing(listingInput({ zone: 'NL', pricePerKwh: '0.1100', ...at }));
    // (a zone that is not configured cannot be listed in since issue 18: every listing names a meter in a configured zone)

    // a New York browser writing dates the British way (24 h): market time is not the browser's
    const tim = await env.uiTrader('Tim Zone', {
      viewport: { width: 1440, height: 1000 },
      locale: 'en-GB',
      timezoneId: 'America/New_York',
    });
    const p = tim.page;
    await until(periodOf(p, north.id), '13:00 – 14:00 CET');
    await until(periodOf(p, nl.id), '13:00 – 14:00 CET');
    // DE-North and NL show the period alike and share its group
    expect(await periodOf(p, north.id).textContent()).toBe(await periodOf(p, nl.id).textContent());
    expect(await row(p, north.id).getByTestId('propose-button').getAttribute('aria-label')).toContain(
      '13:00 – 14:00 CET',
    );

    // a negotiation card and, once accepted, the trade: in the zone's market time too
    const api = metered(await HubClient.login(env.url, tim.email, PASSWORD));
    env.clients.push(api);
    await api.connect();
    const swap = await api.propose({ listingId: north.id, volumeKwh: '10', pricePerKwh: '0.1000' });
    const card = p.locator(`[data-testid="swap-card"][data-swap-id="${swap.id}"]`);
    await until(card, 'Delivery 15 Jan, 13:00 – 14:00 CET');
    await mona.accept(swap.id, 1);
    await until(p.getByTestId('trade-row').filter({ hasText: 'DE-North' }), '15 Jan, 13:00 – 14:00 CET');

    // the post form: 14:00 market time in DE-North on a winter day is 13:00 UTC
    const post = p.getByTestId('post-listing-form');
    // Tim's meter is in DE-North: the form takes its zone
    const start = post.getByLabel(/^Delivery start \(CES?T\)/);
    const end = post.getByLabel(/^Delivery end \(CES?T\)/);
    await post.getByLabel('Volume (kWh)').fill('5');
    await post.getByLabel('Price per kWh').fill('0.1000');
    const day = `${YEAR}-01-16`;
    await start.fill(`${day}T14:00`);
    await end.fill(`${day}T15:00`);
    await until(post.getByTestId('market-time-note'), 'Europe/Berlin (CET');
    await post.getByRole('button', { name: 'Post listing' }).click();
    const mine = async () => (await api.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items;
    await expect.poll(async () => (await mine()).length).toBe(1);
    const [posted] = await mine();
    expect(posted!.deliveryStart).toBe(`${day}T13:00:00.000Z`);
    expect(posted!.deliveryEnd).toBe(`${day}T14:00:00.000Z`);
    await until(periodOf(p, posted!.id), '14:00 – 15:00 CET');

    // a wall time the clocks skip is refused at its field, and nothing is posted
    const gap = springForward();
    await post.getByLabel('Volume (kWh)').fill('5');
    await post.getByLabel('Price per kWh').fill('0.1000');
    await start.fill(`${gap}T02:30`);
    await end.fill(`${gap}T04:00`);
    await post.getByRole('button', { name: 'Post listing' }).click();
    await until(post.getByTestId('field-msg-deliveryStart'), 'does not exist in Europe/Berlin');
    expect((await mine()).length).toBe(1);

    expect(tim.errors).toEqual([]);
  }, 90_000);

  test('a proposed window the clock overtakes while the form is open is moved and shown, not posted unseen', async () => {
    // the page's clock runs from the real time, and is moved two hours on while the form stands open
    const paula = await env.uiTrader('Paula Slot', { locale: 'en-GB' }, (page) => page.clock.install());
    const p = paula.page;
    const api = metered(await HubClient.login(env.url, paula.email, PASSWORD));
    env.clients.push(api);
    const mine = async () => (await api.rest<{ items: Listing[] }>('GET', '/api/v1/listings?owner=me')).items;
    const post = p.getByTestId('post-listing-form');
    const start = post.getByLabel(/^Delivery start \(CES?T\)/);
    const end = post.getByLabel(/^Delivery end \(CES?T\)/);
    await post.getByLabel('Volume (kWh)').fill('5');
    await post.getByLabel('Price per kWh').fill('0.1000');
    const proposed = await start.inputValue();
    await p.clock.setSystemTime(Date.now() + 2 * HOUR);
    await post.getByRole('button', { name: 'Post listing' }).click();
    // not posted: the window moved on, and the trader is told
    await until(post.getByTestId('field-msg-deliveryStart'), 'closed for trading while the form was open');
    const moved = await start.inputValue();
    expect(moved > proposed).toBe(true);
    expect(await mine()).toEqual([]);
    // posted again: the window shown
    const movedEnd = await end.inputValue();
    await post.getByRole('button', { name: 'Post listing' }).click();
    await expect.poll(async () => (await mine()).length).toBe(1);
    const [posted] = await mine();
    await until(periodOf(p, posted!.id), `${moved.slice(11)} – ${movedEnd.slice(11)}`);
    expect(paula.errors).toEqual([]);
  }, 90_000);
});
