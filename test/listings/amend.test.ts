// listing:amend (PROTOCOL.md, "v1.1 additions"): the owner changes an active listing's price or
// volume; the volume never goes below what was accepted, available moves with it, swaps that no
// longer fit are voided, and concurrent accepts from two nodes never oversell what is left.
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type HubClientError } from '../../src/client/index.js';
import { connectSocket, emitAck, PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { redisAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub();
});
afterAll(() => node?.stop());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: HubClientError) => e.code,
  );

async function row(n: TestHub, id: string) {
  const [r] = await n.hub.db!.sequelize.query<Record<string, string>>(
    `SELECT volume_wh::text AS volume, available_wh::text AS available, price_e4::text AS price, status, version::text AS version
     FROM listings WHERE id = $1`,
    { bind: [id], type: QueryTypes.SELECT },
  );
  return r!;
}

describe('listing:amend', () => {
  test('a new price: the listing moves on, open swaps keep their own terms, the market hears of it', async () => {
    const owner = await trader(node.url, 'owner');
    const buyer = await trader(node.url, 'buyer');
    const watcher = await trader(node.url, 'watcher');
    await watcher.subscribeFeed({});
    const seen = recorder(watcher);
    const listing = await owner.createListing(listingInput({ volumeKwh: '10', pricePerKwh: '0.1' }));
    const swap = await buyer.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.09' });

    const amended = await owner.amendListing(listing.id, { pricePerKwh: '0.1150' });
    expect(amended).toMatchObject({ pricePerKwh: '0.1150', volumeKwh: '10.000', availableKwh: '10.000' });
    expect(amended.version).toBe(listing.version + 1);
    const updated = await seen.next(
      (e) => e.type === 'listing.updated' && (e.data as { id: string }).id === listing.id,
    );
    expect(updated.data).toMatchObject({ pricePerKwh: '0.1150', version: listing.version + 1 });
    // the open swap is untouched: its terms are its own
    const accepted = await owner.accept(swap.id, 1);
    expect(accepted).toMatchObject({ status: 'accepted', pricePerKwh: '0.0900' });
    for (const c of [owner, buyer, watcher]) c.close();
  });

  test('a new volume moves available by as much, never below what is accepted; misfits are voided', async () => {
    const owner = await trader(node.url, 'owner');
    const [b1, b2, b3] = await Promise.all(['b1', 'b2', 'b3'].map((n) => trader(node.url, n)));
    const listing = await owner.createListing(listingInput({ volumeKwh: '10' }));
    const first = await b1!.propose({ listingId: listing.id, volumeKwh: '4', pricePerKwh: '0.1' });
    await owner.accept(first.id, 1); // 4 accepted, 6 available
    const small = await b2!.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    const large = await b3!.propose({ listingId: listing.id, volumeKwh: '3', pricePerKwh: '0.1' });
    const b3Log = recorder(b3!);

    const below = owner.amendListing(listing.id, { volumeKwh: '3.999' });
    await expect(below).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: {
        issues: [{ path: 'volumeKwh', message: 'must be at least the 4.000 kWh already accepted' }],
      },
    });
    expect(await row(node, listing.id)).toMatchObject({ volume: '10000', available: '6000' });

    // 10 -> 6: available 6 -> 2; the 3 kWh swap no longer fits, the 1 kWh one does
    const amended = await owner.amendListing(listing.id, { volumeKwh: '6' });
    expect(amended).toMatchObject({ volumeKwh: '6.000', availableKwh: '2.000', status: 'active' });
    const voided = await b3Log.next('swap.voided');
    expect(voided.data).toMatchObject({ id: large.id, status: 'voided', reason: 'listing_amended' });
    expect((await owner.accept(small.id, 1)).status).toBe('accepted');

    // up again: available grows by the same amount
    expect(await owner.amendListing(listing.id, { volumeKwh: '8' })).toMatchObject({ availableKwh: '3.000' });
    // down to exactly what was accepted: filled
    expect(await owner.amendListing(listing.id, { volumeKwh: '5' })).toMatchObject({
      availableKwh: '0.000',
      status: 'filled',
    });
    for (const c of [owner, b1!, b2!, b3!]) c.close();
  });

  test('refusals change nothing', async () => {
    const owner = await trader(node.url, 'owner');
    const other = await trader(node.url, 'other');
    const listing = await owner.createListing(listingInput({ volumeKwh: '10', pricePerKwh: '0.1' }));
    const before = await row(node, listing.id);
    expect(await codeOf(other.amendListing(listing.id, { pricePerKwh: '0.2' }))).toBe('FORBIDDEN');
    expect(await codeOf(owner.amendListing(listing.id, {}))).toBe('VALIDATION_FAILED');
    expect(await codeOf(owner.amendListing(listing.id, { pricePerKwh: '0.1000', volumeKwh: '10' }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await codeOf(owner.amendListing(listing.id, { volumeKwh: '0' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(owner.amendListing(listing.id, { pricePerKwh: '-1' }))).toBe('VALIDATION_FAILED');
    expect(
      await codeOf(owner.amendListing('7f0d1c8e-0000-4000-8000-000000000000', { pricePerKwh: '0.2' })),
    ).toBe('NOT_FOUND');
    expect(await row(node, listing.id)).toEqual(before);
    await owner.cancelListing(listing.id);
    expect(await codeOf(owner.amendListing(listing.id, { pricePerKwh: '0.2' }))).toBe('INVALID_STATE');
    for (const c of [owner, other]) c.close();
  });

  test('an unknown command is answered NOT_FOUND, not left to time out', async () => {
    const t = await trader(node.url, 'curious', false);
    const socket = await connectSocket(node.url, { token: t.session.accessToken });
    const answer = await emitAck(socket, 'listing:teleport', { requestId: crypto.randomUUID() });
    expect(answer).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such command: listing:teleport' },
    });
    // and a known command on the same socket still works
    expect(await emitAck(socket, 'feed:subscribe', {})).toMatchObject({ ok: true });
    socket.close();
  });

  test('unknown commands spend from the feed budget: a flood of them is RATE_LIMITED', async () => {
    const tight = await startHub({ env: { FEED_RATE_PER_SECOND: '1', FEED_RATE_BURST: '3' } });
    try {
      const t = await trader(tight.url, 'flooder', false);
      const socket = await connectSocket(tight.url, { token: t.session.accessToken });
      const codes: string[] = [];
      for (let i = 0; i < 6; i++) codes.push((await emitAck(socket, 'nope', {})).error.code);
      expect(codes.slice(0, 3)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
      expect(codes.slice(3)).toContain('RATE_LIMITED');
      socket.close();
    } finally {
      await tight.stop();
    }
  });
});

describe('amend racing accepts on two nodes', async () => {
  const ready = await redisAvailable('amend race');
  test.skipIf(!ready)(
    'the accepted volume never exceeds the listing’s volume, whatever the order',
    async () => {
      const a = await startHub({ redis: true });
      const b = await startHub({ db: a.database, redis: true });
      const clients: HubClient[] = [];
      try {
        const owner = await trader(a.url, 'owner');
        clients.push(owner);
        // the same owner, logged in on node B too
        const sameOwner = await HubClient.login(b.url, owner.user.email, PASSWORD);
        await sameOwner.connect();
        clients.push(sameOwner);
        const listing = await owner.createListing(listingInput({ volumeKwh: '30' }));
        const buyers = await Promise.all(
          Array.from({ length: 12 }, (_, i) => trader(i % 2 ? a.url : b.url, `b${i}`)),
        );
        clients.push(...buyers);
        const swaps = await Promise.all(
          buyers.map((x) => x.propose({ listingId: listing.id, volumeKwh: '3', pricePerKwh: '0.1' })),
        );
        // accepts from node A and node B, amends of the volume (down and up) from node B, all at once
        const accepts = swaps.map((s, i) => codeOf((i % 2 ? owner : sameOwner).accept(s.id, 1)));
        const amends = ['20', '14', '33', '9', '24', '6', '30'].map((v) =>
          codeOf(sameOwner.amendListing(listing.id, { volumeKwh: v })),
        );
        const acceptCodes = await Promise.all(accepts);
        const amendCodes = await Promise.all(amends);
        for (const c of acceptCodes) expect(['ok', 'INVALID_STATE', 'INSUFFICIENT_VOLUME']).toContain(c);
        for (const c of amendCodes) expect(['ok', 'VALIDATION_FAILED', 'INVALID_STATE']).toContain(c);

        const [state] = await a.hub.db!.sequelize.query<{
          volume: string;
          available: string;
          accepted: string;
        }>(
          `SELECT l.volume_wh::text AS volume, l.available_wh::text AS available,
           (SELECT COALESCE(sum(volume_wh), 0)::text FROM swaps WHERE listing_id = l.id AND status = 'accepted') AS accepted
         FROM listings l WHERE l.id = $1`,
          { bind: [listing.id], type: QueryTypes.SELECT },
        );
        expect(BigInt(state!.available)).toBeGreaterThanOrEqual(0n);
        expect(BigInt(state!.volume) - BigInt(state!.available)).toBe(BigInt(state!.accepted));
        expect(BigInt(state!.accepted)).toBe(BigInt(acceptCodes.filter((c) => c === 'ok').length * 3000));
      } finally {
        for (const c of clients) c.close();
        await b.stop();
        await a.stop();
      }
    },
    60_000,
  );
});
