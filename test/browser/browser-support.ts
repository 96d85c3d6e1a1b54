// What the dashboard's browser tests share: an up-to-date build of the dashboard (built once even
// when two test files start together), Debian's Chromium through playwright-core, a hub and a
// browser per file (browserSuite), traders who register through the UI or the API, and waits that
// are auto-waiting locators, never sleeps.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll } from 'vitest';
import { type ClientOptions, HubClient } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { requireServices } from '../support/services.js';
import { BIG_METER, listingInput, registerMeter } from '../support/traders.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test/artifacts/screenshots');

export const hasChromium = existsSync(CHROMIUM);

/** Skips (or, with REQUIRE_SERVICES=1, fails) a file when Chromium is not installed. */
export function checkChromium(what: string): void {
  if (hasChromium) return;
  const line = `${what}: ${CHROMIUM} is missing (apt-get install chromium)`;
  if (requireServices) throw new Error(`${line} and REQUIRE_SERVICES=1`);
  console.warn(`skipped: ${line}`);
}

/** Newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const LOCK = path.join(ROOT, 'dist/.web-build.lock');

/** Waits for the lock directory (mkdir is atomic); a lock older than 5 minutes is stale. */
async function lock(): Promise<void> {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 300_000) rmdirSync(LOCK);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Builds dist/web when it is missing or older than web/ (or the src/ it bundles), under a lock:
 * two test files starting together must not build into the same directory at once.
 */
export async function ensureBuilt(): Promise<void> {
  const index = path.join(ROOT, 'dist/web/index.html');
  const fresh = () => {
    const sources = Math.max(
      newest(path.join(ROOT, 'web')),
      newest(path.join(ROOT, 'src/client')),
      newest(path.join(ROOT, 'src/domain/auth')), // the password estimator's chunk
    );
    return existsSync(index) && statSync(index).mtimeMs >= sources;
  };
  if (fresh()) return;
  await lock();
  try {
    if (fresh()) return;
    await new Promise<void>((resolve, reject) => {
      const p = spawn('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))));
    });
  } finally {
    rmdirSync(LOCK);
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Waits (auto-waiting locator, no sleeps) until `loc` has a visible match containing `text`. */
export const until = (loc: Locator, text: string | RegExp) => loc.filter({ hasText: text }).first().waitFor();

export const connected = (page: Page) =>
  page.locator('[data-testid="connection-state"][data-state="connected"]').waitFor();

export interface UiTrader {
  context: BrowserContext;
  page: Page;
  email: string;
  name: string;
  errors: string[];
}

/** A new context and page; `setup` runs before the first navigation (routes, init scripts). */
export async function newPage(
  browser: Browser,
  options: BrowserContextOptions,
  setup?: (page: Page) => Promise<void>,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await setup?.(page);
  return { context, page, errors };
}

/**
 * A client whose listings name a meter of its own in the listing's zone (registered once per zone,
 * with the largest capacities, so that limits are never in the way), and whose offers name one
 * too (DE-North's, unless the input names another).
 */
type ListingArgs = Parameters<HubClient['createListing']>[0];
type ProposeArgs = Parameters<HubClient['propose']>[0];
type WithMeter<T> = Omit<T, 'meterId'> & { meterId?: string };

/** A client whose createListing and propose may leave the meter out (`metered`). */
export type MeteredClient<T extends HubClient = HubClient> = T & {
  createListing(input: WithMeter<ListingArgs>): ReturnType<HubClient['createListing']>;
  propose(input: WithMeter<ProposeArgs>): ReturnType<HubClient['propose']>;
};

export function metered<T extends HubClient>(client: T): MeteredClient<T> {
  const byZone = new Map<string, Promise<string>>();
  const meterIn = (zone: string) => {
    let id = byZone.get(zone.toLowerCase());
    if (!id) {
      id = registerMeter(client, { ...BIG_METER, zone }).then((m) => m.id);
      byZone.set(zone.toLowerCase(), id);
    }
    return id;
  };
  const create = client.createListing.bind(client);
  const propose = client.propose.bind(client);
  const c = client as MeteredClient<T>;
  c.createListing = async (input) =>
    create({ ...input, meterId: input.meterId ?? (await meterIn(input.zone ?? 'DE-North')) } as ListingArgs);
  c.propose = async (input) =>
    propose({ ...input, meterId: input.meterId ?? (await meterIn('DE-North')) } as ProposeArgs);
  return c;
}

/** Adds a meter through the dashboard's meters panel (DE-North, the largest capacities). */
export async function addMeterInUi(page: Page, zone = 'DE-North'): Promise<void> {
  const panel = page.getByTestId('meters');
  const box = panel.getByTestId('add-meter');
  // once the meters have loaded: the panel opens the box itself for a trader without one, and a
  // click on its summary just before that would close it again
  await page
    .locator('#meters-count')
    .filter({ hasText: /active/ })
    .waitFor();
  if ((await box.getAttribute('open')) === null) await box.locator('summary').click();
  const form = panel.getByTestId('meter-form');
  const externalId = `UI-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
  await form.getByTestId('meter-external-id').fill(externalId);
  await form.getByTestId('meter-zone').selectOption(zone);
  await form.getByTestId('meter-export').fill(BIG_METER.exportCapacityKw);
  await form.getByTestId('meter-import').fill(BIG_METER.importCapacityKw);
  await form.getByTestId('meter-add').click();
  await panel.getByTestId('meter-row').filter({ hasText: externalId }).waitFor();
  // its toast is not what the test is about (it leaves by itself after 4 s, maybe before the click)
  await page
    .getByTestId('toast')
    .filter({ hasText: 'Meter added' })
    .getByRole('button', { name: 'Dismiss' })
    .click({ timeout: 2_000 })
    .catch(() => undefined);
}

/**
 * Registers a trader through the dashboard's form; resolves once the dashboard is live, with a
 * meter added through its meters panel unless `meter` is false.
 */
export async function registerInUi(
  browser: Browser,
  url: string,
  name: string,
  options: BrowserContextOptions = { viewport: { width: 1440, height: 1000 } },
  setup?: (page: Page) => Promise<void>,
  meter = true,
): Promise<UiTrader> {
  const { context, page, errors } = await newPage(browser, options, setup);
  await page.goto(url);
  const email = uniqueEmail(name.split(' ')[0]!.toLowerCase());
  await page.getByTestId('show-register').click();
  const form = page.getByTestId('register-form');
  await form.getByLabel('Display name').fill(name);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await until(page.getByTestId('user-name'), name);
  await connected(page);
  if (meter) await addMeterInUi(page);
  return { context, page, email, name, errors };
}

/** Logs in an existing trader through the login form. */
export async function loginInUi(page: Page, email: string): Promise<void> {
  const form = page.getByTestId('login-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Log in' }).click();
}

/** The tag, test id and swap id of the focused element ("BODY" when focus was dropped). */
export const focused = (page: Page) =>
  page.evaluate(() => {
    const el = (globalThis as any).document.activeElement as any;
    return {
      tag: String(el?.tagName ?? ''),
      testid: String(el?.dataset?.testid ?? ''),
      swapId: String(el?.dataset?.swapId ?? ''),
      id: String(el?.id ?? ''),
    };
  });

export const shot = async (page: Page, name: string) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: false });
};

/** A file's hub and browser, and what its tests opened (closed after the file). */
export interface BrowserSuite {
  readonly url: string;
  /** the hub itself (its database: `hub.hub.db`) */
  readonly hub: TestHub;
  readonly browser: Browser;
  readonly contexts: BrowserContext[];
  readonly clients: HubClient[];
  /**
   * A trader registered through the API (with a known email), connected through the client; its
   * listings and offers name a meter of its own (`metered`).
   */
  apiTrader(name: string, options?: ClientOptions): Promise<{ client: MeteredClient; email: string }>;
  /**
   * A trader registered through the dashboard's form, live, with a meter in DE-North added through
   * its meters panel (none when `meter` is false); the context is closed after the file.
   */
  uiTrader(
    name: string,
    options?: BrowserContextOptions,
    setup?: (page: Page) => Promise<void>,
    meter?: boolean,
  ): Promise<UiTrader>;
}

/**
 * Call inside a `describe`: builds the dashboard, starts a hub (with `env` on top of the test
 * settings, e.g. OPERATOR_EMAILS) and Chromium before its tests, and closes the clients, contexts,
 * browser and hub after them.
 */
export function browserSuite(options: { env?: Record<string, string> } = {}): BrowserSuite {
  let node: TestHub | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const clients: HubClient[] = [];
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('browserSuite: used before its beforeAll ran');
    return v;
  };

  beforeAll(async () => {
    await ensureBuilt();
    node = await startHub({ env: options.env });
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await node?.stop();
  });

  return {
    get url() {
      return ready(node).url;
    },
    get hub() {
      return ready(node);
    },
    get browser() {
      return ready(browser);
    },
    contexts,
    clients,
    async apiTrader(name, options) {
      const email = uniqueEmail(name.split(' ')[0]!.toLowerCase());
      const body = { email, password: PASSWORD, displayName: name };
      const client = metered(await HubClient.register(ready(node).url, body, options));
      await client.connect();
      clients.push(client);
      return { client, email };
    },
    async uiTrader(name, options, setup, meter) {
      const t = await registerInUi(ready(browser), ready(node).url, name, options, setup, meter);
      contexts.push(t.context);
      return t;
    },
  };
}

// --- settlement --------------------------------------------------------------------------------

const HOUR = 3_600_000;

/**
 * The hours that move a one-hour delivery starting at `start` to have just ended (within the last
 * hour): its slot can be read and settled, and is not yet overdue (the zone's settlement delay).
 */
export const hoursToPast = (start: string): number =>
  Math.ceil((Date.parse(start) + HOUR - Date.now() + 60_000) / HOUR);

/**
 * Moves the listings of `swapIds` and their trades' slots `hours` into the past in the hub's
 * database, as the clock would (a listing must be posted before its gate, so a test cannot trade
 * a slot that has ended). Returns nothing; the slots start `hours` earlier.
 */
export async function moveIntoPast(node: TestHub, swapIds: string[], hours: number): Promise<void> {
  const q = (sql: string) =>
    node.hub.db!.sequelize.query(sql, { bind: [swapIds, hours], type: QueryTypes.UPDATE });
  await q(`UPDATE listings SET delivery_start = delivery_start - $2 * interval '1 hour',
             delivery_end = delivery_end - $2 * interval '1 hour', gate_closes_at = gate_closes_at - $2 * interval '1 hour'
           WHERE id IN (SELECT listing_id FROM swaps WHERE id = ANY($1::uuid[]))`);
  await q(
    `UPDATE trade_slots SET slot_start = slot_start - $2 * interval '1 hour' WHERE swap_id = ANY($1::uuid[])`,
  );
}

/** The hub's operator (registered on first use, its email in the suite's OPERATOR_EMAILS). */
export async function operatorClient(env: BrowserSuite, email: string): Promise<HubClient> {
  const client = await HubClient.register(env.url, {
    email,
    password: PASSWORD,
    displayName: 'Grid operator',
  }).catch(() => HubClient.login(env.url, email, PASSWORD));
  env.clients.push(client);
  return client;
}

/**
 * A trade of `volumeKwh` at 0.1000 between two traders registered through the API, each with a
 * meter of its own in DE-North (their external ids for readings), delivering in a day.
 */
export async function tradeBetween(
  env: BrowserSuite,
  volumeKwh = '10',
  names = ['Selma Seller', 'Bruno Buyer'],
) {
  const seller = await env.apiTrader(names[0]!);
  const buyer = await env.apiTrader(names[1]!);
  const sellerMeter = await registerMeter(seller.client, BIG_METER);
  const buyerMeter = await registerMeter(buyer.client, BIG_METER);
  const listing = await seller.client.createListing({
    ...listingInput({ volumeKwh, pricePerKwh: '0.1000' }),
    meterId: sellerMeter.id,
  });
  const swap = await buyer.client.propose({
    listingId: listing.id,
    volumeKwh,
    pricePerKwh: '0.1000',
    meterId: buyerMeter.id,
  });
  await seller.client.accept(swap.id, 1);
  return { seller, buyer, sellerMeter, buyerMeter, listing, swapId: swap.id };
}
