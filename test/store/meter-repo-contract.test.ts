// One table of MeterRepo behaviour (the per-slot ledger of the accept), run against the SQL
// repository and the group's (the slot rows a group commit locked), both on the real database.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import type { MeterUse } from '../../src/domain/energy/trading.js';
import { slotKey } from '../../src/domain/energy/trading.js';
import { OutsideGroup } from '../../src/store/commands/group-repos.js';
import { contractDatabase, IMPLEMENTATIONS, meterOf, type World } from './repo-contract.js';

const { db, within } = contractDatabase();

/** the uses of swap A of the world: the owner's meter exports, A's buyer's imports */
const usesOfA = (w: World): MeterUse[] => [
  { meterId: meterOf(w.owner), direction: 'export' },
  { meterId: meterOf(w.swaps.A.buyerId), direction: 'import' },
];

describe.each(IMPLEMENTATIONS)('MeterRepo: $name', ({ open }) => {
  test("lockSlots answers each use's contracted volume (0 when new) and the meters", () =>
    within(open, async ({ meters }, w) => {
      const start = w.listing.deliveryStart;
      const { meters: found, contracted } = await meters.lockSlots(usesOfA(w), [start]);
      expect(found.map((m) => m.id).sort()).toEqual(
        usesOfA(w)
          .map((u) => u.meterId)
          .sort(),
      );
      for (const u of usesOfA(w)) expect(contracted.get(slotKey(u.meterId, u.direction, start))).toBe(0n);
    }));

  test('setSlots stores the totals at commit, and a later read in the transaction sees them', async () => {
    const seeded = await within(open, async () => undefined); // a world to commit on
    const repos = await open(db(), seeded);
    const start = seeded.listing.deliveryStart;
    const [seller, buyer] = usesOfA(seeded) as [MeterUse, MeterUse];
    await repos.meters.lockSlots([seller, buyer], [start]);
    await repos.meters.setSlots(seller, [{ start, wh: 1500n }]);
    await repos.meters.setSlots(buyer, [{ start, wh: 1500n }]);
    const again = await repos.meters.lockSlots([seller], [start]);
    expect(again.contracted.get(slotKey(seller.meterId, 'export', start))).toBe(1500n);
    await repos.tx.commit();
    const rows = await db().sequelize.query<{ meter_id: string; direction: string; wh: string }>(
      `SELECT meter_id, direction, contracted_wh::text AS wh FROM meter_slots WHERE slot_start = $1 AND meter_id = ANY($2::uuid[])
       ORDER BY direction`,
      { bind: [start, [seller.meterId, buyer.meterId]], type: QueryTypes.SELECT },
    );
    expect(rows).toEqual([
      { meter_id: seller.meterId, direction: 'export', wh: '1500' },
      { meter_id: buyer.meterId, direction: 'import', wh: '1500' },
    ]);
  });
});

describe("the group's MeterRepo refuses what its group did not lock", () => {
  const group = IMPLEMENTATIONS.find((i) => i.name.startsWith('group'))!;
  test.each([
    [
      'a meter of a swap outside the group',
      (w: World) => [{ meterId: meterOf(w.swaps.C.buyerId), direction: 'import' as const }],
    ],
    ['another slot', (w: World) => usesOfA(w)],
  ])('%s', async (what, uses) => {
    await within(group.open, async ({ meters }, w) => {
      const start = what === 'another slot' ? w.other.deliveryEnd : w.listing.deliveryStart;
      await expect(meters.lockSlots(uses(w), [start])).rejects.toBeInstanceOf(OutsideGroup);
      await expect(meters.lockShared(meterOf(w.owner))).rejects.toBeInstanceOf(OutsideGroup);
    });
  });
});
