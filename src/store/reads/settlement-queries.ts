import { QueryTypes, type Sequelize } from 'sequelize';
import type { StatementSlot } from '../../domain/energy/statements.js';
import { TRADE_SLOT_COLUMNS, type TradeSlotRow, toTradeSlot } from './trade-slot-queries.js';

/**
 * `userId`'s settled trade slots with a start in `[from, to)`, in slot order: one statement, at
 * most `limit` of them (the caller asks for one more than it answers, to know there are more).
 */
export async function findStatementSlots(
  sequelize: Sequelize,
  userId: string,
  from: Date,
  to: Date,
  limit: number,
): Promise<StatementSlot[]> {
  const rows = await sequelize.query<
    TradeSlotRow & {
      buyer_id: string;
      initiator_id: string;
      initiator_name: string;
      recipient_name: string;
      zone: string;
      energy_type: string;
      price_e4: string;
      currency: string;
    }
  >(
    `SELECT ${TRADE_SLOT_COLUMNS.split(', ')
      .map((c) => `ts.${c}`)
      .join(', ')}, s.buyer_id, s.initiator_id, s.initiator_name, s.recipient_name, l.zone, l.energy_type,
       s.price_e4, l.currency
     FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
     -- a trade is an accepted swap: the condition lets the partial indexes on the parties serve
     WHERE ts.status = 'settled' AND s.status = 'accepted' AND (s.buyer_id = $1 OR s.seller_id = $1)
       AND ts.slot_start >= $2 AND ts.slot_start < $3
     ORDER BY ts.slot_start, ts.swap_id
     LIMIT $4`,
    { bind: [userId, from, to, limit], type: QueryTypes.SELECT },
  );
  return rows.map((r) => {
    const buying = r.buyer_id === userId;
    // the initiator is the other party when it is not the user
    const counterpartyName = r.initiator_id === userId ? r.recipient_name : r.initiator_name;
    return {
      slot: toTradeSlot(r),
      side: buying ? 'buy' : 'sell',
      swapId: r.swap_id,
      counterpartyName,
      zone: r.zone,
      energyType: r.energy_type,
      priceE4: BigInt(r.price_e4),
      currency: r.currency,
    };
  });
}

/** A settled slot of a zone, as the operator's report shows it (amounts in cents). */
export interface SettledSlotRow {
  zone: string;
  slot_start: Date;
  settled_wh: string;
  buyers_pay: string;
  sellers_receive: string;
  grid_operator_receives: string;
  platform_receives: string;
}

/** The settled slots of `zone` (its id as configured) with a start in `[from, to)`, in slot order. */
export function findSettledSlots(
  sequelize: Sequelize,
  zone: string,
  from: Date,
  to: Date,
): Promise<SettledSlotRow[]> {
  return sequelize.query<SettledSlotRow>(
    `SELECT zone, slot_start, settled_wh::text, buyers_pay::text, sellers_receive::text,
       grid_operator_receives::text, platform_receives::text
     FROM slot_settlements WHERE zone = $1 AND slot_start >= $2 AND slot_start < $3
     ORDER BY slot_start`,
    { bind: [zone, from, to], type: QueryTypes.SELECT },
  );
}
