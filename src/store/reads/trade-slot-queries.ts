import { QueryTypes, type Sequelize } from 'sequelize';
import { loadMoney, type StoredMoney, type TradeSlot } from '../../domain/energy/settlement.js';

/** A row of trade_slots as read. */
export interface TradeSlotRow {
  swap_id: string;
  slot_start: Date | string;
  volume_wh: string;
  curtailed_wh: string;
  seller_allocated_wh: string | null;
  buyer_allocated_wh: string | null;
  settled_wh: string | null;
  status: TradeSlot['status'];
  settlement: StoredMoney | null;
}

export const TRADE_SLOT_COLUMNS =
  'swap_id, slot_start, volume_wh, curtailed_wh, seller_allocated_wh, buyer_allocated_wh, settled_wh, status, settlement';

const big = (v: string | null) => (v === null ? null : BigInt(v));

export const toTradeSlot = (r: TradeSlotRow): TradeSlot => ({
  swapId: r.swap_id,
  start: new Date(r.slot_start),
  volumeWh: BigInt(r.volume_wh),
  curtailedWh: BigInt(r.curtailed_wh),
  sellerAllocatedWh: big(r.seller_allocated_wh),
  buyerAllocatedWh: big(r.buyer_allocated_wh),
  settledWh: big(r.settled_wh),
  status: r.status,
  money: r.settlement ? loadMoney(r.settlement) : null,
});

/** The slots of `swapIds`, by swap id, in slot order: one statement. */
export async function findTradeSlots(
  sequelize: Sequelize,
  swapIds: string[],
): Promise<Map<string, TradeSlot[]>> {
  const bySwap = new Map<string, TradeSlot[]>();
  if (swapIds.length === 0) return bySwap;
  const rows = await sequelize.query<TradeSlotRow>(
    `SELECT ${TRADE_SLOT_COLUMNS} FROM trade_slots WHERE swap_id = ANY($1::uuid[]) ORDER BY swap_id, slot_start`,
    { bind: [swapIds], type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    const slot = toTradeSlot(r);
    const list = bySwap.get(slot.swapId) ?? [];
    list.push(slot);
    bySwap.set(slot.swapId, list);
  }
  return bySwap;
}
