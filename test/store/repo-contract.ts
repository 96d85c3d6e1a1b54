// The repositories of a unit of work, SQL and group, built over one database so that one table of
// behaviour runs against both (test/store/*-repo-contract.test.ts). The world: a listing of 8 kWh
// with open swaps A 3, B 2 (the group's), C 3.5, D 4 (above the group's floor), E 1 (below it), a
// rejected R 5; another listing with an open swap X.
import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll } from 'vitest';
import { defaultMarketProfile } from '../../src/domain/energy/market-config.js';
import type {
  Listing,
  ListingRepo,
  MarketRules,
  MeterRepo,
  Swap,
  SwapRepo,
  TradeRepo,
} from '../../src/domain/unit-of-work.js';
import { CommandTx } from '../../src/store/commands/command-tx.js';
import {
  GroupListingRepo,
  GroupMeterRepo,
  GroupSwapRepo,
  LockedListing,
} from '../../src/store/commands/group-repos.js';
import { listingRepo } from '../../src/store/commands/listing-repo.js';
import { meterRepo } from '../../src/store/commands/meter-repo.js';
import { swapRepo } from '../../src/store/commands/swap-repo.js';
import { tradeRepo } from '../../src/store/commands/trade-repo.js';
import type { Database } from '../../src/store/db/database.js';
import { startHub, type TestHub } from '../support/hub.js';

export const RULES: MarketRules = { market: defaultMarketProfile(), offerTtlMs: 600_000, currency: 'EUR' };

export interface World {
  owner: string;
  listing: Listing;
  other: Listing;
  swaps: Record<'A' | 'B' | 'C' | 'D' | 'E' | 'R' | 'X', Swap>;
  /** the swaps a group on `listing` is formed of */
  group: string[];
}

/** The repositories of one open transaction; `tx` commits or rolls it back. */
export interface Repos {
  tx: CommandTx;
  listings: ListingRepo;
  swaps: SwapRepo;
  meters: MeterRepo;
  trades: TradeRepo;
}

export interface Implementation {
  name: string;
  open(db: Database, world: World): Promise<Repos>;
}

export const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'SQL (listingRepo, swapRepo)',
    async open(db) {
      const tx = new CommandTx(db.sql, RULES);
      const { statements } = tx;
      return {
        tx,
        listings: listingRepo(statements),
        swaps: swapRepo(statements),
        meters: meterRepo(statements),
        trades: tradeRepo(statements),
      };
    },
  },
  {
    name: 'group (GroupListingRepo, GroupSwapRepo)',
    async open(db, world) {
      const tx = new CommandTx(db.sql, RULES);
      const rows = await LockedListing.lock(tx.statements, world.listing.id, world.group);
      if (!rows) throw new Error('the group locked nothing');
      return {
        tx,
        listings: new GroupListingRepo(rows, tx.statements),
        swaps: new GroupSwapRepo(rows, tx.statements),
        meters: new GroupMeterRepo(rows, tx.statements),
        trades: tradeRepo(tx.statements),
      };
    },
  },
];

const DAY = 86_400_000;

function listingOf(ownerId: string, volumeWh: bigint, now: Date): Listing {
  return {
    id: randomUUID(),
    ownerId,
    ownerName: 'contract',
    side: 'supply',
    energyType: 'solar',
    volumeWh,
    availableWh: volumeWh,
    priceE4: 1000n,
    currency: 'EUR',
    deliveryStart: new Date(now.getTime() + DAY),
    deliveryEnd: new Date(now.getTime() + DAY + 3_600_000),
    zone: 'DE-North',
    description: '',
    status: 'active',
    version: 1,
    createdAt: now,
    updatedAt: now,
    meterId: meterOf(ownerId),
    slotMinutes: 60,
    allOrNone: false,
    gateClosesAt: new Date(now.getTime() + DAY - 3_600_000),
  };
}

/** each user's meter has the id of its owner with its first digit flipped (the ids are random v4 uuids) */
export const meterOf = (userId: string) => `${userId[0] === 'f' ? '0' : 'f'}${userId.slice(1)}`;

function swapOf(
  listing: Listing,
  buyerId: string,
  volumeWh: bigint,
  now: Date,
  status: Swap['status'] = 'open',
): Swap {
  return {
    id: randomUUID(),
    listingId: listing.id,
    initiatorId: buyerId,
    initiatorName: 'contract',
    recipientId: listing.ownerId,
    recipientName: 'contract',
    buyerId,
    sellerId: listing.ownerId,
    status,
    round: 1,
    nextActorId: status === 'open' ? listing.ownerId : null,
    volumeWh,
    priceE4: 1000n,
    expiresAt: new Date(now.getTime() + 600_000),
    acceptedAt: null,
    closeReason: null,
    createdAt: now,
    updatedAt: now,
    sellerMeterId: meterOf(listing.ownerId),
    buyerMeterId: meterOf(buyerId),
    sellerZone: 'DE-North',
    buyerZone: 'DE-North',
    fees: null,
    feeSchedule: null,
  };
}

/** A fresh world, committed. */
export async function seedWorld(db: Database): Promise<World> {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const users = Array.from({ length: 8 }, () => randomUUID());
  await db.sequelize.query(
    `INSERT INTO users (id, email, password_hash, display_name)
     SELECT u, u::text || '@contract', 'x', 'contract' FROM unnest($1::uuid[]) u`,
    { bind: [users] },
  );
  await db.sequelize.query(
    `INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, status, created_at)
     SELECT m, u, 'CONTRACT-' || m::text, 'DE-North', 1000000, 1000000, 'active', now()
     FROM unnest($1::uuid[], $2::uuid[]) AS x(u, m)`,
    { bind: [users, users.map(meterOf)] },
  );
  const [owner, a, b, c, d, e, r, x] = users as [string, ...string[]];
  const listing = listingOf(owner, 8000n, now);
  const other = listingOf(owner, 2000n, now);
  const swaps = {
    A: swapOf(listing, a!, 3000n, now),
    B: swapOf(listing, b!, 2000n, now),
    C: swapOf(listing, c!, 3500n, now),
    D: swapOf(listing, d!, 4000n, now),
    E: swapOf(listing, e!, 1000n, now),
    R: swapOf(listing, r!, 5000n, now, 'rejected'),
    X: swapOf(other, x!, 1000n, now),
  };
  const tx = new CommandTx(db.sql, RULES);
  const listings = listingRepo(tx.statements);
  const repo = swapRepo(tx.statements);
  await listings.insert(listing);
  await listings.insert(other);
  for (const s of Object.values(swaps)) {
    await repo.insert(s, {
      swapId: s.id,
      round: 1,
      authorId: s.initiatorId,
      volumeWh: s.volumeWh,
      priceE4: s.priceE4,
      note: '',
      createdAt: now,
      fees: null,
    });
  }
  await tx.commit();
  return { owner, listing, other, swaps, group: [swaps.A.id, swaps.B.id] };
}

/** What the database holds of the world's listing and swaps (read after the transaction ended). */
export async function stored(db: Database, world: World) {
  const [listing] = await db.sequelize.query<{ available_wh: string; status: string; version: number }>(
    'SELECT available_wh::text, status, version FROM listings WHERE id = $1',
    { bind: [world.listing.id], type: QueryTypes.SELECT },
  );
  const swaps = await db.sequelize.query<{ id: string; status: string }>(
    'SELECT id, status FROM swaps WHERE listing_id = $1',
    { bind: [world.listing.id], type: QueryTypes.SELECT },
  );
  const names = Object.fromEntries(Object.entries(world.swaps).map(([k, s]) => [s.id, k]));
  return {
    listing,
    swaps: Object.fromEntries(swaps.map((s) => [names[s.id], s.status])),
  };
}

export const sortedIds = (...swaps: Swap[]) => swaps.map((s) => s.id).sort();

/** `body` on a fresh world in one transaction of `open`'s implementation, rolled back afterwards. */
export async function within(
  db: Database,
  open: (d: Database, w: World) => Promise<Repos>,
  body: (r: Repos, w: World) => Promise<void>,
): Promise<World> {
  const world = await seedWorld(db);
  const repos = await open(db, world);
  try {
    await body(repos, world);
  } finally {
    await repos.tx.rollback();
  }
  return world;
}

/**
 * A hub for the test file (started before its tests, stopped after), its database, and `within`
 * bound to it: what every contract file needs.
 */
export function contractDatabase() {
  let node: TestHub | undefined;
  beforeAll(async () => {
    node = await startHub();
  });
  afterAll(() => node?.stop());
  const db = (): Database => node!.hub.db!;
  return {
    db,
    within: (open: Parameters<typeof within>[1], body: Parameters<typeof within>[2]) =>
      within(db(), open, body),
  };
}
