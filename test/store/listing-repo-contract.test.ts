// One table of ListingRepo behaviour, run against the SQL repository and the group's (the listing
// a group commit locked), both on the real database: within the group's rows they answer alike.
import { describe, expect, test } from 'vitest';
import { OutsideGroup } from '../../src/store/commands/group-repos.js';
import {
  contractDatabase,
  IMPLEMENTATIONS,
  type Repos,
  seedWorld,
  stored,
  type World,
} from './repo-contract.js';

const { db, within } = contractDatabase();

describe.each(IMPLEMENTATIONS)('ListingRepo: $name', ({ open }) => {
  test('lock gives the listing as stored', () =>
    within(open, async ({ listings }, w) => {
      expect(await listings.lock(w.listing.id)).toEqual(w.listing);
    }));

  test('reads see the transaction’s earlier update, through both repositories', () =>
    within(open, async ({ listings, swaps }, w) => {
      const after = { ...w.listing, availableWh: 5000n, version: 2 };
      await listings.update(after);
      expect(await listings.lock(w.listing.id)).toEqual(after);
      expect((await swaps.lockWithListing(w.swaps.B.id))?.listing).toEqual(after);
    }));

  test('an update is stored at commit, and not at all on rollback', async () => {
    const committed = await seedWorld(db());
    const repos = await open(db(), committed);
    await repos.listings.lock(committed.listing.id);
    await repos.listings.update({ ...committed.listing, availableWh: 0n, status: 'filled', version: 2 });
    await repos.tx.commit();
    expect((await stored(db(), committed)).listing).toEqual({
      available_wh: '0',
      status: 'filled',
      version: 2,
    });

    const rolledBack = await within(open, async ({ listings }, w) => {
      await listings.update({ ...w.listing, availableWh: 0n, status: 'filled', version: 2 });
    });
    expect((await stored(db(), rolledBack)).listing).toEqual({
      available_wh: '8000',
      status: 'active',
      version: 1,
    });
  });
});

describe("the group's ListingRepo refuses what its group did not lock", () => {
  const group = IMPLEMENTATIONS.find((i) => i.name.startsWith('group'))!;
  test.each([
    ['another listing', (r: Repos, w: World) => r.listings.lock(w.other.id)],
    ['an update of another listing', (r: Repos, w: World) => r.listings.update(w.other)],
    ['an insert', (r: Repos, w: World) => r.listings.insert(w.other)],
    [
      'a proposal',
      (r: Repos, w: World) => r.listings.lockForProposal(w.listing.id, w.owner, w.listing.meterId!),
    ],
    ['the gate sweep', (r: Repos) => r.listings.lockGateClosed(new Date(), 10)],
  ])('%s', async (_what, call) => {
    await within(group.open, async (repos, w) => {
      await expect(call(repos, w)).rejects.toBeInstanceOf(OutsideGroup);
    });
  });
});
