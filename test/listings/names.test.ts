// Display names travel with the ids a trader sees (PROTOCOL.md, "v1.1 additions"): the listing's
// owner, the swap's two parties, on acks, events, REST reads and the trades CSV.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { TokenService } from '../../src/domain/auth/tokens.js';
import { api, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, TEST_JWT_SECRET, type TestHub } from '../support/hub.js';
import { listingInput, recorder, type TestTrader, withMeter } from '../support/traders.js';

const TOKEN_SETTINGS = {
  issuer: 'renex-hub',
  audience: 'renex-clients',
  accessTtlSeconds: 900,
  refreshTtlSeconds: 3600,
};

let node: TestHub;
let alice: TestTrader;
let bob: TestTrader;
beforeAll(async () => {
  node = await startHub();
  alice = await named('alice', 'Alice (solar co-op)');
  bob = await named('bob', 'Bob Wind');
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await node?.stop();
});

/** A connected trader, with a meter, whose display name is not a valid email's local part. */
async function named(handle: string, displayName: string): Promise<TestTrader> {
  const client = await HubClient.register(node.url, {
    email: uniqueEmail(handle),
    password: PASSWORD,
    displayName,
  });
  const t = await withMeter(client);
  await client.connect();
  return t;
}

const get = (c: HubClient, path: string) =>
  api(node.url, 'GET', `/api/v1${path}`, { token: c.session.accessToken });

describe('names with the ids', () => {
  test('a listing, a swap and a trade name their traders everywhere a trader sees them', async () => {
    const aliceLog = recorder(alice);
    const listing = await alice.createListing(listingInput({ volumeKwh: '10' }));
    expect(listing.ownerName).toBe('Alice (solar co-op)');
    expect((await get(bob, `/listings/${listing.id}`)).body.ownerName).toBe('Alice (solar co-op)');
    const page = await get(bob, '/listings');
    expect(page.body.items.find((l: { id: string }) => l.id === listing.id)).toMatchObject({
      ownerName: 'Alice (solar co-op)',
    });

    const swap = await bob.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1' });
    expect(swap).toMatchObject({ initiatorName: 'Bob Wind', recipientName: 'Alice (solar co-op)' });
    const proposed = await aliceLog.next('swap.proposed');
    expect(proposed.data).toMatchObject({ initiatorName: 'Bob Wind', recipientName: 'Alice (solar co-op)' });
    expect((await get(alice, `/swaps/${swap.id}`)).body).toMatchObject({
      initiatorName: 'Bob Wind',
      recipientName: 'Alice (solar co-op)',
    });

    await alice.accept(swap.id, 1);
    expect((await get(alice, '/trades')).body.items[0]).toMatchObject({
      side: 'sell',
      counterpartyName: 'Bob Wind',
    });
    expect((await get(bob, '/trades')).body.items[0]).toMatchObject({
      side: 'buy',
      counterpartyName: 'Alice (solar co-op)',
    });
  });

  test('a token signed before tokens carried the name still posts under the owner’s name', async () => {
    // the login's id (sid) of a real session, signed again without the `name` claim
    const sid = JSON.parse(Buffer.from(alice.session.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const tokens = new TokenService({ ...TOKEN_SETTINGS, secret: TEST_JWT_SECRET });
    const old = tokens.signAccess(alice.user.id, sid).token;
    expect(JSON.parse(Buffer.from(old.split('.')[1]!, 'base64url').toString())).not.toHaveProperty('name');
    const res = await api(node.url, 'POST', '/api/v1/listings', {
      token: old,
      body: listingInput({ volumeKwh: '1', meterId: alice.meterId }),
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(res.status).toBe(201);
    expect(res.body.ownerName).toBe('Alice (solar co-op)');
  });
});
