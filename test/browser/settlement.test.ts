// Issue 19 in a real browser against a real hub: a trader's trade settles while the dashboard is open
// (the delivery moved into the past in the database, as the clock would; the operator uploads the
// meters' readings; the hub's sweep settles it): the trade's status becomes settled live, its money
// is shown from the trader's side as the hub's strings, a chart draws contracted against delivered
// kWh, and the statement lists the slot with its totals and downloads as CSV.
import { readFile } from 'node:fs/promises';
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

checkChromium('settlement browser tests');

const OPERATOR = 'grid.operator@example.test';
const HOUR = 3_600_000;

describe.skipIf(!hasChromium)('settlement in the dashboard', () => {
  const env = browserSuite({ env: { OPERATOR_EMAILS: OPERATOR, SWEEP_INTERVAL_MS: '100' } });

  test("a trader's trade settles live: status, the money from their side, a chart of contracted against delivered, the statement", async () => {
    const t = await tradeBetween(env);
    const { context, page, errors } = await newPage(env.browser, { viewport: { width: 1440, height: 1100 } });
    env.contexts.push(context);
    await page.goto(env.url);
    await loginInUi(page, t.buyer.email);
    await connected(page);
    // a trader sees no operator tools
    expect(await page.getByTestId('operator').isVisible()).toBe(false);
    const row = page.locator(`[data-testid="trade-row"][data-swap-id="${t.swapId}"]`);
    await until(row.getByTestId('trade-status'), 'Confirmed');
    expect(await row.getAttribute('data-status')).toBe('confirmed');
    const detail = page.locator(`[data-testid="trade-detail"][data-swap-id="${t.swapId}"]`);
    await detail.locator('summary').click();
    await until(detail.getByTestId('trade-lifecycle-note'), 'Settles once the meters are read');

    // delivered: the seller's meter exported 8 of the 10 kWh, the buyer's imported all 10
    const hours = hoursToPast(t.listing.deliveryStart);
    await moveIntoPast(env.hub, [t.swapId], hours);
    const slotStart = new Date(Date.parse(t.listing.deliveryStart) - hours * HOUR).toISOString();
    const op = await operatorClient(env, OPERATOR);
    const up = await op.rest<{ accepted: number }>('POST', '/api/v1/operator/readings', {
      readings: [
        { meterExternalId: t.sellerMeter.externalId, slotStart, exportedKwh: '8', importedKwh: '0' },
        { meterExternalId: t.buyerMeter.externalId, slotStart, exportedKwh: '0', importedKwh: '10' },
      ],
    });
    expect(up.accepted).toBe(2);

    // the status follows live (trade.settled), no reload
    await page
      .locator(`[data-testid="trade-row"][data-swap-id="${t.swapId}"][data-status="settled"]`)
      .waitFor();
    await until(row.getByTestId('trade-status'), 'Settled');
    const trades = await t.buyer.client.rest<{ items: Trade[] }>('GET', '/api/v1/trades');
    const settled = trades.items.find((x) => x.swapId === t.swapId)!;
    expect(settled.status).toBe('settled');
    expect(settled.slots[0]!.settledKwh).toBe('8.000');
    const s = settled.settlement!;
    expect(s.energyNotional).toBe('0.80');

    // the money from the buyer's side, the hub's own strings; no deviation line under min_of_two
    await until(detail.getByTestId('trade-settled-total'), `You paid ${s.buyerPays} EUR`);
    await until(detail.getByTestId('settlement-energy'), `${s.energyNotional} EUR`);
    await until(detail.getByTestId('settlement-total'), `You paid ${s.buyerPays} EUR`);
    expect(await detail.getByTestId('settlement-deviation').count()).toBe(0);
    await until(
      detail.getByTestId('trade-lifecycle-note'),
      '8.000 kWh delivered and settled of 10.000 kWh contracted',
    );
    expect(await detail.locator('[data-step="settled"]').getAttribute('data-state')).toBe('done');

    // the chart: one slot, contracted 10 and settled 8, drawn on a canvas
    const chart = detail.getByTestId('delivery-chart');
    const canvas = chart.locator('.uplot canvas').first();
    await canvas.waitFor();
    expect(await chart.getByTestId('delivery-chart-area').getAttribute('data-settled')).toBe('1');
    const legend = await chart.locator('.u-legend').textContent();
    expect(legend).toContain('Contracted');
    expect(legend).toContain('Delivered (settled)');
    // green (the settled bar) and grey (the contracted bar) pixels are on the canvas
    const painted = await canvas.evaluate((el) => {
      const c = el as unknown as {
        width: number;
        height: number;
        getContext(k: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let green = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 1]! > data[i]! + 60 && data[i + 3]! > 0) green++;
      return green;
    });
    expect(painted).toBeGreaterThan(50);
    await shot(page, 'trade-settled-1440.png');

    // the seller sees the same trade from their side
    const sp = await newPage(env.browser, { viewport: { width: 1280, height: 1000 } });
    env.contexts.push(sp.context);
    await sp.page.goto(env.url);
    await loginInUi(sp.page, t.seller.email);
    await connected(sp.page);
    const sd = sp.page.locator(`[data-testid="trade-detail"][data-swap-id="${t.swapId}"]`);
    await until(sd.getByTestId('trade-settled-total'), `You received ${s.sellerReceives} EUR`);

    // the statement: the slot's day in market time up to today
    const day = (at: string) =>
      new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short' }).format(
        new Date(at),
      );
    const panel = page.getByTestId('statement');
    await panel.getByTestId('statement-from').fill(day(slotStart));
    await panel.getByTestId('statement-to').fill(day(new Date().toISOString()));
    await panel.getByTestId('statement-show').click();
    const line = panel.locator(`[data-testid="statement-row"][data-swap-id="${t.swapId}"]`);
    await until(line.getByTestId('statement-amount'), `${s.buyerPays} EUR`);
    await until(panel.getByTestId('statement-total-bought'), '8.000 kWh');
    await until(panel.getByTestId('statement-total-paid'), `${s.buyerPays} EUR`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByTestId('statement-csv').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^renex-statement-.*\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain(t.swapId);
    expect(errors).toEqual([]);
    expect(sp.errors).toEqual([]);
  }, 120_000);
});
