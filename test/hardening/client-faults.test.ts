// The bundled client (src/client) where the network or the application fails it: a listener that
// throws, a first connection whose transport fails and whose handshake is then refused, a refresh
// whose answer is lost on its way, and a retried command refused before the hub could look it up.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EventEnvelope, HubClient, type HubClientError } from '../../src/client/index.js';
import { api } from '../support/client.js';
import { type FrontProxy, frontProxy } from '../support/front-proxy.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = await postgresAvailable('client faults');

describe.skipIf(!ready)('the client when things fail', () => {
  let node: TestHub;
  let front: FrontProxy;
  beforeAll(async () => {
    // one command a second per trader, none in reserve
    node = await startHub({ env: { COMMAND_RATE_PER_SECOND: '1', COMMAND_RATE_BURST: '1' } });
    front = await frontProxy(node.url);
  });
  afterAll(async () => {
    await front?.close();
    await node?.stop();
  });

  test('a listener that throws neither keeps the others from an event nor stops the stream', async () => {
    const thrown: unknown[] = [];
    const t = await trader(node.url, 'throwing', false, {}, { onListenerError: (err) => thrown.push(err) });
    t.onEvent(() => {
      throw new Error('a listener of the app failed');
    });
    const got: EventEnvelope[] = [];
    t.onEvent((e) => got.push(e));
    await t.connect();
    await t.createListing(listingInput());
    await expect.poll(() => got.map((e) => e.type)).toEqual(['listing.created']);
    await new Promise((r) => setTimeout(r, 1100)); // the command budget
    await t.createListing(listingInput());
    await expect.poll(() => got.map((e) => e.type)).toEqual(['listing.created', 'listing.created']);
    expect(thrown).toHaveLength(2);
    expect(t.lastEventId).toBe(got[1]!.id);
    t.close();
  });

  test('a first connection: a transport failure, then a refused handshake, rejects connect()', async () => {
    const t = await trader(node.url, 'refused-later', false);
    await api(node.url, 'POST', '/api/v1/auth/logout', {
      token: t.session.accessToken,
      body: { refreshToken: t.session.refreshToken },
    });
    const c = new HubClient(front.url, t.session);
    let drops = 1;
    front.drop = () => drops-- > 0;
    try {
      await expect(c.connect()).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
        details: { reason: 'revoked' },
      });
    } finally {
      front.drop = () => false;
      c.close();
    }
  });

  test('a refresh whose answer is lost is asked again with the same token: the login lives on', async () => {
    const t = await trader(node.url, 'lost-refresh', false);
    const c = new HubClient(front.url, t.session);
    let lose = 1;
    front.lose = (req) => req.url === '/api/v1/auth/refresh' && lose-- > 0;
    try {
      await c.refresh();
    } finally {
      front.lose = () => false;
    }
    expect(c.session.refreshToken).not.toBe(t.session.refreshToken);
    // the client holds the live token: the lost answer did not leave it a spent one
    const again = await api(node.url, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: c.session.refreshToken },
    });
    expect(again.status).toBe(200);
  });

  test('a command unanswered in time, then refused RATE_LIMITED on its retry, is "no answer", and its requestId finds it', async () => {
    const seller = await trader(node.url, 'unsure', true, {}, { ackTimeoutMs: 300, attempts: 2 });
    const log = recorder(seller);
    const holder = new pg.Client({ connectionString: node.database.url });
    await holder.connect();
    let err: HubClientError;
    let listingId = '';
    try {
      await holder.query('BEGIN');
      // the budget (one a second, one more in reserve): the listing takes one, the cancel the other
      const listing = await seller.createListing(listingInput());
      // the cancel waits for the listing's lock past its ack timeout; its retry finds the budget spent
      await holder.query('SELECT id FROM listings WHERE id = $1 FOR UPDATE', [listing.id]);
      err = (await seller.cancelListing(listing.id).catch((e) => e)) as HubClientError;
      await holder.query('COMMIT');
      listingId = listing.id;
    } finally {
      await holder.end();
    }
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details).toMatchObject({ reason: 'no_answer' });
    // the first try did commit: sent again with its requestId, its answer; cancelled once
    await new Promise((r) => setTimeout(r, 1100));
    const again = await seller.command(
      'listing:cancel',
      { listingId },
      { requestId: err.details!.requestId as string },
    );
    expect(again).toMatchObject({ id: listingId, status: 'cancelled' });
    await log.next((e) => e.type === 'listing.closed');
    seller.close();
  });
});
