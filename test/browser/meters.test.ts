// Issue 18 in a real browser against a real hub: a trader adds a meter through the dashboard (the
// post form then trades from it), sees its slots as a chart of contracted volume against the limit,
// and retires it after a confirmation; a meter with an active listing is refused in words.
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD } from '../support/client.js';
import { listingInput } from '../support/traders.js';
import { browserSuite, checkChromium, hasChromium, shot, until } from './browser-support.js';

checkChromium('meters browser tests');

interface Meter {
  id: string;
  externalId: string;
  zone: string;
  status: string;
}

const uniqueMeterId = (prefix: string) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

describe.skipIf(!hasChromium)('meters in the dashboard', () => {
  const env = browserSuite();

  test('adding a meter through the UI: listed with its per-slot limit, offered by the post form, its slots drawn as a chart; retired after asking', async () => {
    const mia = await env.uiTrader(
      'Mia Meter',
      { viewport: { width: 1440, height: 1000 } },
      undefined,
      false,
    );
    const p = mia.page;
    const post = p.getByTestId('post-listing-form');
    const panel = p.getByTestId('meters');
    // no meter yet: the post form says so, links to adding one, and holds the button
    await post.getByTestId('post-no-meter').waitFor();
    expect(await post.getByRole('button', { name: 'Post listing' }).isDisabled()).toBe(true);
    await post.getByTestId('post-add-meter').click();
    const form = panel.getByTestId('meter-form');
    await expect
      .poll(() => p.evaluate(() => (globalThis as any).document.activeElement?.name))
      .toBe('externalId');

    // a refusal at its field: both capacities 0
    const ean = uniqueMeterId('871685900');
    await form.getByLabel('Meter id (EAN, MPAN…)').fill(ean);
    await form.getByLabel('Label').fill('Roof PV');
    await form.getByLabel('Zone').selectOption('NL');
    await form.getByLabel('Export capacity (kW)').fill('0');
    await form.getByLabel('Import capacity (kW)').fill('0');
    await form.getByRole('button', { name: 'Add meter' }).click();
    await until(form.getByTestId('field-msg-exportCapacityKw'), 'export or an import capacity above 0');

    await form.getByLabel('Export capacity (kW)').fill('10');
    await form.getByLabel('Import capacity (kW)').fill('4,5'.replace(',', '.'));
    await form.getByRole('button', { name: 'Add meter' }).click();
    const row = panel.getByTestId('meter-row').filter({ hasText: 'Roof PV' });
    await row.waitFor();
    await until(row, ean);
    await until(row.getByTestId('meter-zone-cell'), 'NL');
    // 10 kW for a 60-minute slot at the built-in capFactor 0.5: 5.000 kWh per slot
    await until(row, 'limit 5.000 kWh / 60-min slot');
    await until(row, 'limit 2.250 kWh / 60-min slot');
    await until(panel.locator('#meters-count'), '1 active');

    // the post form trades from it now: the zone is the meter's, shown read-only
    await post.getByTestId('post-no-meter').waitFor({ state: 'hidden' });
    expect(await post.getByTestId('post-meter').locator('option').allTextContents()).toEqual([
      `Roof PV (${ean}) · NL`,
    ]);
    await until(post.getByTestId('post-zone'), 'NL');
    expect(await post.getByLabel('Zone').count()).toBe(0);
    expect(await post.getByRole('button', { name: 'Post listing' }).isEnabled()).toBe(true);

    // its slots as a chart: the next 24 hours, export and import against their limits
    const chart = panel.getByTestId('meter-chart');
    await chart.locator('.uplot canvas').first().waitFor();
    expect(await chart.locator('#meter-chart').getAttribute('data-slots')).toBe('24');
    const legend = await chart.locator('.u-legend').textContent();
    for (const name of ['Export contracted', 'Export limit', 'Import contracted', 'Import limit'])
      expect(legend).toContain(name);
    await until(
      chart.getByTestId('meter-chart-summary'),
      'Export: nothing contracted (limit 5.000 kWh per slot)',
    );
    await until(chart, /market time \(CES?T\)/);
    await chart.getByTestId('meter-chart-span').selectOption('168');
    await expect.poll(() => chart.locator('#meter-chart').getAttribute('data-slots')).toBe('168');

    // the same metering point again is refused at its field
    await panel.locator('summary').filter({ hasText: 'Add a meter' }).click();
    await form.getByLabel('Meter id (EAN, MPAN…)').fill(ean);
    await form.getByLabel('Export capacity (kW)').fill('3');
    await form.getByRole('button', { name: 'Add meter' }).click();
    await until(form.getByTestId('field-msg-externalId'), 'registered already');
    await shot(p, 'meters-1440.png');

    // retiring asks first; kept, then retired: the post form has no meter to trade from again
    await row.getByTestId('meter-retire').click();
    const dialog = p.getByTestId('confirm-dialog');
    await until(dialog, 'Retire this meter?');
    await dialog.getByTestId('confirm-keep').click();
    await dialog.waitFor({ state: 'detached' });
    const api = await HubClient.login(env.url, mia.email, PASSWORD);
    env.clients.push(api);
    const before = await api.rest<{ items: Meter[] }>('GET', '/api/v1/meters');
    expect(before.items.map((m) => m.status)).toEqual(['active']);
    await row.getByTestId('meter-retire').click();
    await dialog.getByTestId('confirm-yes').click();
    await p.locator('[data-testid="meter-row"][data-status="retired"]').waitFor();
    await post.getByTestId('post-no-meter').waitFor();
    const after = await api.rest<{ items: Meter[] }>('GET', '/api/v1/meters');
    expect(after.items.map((m) => m.status)).toEqual(['retired']);
    expect(mia.errors).toEqual([]);
  }, 90_000);

  test('a meter with an active listing is not retired: said in a sentence; its contracted slots show in the chart', async () => {
    const olga = await env.uiTrader(
      'Olga Busy',
      { viewport: { width: 1280, height: 1000 } },
      undefined,
      false,
    );
    const api = await HubClient.login(env.url, olga.email, PASSWORD);
    env.clients.push(api);
    await api.connect();
    const meter = await api.rest<Meter>('POST', '/api/v1/meters', {
      externalId: uniqueMeterId('olga'),
      zone: 'DE-North',
      exportCapacityKw: '100',
      importCapacityKw: '0',
      label: 'Barn roof',
    });
    const listing = await api.createListing({
      ...listingInput({ volumeKwh: '30', pricePerKwh: '0.1000' }),
      meterId: meter.id,
    } as Parameters<HubClient['createListing']>[0]);
    const p = olga.page;
    await p.reload();
    const row = p.getByTestId('meter-row').filter({ hasText: 'Barn roof' });
    await row.getByTestId('meter-retire').click();
    await p.getByTestId('confirm-dialog').getByTestId('confirm-yes').click();
    await until(
      p.getByTestId('meters-error'),
      'cannot be retired yet: it still has active listings or trades that are not settled',
    );
    expect((await api.rest<Meter>('GET', `/api/v1/meters/${meter.id}`)).status).toBe('active');

    // a buyer takes 10 kWh of it: the chart's summary counts that slot's export
    const buyer = await env.apiTrader('Bruno Buyer');
    const buyerMeter = await buyer.client.rest<Meter>('POST', '/api/v1/meters', {
      externalId: uniqueMeterId('bruno'),
      zone: 'DE-North',
      exportCapacityKw: '0',
      importCapacityKw: '100',
    });
    const swap = await buyer.client.propose({
      listingId: listing.id,
      volumeKwh: '10',
      pricePerKwh: '0.1000',
      meterId: buyerMeter.id,
    } as Parameters<HubClient['propose']>[0]);
    await api.accept(swap.id, 1);
    // the listing delivers a day ahead: the next 48 hours hold its slot
    await p.getByTestId('meter-chart-span').selectOption('48');
    await until(
      p.getByTestId('meter-chart-summary'),
      /Export: contracted in 1 of 48 slots, at most 10\.000 kWh of 50\.000 kWh/,
    );
    expect(olga.errors).toEqual([]);
  }, 90_000);
});
