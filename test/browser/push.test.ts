// Issue 21 in a real browser: notifications on this device. The dashboard never asks for the
// notification permission on load; the trader's click does (permission, the service worker /sw.js,
// the push subscription, the hub's record). Headless Chromium has no reachable push service, so
// whether pushManager.subscribe works here is checked, not assumed: either the UI says it could not
// subscribe (and the hub has nothing), or the hub has this browser's subscription. The service
// worker's side is driven through the DevTools protocol: a push carrying the hub's own payload for a
// real swap (pushMessageFor over the trader's real swap.proposed event) shows a notification, and
// its click shows that swap in the open dashboard; `/?swap=<id>` opened afresh shows it too.
import type { BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { type EventEnvelope, HubClient, type Swap } from '../../src/client/index.js';
import { pushMessageFor } from '../../src/notify/web-push.js';
import { PASSWORD } from '../support/client.js';
import { CONTRACT_PUSH_EVENTS } from '../support/push-service.js';
import { listingInput } from '../support/traders.js';
import {
  browserSuite,
  checkChromium,
  connected,
  focused,
  hasChromium,
  metered,
  shot,
} from './browser-support.js';

checkChromium('push notification browser tests');

const LONG = { timeout: 30_000 };
/** the menu may be closed: the state line is there, not visible */
const ATTACHED = { state: 'attached', timeout: 30_000 } as const;

/** Counts (without replacing them) the calls that would ask the trader or subscribe. */
const COUNT_CALLS = () => {
  const g = globalThis as any;
  const calls = { requestPermission: 0, subscribe: 0, register: 0 };
  g.__pushCalls = calls;
  const wrap = (owner: any, name: string, key: keyof typeof calls) => {
    const original = owner?.[name];
    if (typeof original !== 'function') return;
    owner[name] = function (this: unknown, ...args: unknown[]) {
      calls[key]++;
      return original.apply(this, args);
    };
  };
  wrap(g.Notification, 'requestPermission', 'requestPermission');
  wrap(g.PushManager?.prototype, 'subscribe', 'subscribe');
  wrap(g.ServiceWorkerContainer?.prototype, 'register', 'register');
};

const calls = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as any).__pushCalls as { requestPermission: number; subscribe: number; register: number },
  );

/** The dashboard's service worker, once it is active (it claims the page as it activates). */
async function activeWorker(page: Page, context: BrowserContext): Promise<Worker> {
  await page.waitForFunction(
    async () => {
      const reg = await (globalThis as any).navigator.serviceWorker.getRegistration('/');
      return reg?.active?.state === 'activated';
    },
    undefined,
    { polling: 100, ...LONG },
  );
  const isOurs = (w: Worker) => new URL(w.url()).pathname === '/sw.js';
  return (
    context.serviceWorkers().find(isOurs) ??
    (await context.waitForEvent('serviceworker', { predicate: isOurs, ...LONG }))
  );
}

/** The registration id DevTools knows the origin's service worker by. */
async function registrationId(cdp: CDPSession, origin: string): Promise<string> {
  const found = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const reg = registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted);
      if (reg) resolve(reg.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  return found;
}

const notifications = (sw: Worker) =>
  sw.evaluate(async () =>
    (await (globalThis as any).registration.getNotifications()).map((n: any) => ({
      title: String(n.title),
      body: String(n.body),
      tag: String(n.tag),
      url: String(n.data?.url),
    })),
  );

/** A trader signed in through the UI whose page counts the push calls and the subscriptions it posts. */
async function countingTrader(env: ReturnType<typeof browserSuite>, name: string) {
  const pushPosts: string[] = [];
  const trader = await env.uiTrader(name, undefined, async (page) => {
    await page.addInitScript(COUNT_CALLS);
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/push/subscriptions')
        pushPosts.push(r.url());
    });
  });
  return { trader, pushPosts };
}

describe.skipIf(!hasChromium)('notifications on this device', () => {
  const env = browserSuite();

  test('nothing is asked on load; the click asks, installs the worker and subscribes (or says why not)', async () => {
    const { trader, pushPosts } = await countingTrader(env, 'Nora Notify');
    const { page, context } = trader;
    const menu = page.getByTestId('push-settings');
    // on load: the state is known, nothing was asked, nothing registered or posted
    await page.locator('[data-testid="push-state"][data-state="off"]').waitFor(ATTACHED);
    expect(await page.evaluate(() => (globalThis as any).Notification.permission)).toBe('default');
    expect(await calls(page)).toEqual({ requestPermission: 0, subscribe: 0, register: 0 });
    expect(
      await page.evaluate(
        async () => (await (globalThis as any).navigator.serviceWorker.getRegistration('/')) ?? null,
      ),
    ).toBeNull();
    expect(context.serviceWorkers()).toHaveLength(0);
    // a reload (the session restored) asks nothing either
    await page.reload();
    await connected(page);
    await page.locator('[data-testid="push-state"][data-state="off"]').waitFor(ATTACHED);
    expect(await calls(page)).toEqual({ requestPermission: 0, subscribe: 0, register: 0 });
    expect(pushPosts).toEqual([]);

    // the trader opens the menu, chooses, and enables
    await menu.getByTestId('push-menu-button').click();
    const enable = menu.getByTestId('push-enable');
    await enable.waitFor();
    expect(await menu.getByTestId('push-state').textContent()).toBe('Off on this device.');
    for (const g of ['offers', 'answers', 'trades'])
      expect(await menu.getByTestId(`push-group-${g}`).isChecked()).toBe(true);
    await menu.getByTestId('push-group-trades').uncheck();
    await menu.getByTestId('push-while-online').check();
    await context.grantPermissions(['notifications'], { origin: env.url });
    await enable.click();

    // the worker is installed and active, whatever the push service does
    const sw = await activeWorker(page, context);
    expect(new URL(sw.url()).pathname).toBe('/sw.js');
    const scope = await page.evaluate(
      async () => (await (globalThis as any).navigator.serviceWorker.getRegistration('/'))?.scope,
    );
    expect(scope).toBe(`${env.url}/`);
    // served by the hub's static files at the root, as JavaScript, revalidated on every load
    const script = await fetch(`${env.url}/sw.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(script.headers.get('cache-control')).toBe('no-cache');
    expect(await script.text()).toContain("addEventListener('notificationclick'");

    // then either on (the hub has this browser's subscription) or a plain sentence why not
    await page
      .locator('[data-testid="push-state"][data-state="on"], [data-testid="push-error"]:not(:empty)')
      .first()
      .waitFor(LONG);
    const state = await menu.getByTestId('push-state').getAttribute('data-state');
    const api = await HubClient.login(env.url, trader.email, PASSWORD);
    env.clients.push(api);
    const { items } = await api.rest<{
      items: { id: string; endpoint: string; events: string[]; whileOnline: boolean }[];
    }>('GET', '/api/v1/push/subscriptions');
    expect((await calls(page)).requestPermission).toBe(1);
    expect((await calls(page)).subscribe).toBe(1);
    await shot(page, 'push-settings-1440.png');
    if (state === 'on') {
      const endpoint = await page.evaluate(async () => {
        const reg = await (globalThis as any).navigator.serviceWorker.getRegistration('/');
        return (await reg.pushManager.getSubscription())?.endpoint as string;
      });
      expect(items).toHaveLength(1);
      expect(items[0]!.endpoint).toBe(endpoint);
      expect(items[0]!.whileOnline).toBe(true);
      expect(items[0]!.events.sort()).toEqual(
        CONTRACT_PUSH_EVENTS.filter((e) => e.startsWith('swap.')).sort(),
      );
      // turned off: the hub forgets it and the browser unsubscribes
      await menu.getByTestId('push-off').click();
      await page.locator('[data-testid="push-state"][data-state="off"]').waitFor(ATTACHED);
      expect((await api.rest<{ items: unknown[] }>('GET', '/api/v1/push/subscriptions')).items).toEqual([]);
    } else {
      // no push service here: the sentence says so, the state stays off, the hub has nothing
      expect(state).toBe('off');
      expect(await menu.getByTestId('push-error').textContent()).toMatch(
        /^This browser could not subscribe to its push service .+\. Private windows, and browsers without a push service, cannot receive notifications\. They stay off on this device\.$/,
      );
      expect(await enable.isVisible()).toBe(true);
      expect(await menu.getByTestId('push-off').isVisible()).toBe(false);
      expect(items).toEqual([]);
      expect(pushPosts).toEqual([]);
    }
    // on a phone the menu fits the screen
    await page.setViewportSize({ width: 390, height: 844 });
    await menu.getByTestId('push-enable').waitFor();
    await shot(page, 'push-settings-390.png');
    expect(
      await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390);
    const box = await menu.locator('.push-panel').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(trader.errors).toEqual([]);
  }, 120_000);

  test('a browser that refuses the permission: a plain sentence, the state says blocked, nothing subscribed', async () => {
    // headless Chromium answers a permission request it was not told to grant with "denied"
    const { trader, pushPosts } = await countingTrader(env, 'Rita Refuse');
    const { page, context } = trader;
    const menu = page.getByTestId('push-settings');
    await page.locator('[data-testid="push-state"][data-state="off"]').waitFor(ATTACHED);
    await menu.getByTestId('push-menu-button').click();
    await menu.getByTestId('push-enable').click();
    await page.locator('[data-testid="push-state"][data-state="blocked"]').waitFor(LONG);
    expect(await menu.getByTestId('push-error').textContent()).toBe(
      'Notifications were not allowed: your browser blocks them for this site. Allow them in the site settings, then try again.',
    );
    expect(await menu.getByTestId('push-state').textContent()).toMatch(/^Your browser blocks notifications/);
    expect(await page.locator('#push-summary-state').textContent()).toBe('blocked');
    expect(await page.evaluate(() => (globalThis as any).Notification.permission)).toBe('denied');
    expect(await calls(page)).toEqual({ requestPermission: 1, subscribe: 0, register: 0 });
    expect(context.serviceWorkers()).toHaveLength(0);
    expect(pushPosts).toEqual([]);
    await page.reload();
    await connected(page);
    // known on load from then on, and still nothing asked
    await page.locator('[data-testid="push-state"][data-state="blocked"]').waitFor(ATTACHED);
    expect(await calls(page)).toEqual({ requestPermission: 0, subscribe: 0, register: 0 });
    expect(trader.errors).toEqual([]);
  }, 120_000);

  test("the worker shows the hub's push for a real swap; its click opens that swap in the dashboard", async () => {
    const ann = await env.uiTrader('Ann Owner', undefined, undefined, false);
    const { page, context } = ann;
    const annApi = metered(await HubClient.login(env.url, ann.email, PASSWORD));
    env.clients.push(annApi);
    await annApi.connect();
    const listing = await annApi.createListing(listingInput({ volumeKwh: '40', pricePerKwh: '0.1200' }));
    // two offers; the notification is about the second (not the first card waiting for her)
    const carla = await env.apiTrader('Carla Early');
    const first = await carla.client.propose({
      listingId: listing.id,
      volumeKwh: '10',
      pricePerKwh: '0.1100',
    });
    const bruno = await env.apiTrader('Bruno Bidder');
    const swap = await bruno.client.propose({
      listingId: listing.id,
      volumeKwh: '12',
      pricePerKwh: '0.1150',
    });
    const card = page.locator(`[data-testid="swap-card"][data-swap-id="${swap.id}"]`);
    await card.waitFor(LONG);
    await page.locator(`[data-testid="swap-card"][data-swap-id="${first.id}"]`).waitFor(LONG);

    // the hub's own payload for Ann's swap.proposed event
    const events = await annApi.rest<{ items: EventEnvelope[] }>('GET', '/api/v1/events?after=0&limit=1000');
    const event = events.items.find((e) => e.type === 'swap.proposed' && (e.data as Swap).id === swap.id);
    expect(event).toBeDefined();
    const payload = pushMessageFor(event!, annApi.user.id, new Date())!.payload;
    expect(payload.url).toBe(`/?swap=${swap.id}`);

    // the worker, installed through the dashboard's own button (the push service may refuse)
    await context.grantPermissions(['notifications'], { origin: env.url });
    await page.getByTestId('push-menu-button').click();
    await page.getByTestId('push-enable').click();
    const sw = await activeWorker(page, context);
    await page
      .locator('[data-testid="push-state"][data-state="on"], [data-testid="push-error"]:not(:empty)')
      .first()
      .waitFor(LONG);
    await page.getByTestId('push-menu-button').click();

    // the push, delivered by DevTools as the push service would
    const cdp = await context.newCDPSession(page);
    const registration = await registrationId(cdp, env.url);
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: env.url,
      registrationId: registration,
      data: JSON.stringify(payload),
    });
    await expect.poll(() => notifications(sw), LONG).toHaveLength(1);
    const [shown] = await notifications(sw);
    expect(shown).toEqual({
      title: payload.title,
      body: payload.body,
      tag: swap.id,
      url: `/?swap=${swap.id}`,
    });
    expect(payload.title).toBe('New offer from Bruno Bidder');
    expect(payload.body).toBe('Sell 12.000 kWh at 0.1150/kWh. Your turn.');

    // focus is elsewhere; the notification's click shows the swap in this tab, without a reload
    await page.locator('#market-title').evaluate((el: any) => {
      el.tabIndex = -1;
      el.focus();
    });
    let reloads = 0;
    page.on('load', () => reloads++);
    const linked = page.waitForURL((u) => u.searchParams.get('swap') === swap.id, LONG);
    await sw.evaluate(async () => {
      const g = globalThis as any;
      const [n] = await g.registration.getNotifications();
      g.dispatchEvent(new g.NotificationEvent('notificationclick', { notification: n }));
    });
    await linked;
    await page.locator(`[data-testid="swap-card"][data-swap-id="${swap.id}"]:focus`).waitFor(LONG);
    expect(await focused(page)).toMatchObject({ testid: 'swap-card', swapId: swap.id });
    expect(await card.isVisible()).toBe(true);
    await expect.poll(() => notifications(sw), LONG).toHaveLength(0);
    expect(reloads).toBe(0);
    await shot(page, 'push-opened-swap-1440.png');

    // the address a new tab opens (no dashboard tab open): that swap, focused, after the session is restored
    const fresh = await context.newPage();
    await fresh.goto(`${env.url}/?swap=${swap.id}`);
    await connected(fresh);
    await fresh.locator(`[data-testid="swap-card"][data-swap-id="${swap.id}"]:focus`).waitFor(LONG);
    expect(await focused(fresh)).toMatchObject({ testid: 'swap-card', swapId: swap.id });
    await fresh.close();
    await cdp.detach();
    expect(ann.errors).toEqual([]);
  }, 120_000);
});
