import { pino } from 'pino';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/store/db/database.js';
import { migrate } from '../../src/store/db/migrate.js';
import { startHub, TEST_ENV } from '../support/hub.js';
import { freshDatabase, postgresAvailable, type TestDatabase } from '../support/services.js';
import { type Listing, trader } from '../support/traders.js';

const log = pino({ level: 'silent' });
const TABLES = [
  'curtailments',
  'events',
  'idempotency_keys',
  'listings',
  'market_candles',
  'market_trades',
  'meter_readings',
  'meter_slots',
  'meters',
  'notify_attempts',
  'notify_retries',
  'notify_targets',
  'offers',
  'outbox_cursor',
  'refresh_tokens',
  'slot_settlements',
  'swaps',
  'trade_slots',
  'users',
];

async function tables(db: Database): Promise<string[]> {
  const rows = await db.sequelize.query<{ t: string }>(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    { type: QueryTypes.SELECT },
  );
  return rows.map((r) => r.t);
}

describe('migrations', () => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await freshDatabase();
    db = await openDatabase(loadConfig({ ...TEST_ENV, ...tdb.env }), log);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  test('from empty: creates the whole schema, then a re-run applies nothing', async () => {
    expect(await tables(db)).toEqual([]);
    expect(await migrate(db.sequelize)).toEqual([
      '0001-initial-schema',
      '0002-account-lifetimes',
      '0003-display-names',
      '0004-meters',
      '0005-energy-market',
      '0006-settlement',
      '0007-market-tape',
      '0008-market-candles',
      '0009-listing-matching',
      '0010-notifications',
      '0011-event-trace-context',
      '0012-revoked-logins',
      '0013-tape-by-energy-type',
    ]);
    expect(await tables(db)).toEqual([...TABLES, 'schema_migrations'].sort());
    expect(await migrate(db.sequelize)).toEqual([]);
    const applied = await db.sequelize.query('SELECT name FROM schema_migrations', {
      type: QueryTypes.SELECT,
    });
    expect(applied).toEqual([
      { name: '0001-initial-schema' },
      { name: '0002-account-lifetimes' },
      { name: '0003-display-names' },
      { name: '0004-meters' },
      { name: '0005-energy-market' },
      { name: '0006-settlement' },
      { name: '0007-market-tape' },
      { name: '0008-market-candles' },
      { name: '0009-listing-matching' },
      { name: '0010-notifications' },
      { name: '0011-event-trace-context' },
      { name: '0012-revoked-logins' },
      { name: '0013-tape-by-energy-type' },
    ]);
  });

  test('the schema refuses an oversold listing', async () => {
    const uid = '00000000-0000-4000-8000-000000000001';
    await db.sequelize.query(
      `INSERT INTO users (id, email, password_hash, display_name) VALUES ('${uid}', 'a@x', 'h', 'A')`,
    );
    const insert = (available: number) =>
      db.sequelize.query(
        `INSERT INTO listings (id, owner_id, owner_name, side, energy_type, volume_wh, available_wh, price_e4, currency,
          delivery_start, delivery_end, zone, status, created_at, updated_at, gate_closes_at)
         VALUES (gen_random_uuid(), '${uid}', 'A', 'supply', 'solar', 1000, ${available}, 1, 'EUR',
          now() + interval '1 day', now() + interval '2 days', 'Z', 'active', now(), now(), now() + interval '1 day')`,
      );
    await expect(insert(-1)).rejects.toThrow(/check constraint/);
    await expect(insert(1001)).rejects.toThrow(/check constraint/);
    await insert(1000);
  });

  test('the schema refuses a meter that can trade nothing, and an external id registered twice', async () => {
    const uid = '00000000-0000-4000-8000-000000000002';
    await db.sequelize.query(
      `INSERT INTO users (id, email, password_hash, display_name) VALUES ('${uid}', 'm@x', 'h', 'M')`,
    );
    const insert = (externalId: string, exportW: number, importW: number) =>
      db.sequelize.query(
        `INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, status, created_at)
         VALUES (gen_random_uuid(), '${uid}', '${externalId}', 'Z', ${exportW}, ${importW}, 'active', now())`,
      );
    await expect(insert('m-1', 0, 0)).rejects.toThrow(/check constraint/);
    await expect(insert('m-1', -1, 5)).rejects.toThrow(/check constraint/);
    await insert('m-1', 0, 5000);
    await expect(insert('m-1', 5000, 0)).rejects.toMatchObject({
      name: 'SequelizeUniqueConstraintError',
      parent: { constraint: 'meters_external_id_key' },
    });
  });
});

describe('two nodes migrating one empty database at once', async () => {
  const real = await postgresAvailable('concurrent migrations');
  test.skipIf(!real)('both come up and the schema is applied once', async () => {
    const tdb = await freshDatabase();
    const [a, b] = await Promise.all([startHub({ db: tdb }), startHub({ db: tdb })]);
    try {
      for (const node of [a, b]) {
        const res = await fetch(`${node.url}/readyz`);
        expect(res.status).toBe(200);
      }
      const applied = await a.hub.db!.sequelize.query('SELECT name FROM schema_migrations', {
        type: QueryTypes.SELECT,
      });
      expect(applied).toEqual([
        { name: '0001-initial-schema' },
        { name: '0002-account-lifetimes' },
        { name: '0003-display-names' },
        { name: '0004-meters' },
        { name: '0005-energy-market' },
        { name: '0006-settlement' },
        { name: '0007-market-tape' },
        { name: '0008-market-candles' },
        { name: '0009-listing-matching' },
        { name: '0010-notifications' },
        { name: '0011-event-trace-context' },
        { name: '0012-revoked-logins' },
        { name: '0013-tape-by-energy-type' },
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await tdb.drop();
    }
  });
});

describe('a database of the previous release (schema 0002)', () => {
  test('its listings and swaps take their users’ display names, nothing lost', async () => {
    const tdb = await freshDatabase();
    const old = await openDatabase(loadConfig({ ...TEST_ENV, ...tdb.env }), log);
    try {
      expect(await migrate(old.sequelize, log, '0002-account-lifetimes')).toEqual([
        '0001-initial-schema',
        '0002-account-lifetimes',
      ]);
      // rows as the previous release wrote them: no names anywhere
      const [seller, buyer, listing, swap] = [
        'a0000000-0000-4000-8000-000000000001',
        'a0000000-0000-4000-8000-000000000002',
        'b0000000-0000-4000-8000-000000000001',
        'c0000000-0000-4000-8000-000000000001',
      ];
      await old.sequelize.query(`
        INSERT INTO users (id, email, password_hash, display_name) VALUES
          ('${seller}', 's@x', 'h', 'Sam Seller'), ('${buyer}', 'b@x', 'h', 'Bea Buyer');
        INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
          delivery_start, delivery_end, zone, status, created_at, updated_at)
        VALUES ('${listing}', '${seller}', 'supply', 'solar', 5000, 3000, 1200, 'EUR',
          now() + interval '1 day', now() + interval '2 days', 'Z', 'active', now(), now());
        INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round,
          next_actor_id, volume_wh, price_e4, expires_at, accepted_at, created_at, updated_at)
        VALUES ('${swap}', '${listing}', '${buyer}', '${seller}', '${buyer}', '${seller}', 'accepted', 1,
          NULL, 2000, 1200, now(), now(), now(), now());`);
      expect(await migrate(old.sequelize, log)).toEqual([
        '0003-display-names',
        '0004-meters',
        '0005-energy-market',
        '0006-settlement',
        '0007-market-tape',
        '0008-market-candles',
        '0009-listing-matching',
        '0010-notifications',
        '0011-event-trace-context',
        '0012-revoked-logins',
        '0013-tape-by-energy-type',
      ]);
      const [row] = await old.sequelize.query<Record<string, unknown>>(
        `SELECT l.owner_name, l.available_wh::text AS available, s.initiator_name, s.recipient_name, s.status,
           l.meter_id, l.slot_minutes, l.all_or_none, l.gate_closes_at = l.delivery_start AS gate_at_start,
           s.seller_meter_id, s.buyer_meter_id, s.fees
         FROM listings l JOIN swaps s ON s.listing_id = l.id`,
        { type: QueryTypes.SELECT },
      );
      // nothing lost; no meter, no slot grid, no fees; the gate at the delivery start (the old default)
      expect(row).toEqual({
        owner_name: 'Sam Seller',
        available: '3000',
        initiator_name: 'Bea Buyer',
        recipient_name: 'Sam Seller',
        status: 'accepted',
        meter_id: null,
        slot_minutes: null,
        all_or_none: false,
        gate_at_start: true,
        seller_meter_id: null,
        buyer_meter_id: null,
        fees: null,
      });
      // a node of the previous release cannot accept a swap here: its trade would bypass the limits
      await expect(
        old.sequelize.query(`
          INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round,
            next_actor_id, volume_wh, price_e4, expires_at, accepted_at, created_at, updated_at)
          VALUES (gen_random_uuid(), '${listing}', '${buyer}', '${seller}', '${buyer}', '${seller}', 'accepted', 1,
            NULL, 1000, 1200, now(), now(), now(), now())`),
      ).rejects.toThrow(/swaps_accepted_with_meters/);
      // nor post a listing (it has no gate closure)
      await expect(
        old.sequelize.query(`
          INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
            delivery_start, delivery_end, zone, status, created_at, updated_at)
          VALUES (gen_random_uuid(), '${seller}', 'supply', 'solar', 5000, 5000, 1200, 'EUR',
            now() + interval '1 day', now() + interval '2 days', 'Z', 'active', now(), now())`),
      ).rejects.toThrow(/gate_closes_at/);
      await old.close();

      // the hub of this release reads them, and refuses to trade the listing that has no meter
      const node = await startHub({ db: tdb });
      try {
        const someone = await trader(node.url, 'someone', false);
        const shown = await someone.rest<Listing>('GET', `/api/v1/listings/${listing}`);
        expect(shown).toMatchObject({
          id: listing,
          volumeKwh: '5.000',
          availableKwh: '3.000',
          allOrNone: false,
        });
        expect(shown.slots).toEqual([{ start: shown.deliveryStart, volumeKwh: '5.000' }]);
        expect(shown).not.toHaveProperty('meterId');
        await someone.connect();
        await expect(
          someone.propose({ listingId: listing, volumeKwh: '1', pricePerKwh: '0.12' }),
        ).rejects.toMatchObject({ code: 'INVALID_STATE', details: { reason: 'no_meter' } });
        someone.close();
      } finally {
        await node.stop();
      }
    } finally {
      await old.close().catch(() => undefined);
      await tdb.drop();
    }
  });
});

describe('a database a newer release migrated', () => {
  test('stops this release at start-up, naming the migrations it does not know', async () => {
    const tdb = await freshDatabase();
    const db = await openDatabase(loadConfig({ ...TEST_ENV, ...tdb.env }), log);
    try {
      await migrate(db.sequelize, log);
      await db.sequelize.query(`INSERT INTO schema_migrations (name) VALUES ('9999-from-the-future')`);
      await expect(migrate(db.sequelize, log)).rejects.toThrow(
        'the database was migrated by a newer release of the hub (9999-from-the-future); run that release',
      );
    } finally {
      await db.close();
      await tdb.drop();
    }
  });
});
