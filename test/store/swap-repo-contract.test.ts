// One table of SwapRepo behaviour, run against the SQL repository and the group's (the rows a
// group commit locked), both on the real database: within the group's rows they answer alike.
import { describe, expect, test } from 'vitest';
import { OutsideGroup } from '../../src/store/commands/group-repos.js';
import {
  contractDatabase,
  IMPLEMENTATIONS,
  type Repos,
  seedWorld,
  sortedIds,
  stored,
  type World,
} from './repo-contract.js';

const { db, within } = contractDatabase();

describe.each(IMPLEMENTATIONS)('SwapRepo: $name', ({ open }) => {
  test('lockWithListing gives the swap and its listing', () =>
    within(open, async ({ swaps }, w) => {
      const found = await swaps.lockWithListing(w.swaps.A.id);
      expect(found?.swap).toEqual(w.swaps.A);
      expect(found?.listing).toEqual(w.listing);
      expect((await swaps.lockWithListing(w.swaps.B.id))?.listing.id).toBe(w.listing.id);
    }));

  test('lock gives a swap as stored', () =>
    within(open, async ({ swaps }, w) => {
      expect(await swaps.lock(w.swaps.C.id)).toEqual(w.swaps.C);
    }));

  test('lockOpenOfListing: open swaps above the volume, but the one excepted, by id', () =>
    within(open, async ({ swaps }, w) => {
      const { C, D } = w.swaps;
      expect((await swaps.lockOpenOfListing(w.listing.id, 3000n)).map((s) => s.id)).toEqual(sortedIds(C, D));
      expect((await swaps.lockOpenOfListing(w.listing.id, 3000n, C.id)).map((s) => s.id)).toEqual([D.id]);
      expect((await swaps.lockOpenOfListing(w.listing.id, 3500n)).map((s) => s.id)).toEqual([D.id]);
    }));

  test('reads see the transaction’s earlier updates', () =>
    within(open, async ({ swaps }, w) => {
      const { A, C, D } = w.swaps;
      await swaps.update({ ...C, status: 'voided', closeReason: 'insufficient_volume', nextActorId: null });
      await swaps.update({ ...A, status: 'accepted', acceptedAt: A.updatedAt, nextActorId: null });
      expect((await swaps.lockOpenOfListing(w.listing.id, 3000n)).map((s) => s.id)).toEqual([D.id]);
      expect((await swaps.lock(C.id))?.status).toBe('voided');
      expect((await swaps.lockWithListing(A.id))?.swap.status).toBe('accepted');
    }));

  test('updates are stored at commit, and not at all on rollback', async () => {
    const committed = await seedWorld(db());
    const repos = await open(db(), committed);
    await repos.swaps.update({
      ...committed.swaps.D,
      status: 'voided',
      closeReason: 'listing_filled',
      nextActorId: null,
    });
    await repos.tx.commit();
    expect((await stored(db(), committed)).swaps).toMatchObject({ D: 'voided', C: 'open' });

    const rolledBack = await within(open, async ({ swaps }, w) => {
      await swaps.update({
        ...w.swaps.D,
        status: 'voided',
        closeReason: 'listing_filled',
        nextActorId: null,
      });
    });
    expect((await stored(db(), rolledBack)).swaps).toMatchObject({ D: 'open' });
  });
});

describe("the group's SwapRepo refuses what its group did not lock (the group then runs its commands one by one)", () => {
  const group = IMPLEMENTATIONS.find((i) => i.name.startsWith('group'))!;
  test.each([
    ['a swap of another listing', (r: Repos, w: World) => r.swaps.lockWithListing(w.swaps.X.id)],
    ['a swap below the floor', (r: Repos, w: World) => r.swaps.lock(w.swaps.E.id)],
    ['open swaps below the floor', (r: Repos, w: World) => r.swaps.lockOpenOfListing(w.listing.id, 500n)],
    ['open swaps of another listing', (r: Repos, w: World) => r.swaps.lockOpenOfListing(w.other.id, 3000n)],
    ['an update of a swap it did not lock', (r: Repos, w: World) => r.swaps.update(w.swaps.E)],
    ['an insert', (r: Repos, w: World) => r.swaps.insert(w.swaps.E, {} as never)],
    ['an offer', (r: Repos) => r.swaps.addOffer({} as never)],
    ['the expiry sweep', (r: Repos) => r.swaps.lockExpired(new Date(), 10)],
  ])('%s', async (_what, call) => {
    await within(group.open, async (repos, w) => {
      await expect(call(repos, w)).rejects.toBeInstanceOf(OutsideGroup);
    });
  });
});
