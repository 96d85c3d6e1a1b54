import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Sequelize, Transaction } from 'sequelize';
import type { PasswordHasher } from '../../domain/auth/passwords.js';
import type { Market } from '../../domain/market.js';
import { models } from '../models/models.js';

/**
 * The demo traders, each with a metering point in a demo zone (exact W): a solar co-op that mostly
 * exports, a wind farm, and a factory that imports.
 */
const TRADERS = [
  {
    email: 'alice@demo.renex',
    displayName: 'Alice (solar co-op)',
    meter: { zone: 'DE-North', exportW: 400_000n, importW: 50_000n, label: 'Co-op rooftops' },
  },
  {
    email: 'bob@demo.renex',
    displayName: 'Bob (wind farm)',
    meter: { zone: 'DE-South', exportW: 2_000_000n, importW: 20_000n, label: 'Wind park feed-in' },
  },
  {
    email: 'carol@demo.renex',
    displayName: 'Carol (factory)',
    meter: { zone: 'NL', exportW: 100_000n, importW: 1_500_000n, label: 'Factory connection' },
  },
];

/** advisory lock naming the demo seed */
const SEED_LOCK = 7_263_110_002;

const TYPES = ['solar', 'wind', 'hydro', 'biomass'] as const;

/**
 * On a database with no users, creates three demo traders (their passwords printed once) and a
 * dozen active listings, so a new user sees a live market at once.
 */
export async function seedDemo(
  sequelize: Sequelize,
  hasher: PasswordHasher,
  market: Market,
  log: Logger,
): Promise<void> {
  const { User, Meter } = models(sequelize);
  const empty = async (transaction?: Transaction) => (await User.count({ transaction })) === 0;
  if (!(await empty())) return;
  const accounts = await Promise.all(
    TRADERS.map(async (t) => {
      const password = randomBytes(9).toString('base64url');
      return { ...t, id: randomUUID(), meterId: randomUUID(), password, hash: await hasher.hash(password) };
    }),
  );
  const seeded = await sequelize.transaction(async (transaction) => {
    // nodes starting together seed once: the first takes the lock, the others then find users
    await sequelize.query(`SELECT pg_advisory_xact_lock(${SEED_LOCK})`, { transaction });
    if (!(await empty(transaction))) return false;
    await User.bulkCreate(
      accounts.map((a) => ({ id: a.id, email: a.email, passwordHash: a.hash, displayName: a.displayName })),
      { transaction },
    );
    const now = new Date();
    await Meter.bulkCreate(
      accounts.map((a) => ({
        id: a.meterId,
        ownerId: a.id,
        // an external id of the demo's own kind, random so no real metering point is claimed
        externalId: `DEMO-${randomBytes(6).toString('hex').toUpperCase()}`,
        zone: a.meter.zone,
        exportCapacityW: a.meter.exportW.toString(),
        importCapacityW: a.meter.importW.toString(),
        label: a.meter.label,
        status: 'active',
        createdAt: now,
      })),
      { transaction },
    );
    return true;
  });
  if (!seeded) return;
  // the listings go through the market like any trader's, so their events are in the log; each
  // sits on its owner's meter, in that meter's zone, on the zone's hourly grid, 1 to 3 slots long
  const dayStart = new Date();
  dayStart.setUTCHours(24, 0, 0, 0);
  for (let i = 0; i < 12; i++) {
    const owner = accounts[i % accounts.length]!;
    const deliveryStart = new Date(dayStart.getTime() + ((i % 6) + 6) * 3_600_000);
    const slots = (i % 3) + 1;
    await market.createListing(
      { id: owner.id, name: owner.displayName },
      {
        side: i % 3 === 2 ? 'demand' : 'supply',
        energyType: TYPES[i % TYPES.length]!,
        volumeKwh: BigInt(50_000 + i * 12_500), // 50.000 .. 187.500 kWh
        pricePerKwh: BigInt(900 + i * 75), // 0.0900 .. 0.1725 per kWh
        deliveryStart,
        deliveryEnd: new Date(deliveryStart.getTime() + slots * 3_600_000),
        meterId: owner.meterId,
        description: `Demo listing ${i + 1}`,
      },
    );
  }
  log.info(
    { traders: accounts.map((a) => ({ email: a.email, password: a.password })) },
    'demo market seeded: sign in with one of these traders (shown once)',
  );
}
