import { type Attributes, Op, QueryTypes, type Sequelize, UniqueConstraintError } from 'sequelize';
import type { MeterStore, SlotVolumes } from '../../domain/energy/meters.js';
import { lockUserRow } from '../accounts/user-lock.js';
import { type MeterSlotModel, models } from '../models/models.js';
import { type MeterRecord, toMeter } from '../models/records.js';

/** Meters in PostgreSQL over the `Meter` model; each call is one statement. */
export function createMeterStore(sequelize: Sequelize): MeterStore {
  const { Meter, MeterSlot, Listing, Swap } = models(sequelize);
  const findOwn = async (ownerId: string, id: string) =>
    (await Meter.findOne({ where: { id, ownerId }, raw: true })) as MeterRecord | null;

  return {
    async insertMeter(m, max) {
      try {
        return await sequelize.transaction(async (transaction) => {
          // the owner's row first: two registrations of one owner on any nodes take turns, and the
          // second counts the first
          await lockUserRow(sequelize, m.ownerId, transaction);
          if ((await Meter.count({ where: { ownerId: m.ownerId }, transaction })) >= max) return 'limit';
          await Meter.create(
            {
              id: m.id,
              ownerId: m.ownerId,
              externalId: m.externalId,
              zone: m.zone,
              exportCapacityW: m.exportCapacityW.toString(),
              importCapacityW: m.importCapacityW.toString(),
              label: m.label,
              status: m.status,
              createdAt: m.createdAt,
              retiredAt: m.retiredAt,
            },
            { transaction },
          );
          return 'stored';
        });
      } catch (err) {
        // the unique index on external_id: of two registrations racing on any nodes, one stores
        if (err instanceof UniqueConstraintError) return 'taken';
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

    async anyMeter(id) {
      const row = (await Meter.findByPk(id, { raw: true })) as MeterRecord | null;
      return row ? toMeter(row) : undefined;
    },

    async ownMeter(ownerId, id) {
      const row = await findOwn(ownerId, id);
      return row ? toMeter(row) : undefined;
    },

    async retireMeter(ownerId, id, at) {
      return sequelize.transaction(async (transaction) => {
        // the meter's row lock first: a listing or proposal naming the meter share-locks it, so
        // one that is committing is waited for and then seen by the checks below (each statement
        // of this READ COMMITTED transaction reads what was committed before it), and one that
        // comes after waits for this retirement and finds the meter retired
        const row = (await Meter.findOne({
          where: { id, ownerId },
          lock: transaction.LOCK.UPDATE,
          transaction,
          raw: true,
        })) as MeterRecord | null;
        if (!row) return {};
        if (row.status !== 'active') return { current: toMeter(row) };
        const listing = await Listing.findOne({
          where: { meterId: id, status: 'active' },
          attributes: ['id'],
          transaction,
          raw: true,
        });
        if (listing) return { inUse: 'listings' as const };
        // an open swap names the meter only as its proposer's (the owner's meter has an active
        // listing): the trader withdraws or rejects it first
        const open = await Swap.findOne({
          where: { status: 'open', [Op.or]: [{ sellerMeterId: id }, { buyerMeterId: id }] },
          attributes: ['id'],
          transaction,
          raw: true,
        });
        if (open) return { inUse: 'swaps' as const };
        // a trade with a slot not yet settled (nor cancelled by curtailment), or from before
        // meters' trade slots (it never settles): unsettled
        const [trade] = await sequelize.query<{ id: string }>(
          `SELECT s.id FROM swaps s
           WHERE s.status = 'accepted' AND (s.seller_meter_id = $1 OR s.buyer_meter_id = $1)
             AND (EXISTS (SELECT 1 FROM trade_slots ts WHERE ts.swap_id = s.id AND ts.status = 'confirmed')
                  OR NOT EXISTS (SELECT 1 FROM trade_slots ts WHERE ts.swap_id = s.id))
           LIMIT 1`,
          { bind: [id], transaction, type: QueryTypes.SELECT },
        );
        if (trade) return { inUse: 'trades' as const };
        const [, rows] = await Meter.update(
          { status: 'retired', retiredAt: at },
          { where: { id }, returning: true, transaction },
        );
        return { retired: toMeter(rows[0]!.get({ plain: true })) };
      });
    },

    async contracted(meterId, from, to) {
      const rows = (await MeterSlot.findAll({
        where: { meterId, slotStart: { [Op.gte]: from, [Op.lt]: to } },
        raw: true,
      })) as Attributes<MeterSlotModel>[];
      const bySlot = new Map<number, SlotVolumes>();
      for (const r of rows) {
        const t = new Date(r.slotStart).getTime();
        const slot = bySlot.get(t) ?? { exportWh: 0n, importWh: 0n };
        if (r.direction === 'export') slot.exportWh = BigInt(r.contractedWh);
        else slot.importWh = BigInt(r.contractedWh);
        bySlot.set(t, slot);
      }
      return bySlot;
    },
  };
}
