// Issue 19's operator tools in a real browser against a real hub: an operator uploads a readings
// CSV with one bad row (the row's error is shown by row number and field, nothing is saved), then
// the corrected file (accepted; the trade settles), reads the zone's settlement report with its zero
// sum, and curtails a future trade, which its buyer sees curtailed live. A trader has none of this.
import type { Page } from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { Trade } from '../../src/client/index.js';
import {
  browserSuite,
  checkChromium,
  connected,
  hasChromium,
  hoursToPast,
  loginInUi,
  moveIntoPast,
  newPage,
  operatorClient,
  shot,
  tradeBetween,
  until,
} from './browser-support.js';

checkChromium('operator browser tests');

const OPERATOR = 'metering.operator@example.test';
const HOUR = 3_600_000;

/** An instant as Berlin's wall time: "2026-03-01" (day) or "2026-03-01T14:00" (datetime-local). */
const berlin = (at: string | number, kind: 'day' | 'minute') => {
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Berlin',
    dateStyle: 'short',
    ...(kind === 'minute' ? { timeStyle: 'short' as const } : {}),
  });
  return f.format(new Date(at)).replace(' ', 'T');
};

describe.skipIf(!hasChromium)('the grid operator in the dashboard', () => {
  const env = browserSuite({ env: { OPERATOR_EMAILS: OPERATOR, SWEEP_INTERVAL_MS: '100' } });

  const open = async (email: string): Promise<{ page: Page; errors: string[] }> => {
    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 1440, height: 1100 } });
    env.contexts.push(context);
    await page.goto(env.url);
    await loginInUi(page, email);
    await connected(page);
    return { page, errors };
  };

  test('a readings CSV with a bad row is refused by row and nothing is saved; the corrected file is accepted and settles; the report sums to zero', async () => {
    const t = await tradeBetween(env);
    const hours = hoursToPast(t.listing.deliveryStart);
    await moveIntoPast(env.hub, [t.swapId], hours);
    const slotStart = new Date(Date.parse(t.listing.deliveryStart) - hours * HOUR).toISOString();
    await operatorClient(env, OPERATOR);
    const { page, errors } = await open(OPERATOR);
    const panel = page.getByTestId('operator');
    await panel.waitFor();

    const csv = (imported: string) =>
      [
        'meter,slot_start,exported_kwh,imported_kwh',
        `${t.sellerMeter.externalId},${slotStart},8,0`,
        `${t.buyerMeter.externalId},${slotStart},0,${imported}`,
        '',
      ].join('\n');
    const file = panel.getByTestId('readings-file');
    await file.setInputFiles({
      name: 'readings-bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv('ten')),
    });
    await panel.getByTestId('readings-upload').click();
    await until(panel.getByTestId('readings-result'), 'Nothing was saved: 1 row needs a change');
    const issue = panel.getByTestId('readings-issue');
    await issue.first().waitFor();
    expect(await issue.count()).toBe(1);
    expect(await issue.getByTestId('readings-issue-row').textContent()).toBe('2');
    expect(await issue.getByTestId('readings-issue-field').textContent()).toBe('imported_kwh');
    expect((await issue.getByTestId('readings-issue-message').textContent())?.length).toBeGreaterThan(0);
    await shot(page, 'operator-readings-refused-1440.png');

    // all or nothing: not even the good row was stored, and the trade is not settled
    const stored = await env.hub.hub.db!.sequelize.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM meter_readings WHERE slot_start = $1',
      { bind: [slotStart], type: QueryTypes.SELECT },
    );
    expect(stored).toEqual([{ n: '0' }]);
    const before = await t.buyer.client.rest<{ items: Trade[] }>('GET', '/api/v1/trades');
    expect(before.items.find((x) => x.swapId === t.swapId)!.status).toBe('confirmed');

    // the corrected file
    await file.setInputFiles({ name: 'readings.csv', mimeType: 'text/csv', buffer: Buffer.from(csv('10')) });
    expect(await panel.getByTestId('readings-issues').count()).toBe(0);
    await panel.getByTestId('readings-upload').click();
    await until(panel.getByTestId('readings-result'), '2 readings accepted from readings.csv');
    await expect
      .poll(
        async () =>
          (await t.buyer.client.rest<{ items: Trade[] }>('GET', '/api/v1/trades')).items.find(
            (x) => x.swapId === t.swapId,
          )!.status,
        { timeout: 10_000 },
      )
      .toBe('settled');

    // the zone's report: the slot, its settled kWh, the zero sum
    await panel.getByTestId('report-zone').selectOption('DE-North');
    await panel.getByTestId('report-from').fill(berlin(slotStart, 'day'));
    await panel.getByTestId('report-to').fill(berlin(Date.now(), 'day'));
    await panel.getByTestId('report-show').click();
    const line = panel.locator(`[data-testid="report-row"][data-slot="${slotStart}"]`);
    await until(line.getByTestId('report-settled'), '8.000 kWh');
    await until(line.getByTestId('report-sum'), '0.00');
    await until(panel.getByTestId('report-note'), '1 settled slot in DE-North');
    await shot(page, 'operator-report-1440.png');
    expect(errors).toEqual([]);
  }, 120_000);

  test('a curtailment through the form: the future trade keeps half, and its buyer sees it curtailed live; traders see no operator tools', async () => {
    const t = await tradeBetween(env, '10', ['Cora Seller', 'Dan Buyer']);
    const buyer = await open(t.buyer.email);
    expect(await buyer.page.getByTestId('operator').isVisible()).toBe(false);
    const row = buyer.page.locator(`[data-testid="trade-row"][data-swap-id="${t.swapId}"]`);
    await until(row.getByTestId('trade-status'), 'Confirmed');

    await operatorClient(env, OPERATOR);
    const { page, errors } = await open(OPERATOR);
    const form = page.getByTestId('curtail-form');
    await form.getByTestId('curtail-zone').selectOption('DE-North');
    await form.getByTestId('curtail-meter').fill(t.sellerMeter.externalId);
    await form.getByTestId('curtail-from').fill(berlin(t.listing.deliveryStart, 'minute'));
    await form.getByTestId('curtail-to').fill(berlin(t.listing.deliveryEnd, 'minute'));
    await form.getByTestId('curtail-reason').selectOption('CONGESTION');
    await form.getByTestId('curtail-factor').fill('0.5');
    await form.getByTestId('curtail-submit').click();
    await until(page.getByTestId('curtail-result'), '1 trade curtailed to 0.5 of their contracted volume');

    const trade = (await t.buyer.client.rest<{ items: Trade[] }>('GET', '/api/v1/trades')).items.find(
      (x) => x.swapId === t.swapId,
    )!;
    expect(trade.slots[0]).toMatchObject({ curtailedKwh: '5.000', contractedKwh: '5.000' });
    // the buyer's dashboard follows (trade.curtailed), no reload
    await buyer.page
      .locator(
        `[data-testid="trade-row"][data-swap-id="${t.swapId}"] [data-testid="trade-status"][data-status="curtailed"]`,
      )
      .waitFor();
    const detail = buyer.page.locator(`[data-testid="trade-detail"][data-swap-id="${t.swapId}"]`);
    await detail.locator('summary').click();
    await until(
      detail.getByTestId('trade-lifecycle-note'),
      '5.000 kWh of the 10.000 kWh agreed remain contracted',
    );

    // a factor above 1 is refused at its field before sending
    await form.getByTestId('curtail-factor').fill('1.5');
    await form.getByTestId('curtail-submit').click();
    await until(form.getByTestId('field-msg-factor'), 'from 0 to 1');
    expect(errors).toEqual([]);
    expect(buyer.errors).toEqual([]);
  }, 120_000);
});
