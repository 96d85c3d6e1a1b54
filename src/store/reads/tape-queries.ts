import { type Attributes, Op, type Sequelize, type WhereOptions } from 'sequelize';
import type { TapeEntry } from '../../domain/energy/tape.js';
import { type MarketTradeModel, models } from '../models/models.js';
import { keysetBefore, keysetPage } from './keyset.js';

export interface TapeFilter {
  zone?: string;
  energyType?: string;
  from?: Date;
  to?: Date;
  limit: number;
  after?: { at: Date; id: string };
}

/** The public tape, newest first, one page: one statement over market_trades' indexes. */
export async function findTape(
  sequelize: Sequelize,
  f: TapeFilter,
): Promise<{ items: TapeEntry[]; more: boolean }> {
  const { MarketTrade } = models(sequelize);
  const where: WhereOptions<MarketTradeModel>[] = [];
  if (f.zone) where.push({ zone: f.zone });
  if (f.energyType) where.push({ energyType: f.energyType });
  if (f.from) where.push({ at: { [Op.gte]: f.from } });
  if (f.to) where.push({ at: { [Op.lt]: f.to } });
  if (f.after) where.push(keysetBefore(sequelize, 'at', f.after.at, f.after.id, 'MarketTrade'));
  const { rows, more } = await keysetPage<Attributes<MarketTradeModel>>(MarketTrade, {
    where,
    orderBy: 'at',
    limit: f.limit,
  });
  return {
    items: rows.map((r) => ({
      id: r.id,
      zone: r.zone,
      energyType: r.energyType,
      deliveryStart: new Date(r.deliveryStart),
      deliveryEnd: new Date(r.deliveryEnd),
      volumeWh: BigInt(r.volumeWh),
      priceE4: BigInt(r.priceE4),
      at: new Date(r.at),
    })),
    more,
  };
}
