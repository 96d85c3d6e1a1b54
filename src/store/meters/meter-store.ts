import { type Attributes, type Sequelize, UniqueConstraintError } from 'sequelize';
import type { Meter, MeterStore } from '../../domain/energy/meters.js';
import { type MeterModel, models } from '../models/models.js';

type MeterRecord = Attributes<MeterModel>;

const toMeter = (r: MeterRecord): Meter => ({
  id: r.id,
  ownerId: r.ownerId,
  externalId: r.externalId,
  zone: r.zone,
  exportCapacityW: BigInt(r.exportCapacityW),
  importCapacityW: BigInt(r.importCapacityW),
  label: r.label,
  status: r.status as Meter['status'],
  createdAt: new Date(r.createdAt),
  retiredAt: r.retiredAt ? new Date(r.retiredAt) : null,
});

/** Meters in PostgreSQL over the `Meter` model; each call is one statement. */
export function createMeterStore(sequelize: Sequelize): MeterStore {
  const { Meter } = models(sequelize);
  const findOwn = async (ownerId: string, id: string) =>
    (await Meter.findOne({ where: { id, ownerId }, raw: true })) as MeterRecord | null;

  return {
    async insertMeter(m) {
      try {
        await Meter.create({
          id: m.id,
          ownerId: m.ownerId,
          externalId: m.externalId,
          zone: m.zone,
          exportCapacityW: m.exportCapacityW.toString(),
          importCapacityW: m.importCapacityW.toString(),
          label: m.label,
          status: m.status,
          createdAt: m.createdAt,
        });
        return true;
      } catch (err) {
        // the unique index on external_id: of two registrations racing on any nodes, one stores
        if (err instanceof UniqueConstraintError) return false;
        throw err;
      }
    },

    async ownMeters(ownerId) {
      const rows = (await Meter.findAll({
        where: { ownerId },
        order: [
          ['createdAt', 'ASC'],
          ['id', 'ASC'],
        ],
        raw: true,
      })) as MeterRecord[];
      return rows.map(toMeter);
    },

    async ownMeter(ownerId, id) {
      const row = await findOwn(ownerId, id);
      return row ? toMeter(row) : undefined;
    },

    async retireMeter(ownerId, id, at) {
      // one UPDATE: of two retires racing, the second waits for the first's row lock, then
      // finds the meter retired and changes nothing
      const [count, rows] = await Meter.update(
        { status: 'retired', retiredAt: at },
        { where: { id, ownerId, status: 'active' }, returning: true },
      );
      if (count === 1 && rows[0]) return { retired: toMeter(rows[0].get({ plain: true })) };
      const row = await findOwn(ownerId, id);
      return row ? { current: toMeter(row) } : {};
    },
  };
}
