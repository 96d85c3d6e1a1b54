// A session that ends while a command waits for its answer: the dashboard can no longer send it
// again, so the login form says it may or may not have been done (web/src/app.ts, signedOut).
import { describe, expect, test } from 'vitest';
import { HubClient, type Session } from '../../src/client/index.js';
import { api, PASSWORD } from '../support/client.js';
import { listingInput } from '../support/traders.js';
import { browserSuite, checkChromium, hasChromium, metered, until } from './browser-support.js';
import { routeSocket } from './route-socket.js';

checkChromium('session end browser tests');

describe.skipIf(!hasChromium)('the end of a session', () => {
  const env = browserSuite();

  test('ended with a command unanswered: the login form says it may or may not have been done', async () => {
    // the page's cancels are lost on their way while `losing` (the hub never sees them)
    let losing = false;
    const sam = await env.uiTrader('Sam Pending', { viewport: { width: 1280, height: 900 } }, (page) =>
      routeSocket(page, { lose: (m) => losing && String(m).includes('"listing:cancel"') }),
    );
    const p = sam.page;
    const samApi = metered(await HubClient.login(env.url, sam.email, PASSWORD));
    await samApi.connect();
    env.clients.push(samApi);
    const listing = await samApi.createListing(listingInput({ volumeKwh: '20' }));
    await p.getByTestId('filter-mine').check();
    const row = p.locator(`[data-testid="listing-row"][data-listing-id="${listing.id}"]`);
    losing = true;
    await row.getByTestId('cancel-listing-button').click();
    // waiting for its answer (the banner's count, shown once offline)
    await expect.poll(() => p.locator('#offline-pending').textContent()).toContain('1 command');

    // the login is ended from elsewhere: the hub closes the page's socket, its refresh is refused
    const refreshToken = await p.evaluate(() => localStorage.getItem('renex.refreshToken'));
    const out = await api(env.url, 'POST', '/api/v1/auth/logout', {
      body: { refreshToken },
      token: (
        await api<Session>(env.url, 'POST', '/api/v1/auth/login', {
          body: { email: sam.email, password: PASSWORD },
        })
      ).body.accessToken,
    });
    expect(out.status).toBe(204);
    await until(p.getByTestId('auth-notice'), '1 command was not answered before it ended');
    await until(p.getByTestId('auth-notice'), 'may or may not have been done');
    // and it was not: the listing is active
    const [still] = (
      await samApi.rest<{ items: { id: string; status: string }[] }>('GET', '/api/v1/listings?owner=me')
    ).items;
    expect(still).toMatchObject({ id: listing.id, status: 'active' });
  }, 90_000);
});
