import type { SlotShare } from '../../domain/energy/slots.js';
import type { TradeRepo } from '../../domain/unit-of-work.js';
import type { CommandStatements } from './command-statements.js';

/** The insert of an accepted trade's slots, as a pending write (one statement whatever the slot count). */
export const writeTradeSlots = (statements: CommandStatements, swapId: string, shares: SlotShare[]) =>
  statements.write(
    `trade_slots:${swapId}`,
    `INSERT INTO trade_slots (swap_id, slot_start, volume_wh)
     SELECT $1, s, v FROM unnest($2::timestamptz[], $3::bigint[]) AS x(s, v)`,
    [swapId, shares.map((s) => s.start.toISOString()), shares.map((s) => s.wh.toString())],
  );

/** The trades of one command. */
export const tradeRepo = (statements: CommandStatements): TradeRepo => ({
  insertSlots: (swapId, shares) => writeTradeSlots(statements, swapId, shares),
  insertTape: (e) =>
    statements.write(
      `market_trades:${e.id}`,
      `INSERT INTO market_trades (id, zone, energy_type, delivery_start, delivery_end, volume_wh, price_e4, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        e.id,
        e.zone,
        e.energyType,
        e.deliveryStart,
        e.deliveryEnd,
        e.volumeWh.toString(),
        e.priceE4.toString(),
        e.at,
      ],
    ),
});
