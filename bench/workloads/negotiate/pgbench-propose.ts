// negotiate's SQL baseline: pgbench replaying the SQL of one propose (bench/sql/propose.sql).
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
import { PG_CLIENTS, SECONDS } from './settings.js';

const PG_LISTINGS = 1000;
const PG_SELLERS = 50;
/** buyers per pgbench client; with PG_LISTINGS, 200,000 distinct proposals per client */
const PG_BUYERS = 200;

export async function runPgbenchPropose(adminUrl: string): Promise<PgbenchResult & { database: string }> {
  const line = progress('pgbench propose.sql');
  let db: BenchDatabase | undefined;
  try {
    db = await freshDatabase(adminUrl, 'renex_pgb_negotiate');
    line.update('migrating and seeding');
    await migrateDatabase(db.url);
    await execSql(
      db.url,
      `INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('s' || i)::uuid, 's' || i || '@pgbench', 'x', 's' || i FROM generate_series(1, ${PG_SELLERS}) i;
       INSERT INTO users (id, email, password_hash, display_name)
         SELECT md5('b' || i)::uuid, 'b' || i || '@pgbench', 'x', 'b' || i
         FROM generate_series(1, ${PG_CLIENTS * PG_BUYERS}) i;
       -- each trader's meter: md5('m' || their key)
       INSERT INTO meters (id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, status, created_at)
         SELECT md5('m' || u.k)::uuid, md5(u.k)::uuid, 'PGB-' || u.k, 'DE-North', 1000000000, 1000000000, 'active', now()
         FROM (SELECT 's' || i AS k FROM generate_series(1, ${PG_SELLERS}) i
               UNION ALL SELECT 'b' || i FROM generate_series(1, ${PG_CLIENTS * PG_BUYERS}) i) u;
       INSERT INTO listings (id, owner_id, owner_name, side, energy_type, volume_wh, available_wh, price_e4, currency,
                             delivery_start, delivery_end, zone, description, status, version, created_at, updated_at,
                             meter_id, slot_minutes, gate_closes_at)
         SELECT md5('l' || i)::uuid, md5('s' || (1 + (i - 1) % ${PG_SELLERS}))::uuid,
                's' || (1 + (i - 1) % ${PG_SELLERS}), 'supply', 'solar', 10000, 10000,
                1000, 'EUR', date_trunc('hour', now()) + interval '1 day', date_trunc('hour', now()) + interval '25 hours',
                'DE-North', '', 'active', 1, now(), now(), md5('ms' || (1 + (i - 1) % ${PG_SELLERS}))::uuid, 60,
                date_trunc('hour', now()) + interval '23 hours'
         FROM generate_series(1, ${PG_LISTINGS}) i;
       ANALYZE;`,
    );
    line.update(`running ${SECONDS} s with ${PG_CLIENTS} clients`);
    const r = await runPgbench({
      url: db.url,
      script: path.join(ROOT, 'bench/sql/propose.sql'),
      clients: PG_CLIENTS,
      threads: Math.min(2, PG_CLIENTS),
      seconds: SECONDS,
      defines: { k: 0, nlistings: PG_LISTINGS, nbuyers: PG_BUYERS },
    });
    line.done(r.error ?? `${Math.round(r.tps)} tps`);
    return { ...r, database: db.name };
  } finally {
    await db?.drop();
  }
}
