// hot-accept's SQL baseline: pgbench replaying the hub's accept transaction on one hot row.
import path from 'node:path';
import {
  type BenchDatabase,
  execSql,
  freshDatabase,
  migrateDatabase,
  type PgbenchResult,
  progress,
  runPgbench,
} from '../../harness.js';
import { ROOT } from '../../lib.js';
import { PG_CLIENTS, PG_OPEN_SWAPS, SECONDS } from './settings.js';

export const PG_PER_CLIENT = 5000;

export async function runPgbenchAccept(adminUrl: string) {
  const line = progress('pgbench accept.sql');
  let db: BenchDatabase | undefined;
  const runs: { openSwaps: number; result: PgbenchResult }[] = [];
  try {
    db = await freshDatabase(adminUrl, 'renex_pgb_hot');
    line.update('migrating and seeding');
    await migrateDatabase(db.url);
    await execSql(
      db.url,
      `INSERT INTO users (id, email, password_hash, display_name) VALUES (md5('s1')::uuid, 's1@pgbench', 'x', 's1');
       INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('b' || i)::uuid, 'b' || i || '@pgbench', 'x', 'b' || i FROM generate_series(1, ${PG_OPEN_SWAPS}) i;
       -- each trader's meter: md5('m' || their key)
       INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, status, created_at)
         SELECT md5('m' || u.k)::uuid, md5(u.k)::uuid, 'PGB-' || u.k, 'DE-North', 1000000000, 1000000000, 'active', now()
         FROM (SELECT 's1' AS k UNION ALL SELECT 'b' || i FROM generate_series(1, ${PG_OPEN_SWAPS}) i) u;
       INSERT INTO listings (id, owner_id, owner_name, side, energy_type, volume_wh, available_wh, price_e4, currency,
                             delivery_start, delivery_end, zone, description, status, version, created_at, updated_at,
                             meter_id, slot_minutes, gate_closes_at)
         VALUES (md5('hot')::uuid, md5('s1')::uuid, 's1', 'supply', 'solar', 1000000000000000, 1000000000000000, 1000, 'EUR',
                 date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '25 hours', 'DE-North', '',
                 'active', 1, now(), now(), md5('ms1')::uuid, 60, date_trunc('hour', now()) + interval '23 hours');
       INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round, next_actor_id,
                          volume_wh, price_e4, expires_at, created_at, updated_at, initiator_name, recipient_name,
                          seller_meter_id, buyer_meter_id, seller_zone, buyer_zone)
         SELECT md5('t' || i)::uuid, md5('hot')::uuid, md5('b' || (1 + i % ${PG_OPEN_SWAPS}))::uuid, md5('s1')::uuid,
                md5('b' || (1 + i % ${PG_OPEN_SWAPS}))::uuid, md5('s1')::uuid, 'rejected', 1, NULL, 3000, 1000,
                now() + interval '10 minutes', now(), now(), 'b' || (1 + i % ${PG_OPEN_SWAPS}), 's1',
                md5('ms1')::uuid, md5('mb' || (1 + i % ${PG_OPEN_SWAPS}))::uuid, 'DE-North', 'DE-North'
         FROM generate_series(1, ${PG_CLIENTS * PG_PER_CLIENT}) i;
       ANALYZE;`,
    );
    const once = async (openSwaps: number) => {
      line.update(`${SECONDS} s, ${PG_CLIENTS} clients, ${openSwaps} open swaps on the listing`);
      const r = await runPgbench({
        url: db!.url,
        script: path.join(ROOT, 'bench/sql/accept.sql'),
        clients: PG_CLIENTS,
        threads: Math.min(2, PG_CLIENTS),
        seconds: SECONDS,
        defines: { k: 0, perclient: PG_PER_CLIENT },
      });
      runs.push({ openSwaps, result: r });
      return r;
    };
    const lean = await once(0);
    // the burst's accepts also lock the listing's open swaps (to void those that no longer fit)
    await execSql(
      db.url,
      `INSERT INTO swaps (id, listing_id, initiator_id, recipient_id, buyer_id, seller_id, status, round, next_actor_id,
                          volume_wh, price_e4, expires_at, created_at, updated_at, initiator_name, recipient_name,
                          seller_meter_id, buyer_meter_id, seller_zone, buyer_zone)
         SELECT gen_random_uuid(), md5('hot')::uuid, md5('b' || i)::uuid, md5('s1')::uuid, md5('b' || i)::uuid,
                md5('s1')::uuid, 'open', 1, md5('s1')::uuid, 3000, 1000, now() + interval '1 hour', now(), now(),
                'b' || i, 's1', md5('ms1')::uuid, md5('mb' || i)::uuid, 'DE-North', 'DE-North'
         FROM generate_series(1, ${PG_OPEN_SWAPS}) i;
       ANALYZE swaps;`,
    );
    const withOpen = await once(PG_OPEN_SWAPS);
    line.done(
      [lean, withOpen].map((r) => (r.error ? `error: ${r.error}` : `${Math.round(r.tps)} tps`)).join(', '),
    );
    return { database: db.name, runs };
  } finally {
    await db?.drop();
  }
}
