import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Config } from '../config.js';
import type { PasswordHasher } from '../domain/auth/passwords.js';

const TRADERS = [
  { email: 'alice@demo.renex', displayName: 'Alice (solar co-op)' },
  { email: 'bob@demo.renex', displayName: 'Bob (wind farm)' },
  { email: 'carol@demo.renex', displayName: 'Carol (factory)' },
];

/** advisory lock naming the demo seed */
const SEED_LOCK = 7_263_110_002;

const ZONES = ['DE-North', 'DE-South', 'NL'];
const TYPES = ['solar', 'wind', 'hydro', 'biomass'] as const;

/**
 * On a database with no users, creates three demo traders (their passwords printed once) and a
 * dozen active listings, so a new user sees a live market at once.
 */
export async function seedDemo(
  sequelize: Sequelize,
  hasher: PasswordHasher,
  config: Config,
  log: Logger,
): Promise<void> {
  const empty = async (transaction?: Transaction) => {
    const [row] = await sequelize.query<{ n: string }>('SELECT count(*) AS n FROM users', {
      type: QueryTypes.SELECT,
      transaction,
    });
    return Number(row?.n) === 0;
  };
  if (!(await empty())) return;
  const accounts = await Promise.all(
    TRADERS.map(async (t) => {
      const password = randomBytes(9).toString('base64url');
      return { ...t, id: randomUUID(), password, hash: await hasher.hash(password) };
    }),
  );
  const seeded = await sequelize.transaction(async (transaction) => {
    // nodes starting together seed once: the first takes the lock, the others then find users
    await sequelize.query(`SELECT pg_advisory_xact_lock(${SEED_LOCK})`, { transaction });
    if (!(await empty(transaction))) return false;
    for (const a of accounts) {
      await sequelize.query(
        'INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING',
        { bind: [a.id, a.email, a.hash, a.displayName], transaction },
      );
    }
    const dayStart = new Date();
    dayStart.setUTCHours(24, 0, 0, 0);
    for (let i = 0; i < 12; i++) {
      const owner = accounts[i % accounts.length]!;
      const start = new Date(dayStart.getTime() + (i % 6) * 3_600_000 + 6 * 3_600_000);
      const end = new Date(start.getTime() + 3_600_000);
      const volumeWh = BigInt(50_000 + i * 12_500); // 50.000 .. 187.500 kWh
      const priceE4 = BigInt(900 + i * 75); // 0.0900 .. 0.1725 per kWh
      const now = new Date(Date.now() - (12 - i) * 1000);
      await sequelize.query(
        `INSERT INTO listings (id, owner_id, side, energy_type, volume_wh, available_wh, price_e4, currency,
           delivery_start, delivery_end, zone, description, status, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, 'active', 1, $12, $12)`,
        {
          bind: [
            randomUUID(),
            owner.id,
            i % 3 === 2 ? 'demand' : 'supply',
            TYPES[i % TYPES.length],
            volumeWh.toString(),
            priceE4.toString(),
            config.CURRENCY,
            start,
            end,
            ZONES[i % ZONES.length],
            `Demo listing ${i + 1}`,
            now,
          ],
          transaction,
        },
      );
    }
    return true;
  });
  if (!seeded) return;
  log.info(
    { traders: accounts.map((a) => ({ email: a.email, password: a.password })) },
    'demo market seeded: sign in with one of these traders (shown once)',
  );
}
