// A curtailment applied (PROTOCOL-MARKET.md; docs/settlement.md, "Curtailment"): in one transaction,
// the trade slots it reaches are locked with their listing and swap (the listing first, as on every
// path), each keeps `factor` of its contracted volume, both meters' contracted volumes are lowered
// by what was taken (the limits are freed), the swaps' fees follow the volume still contracted, and
// both parties of each trade are told (`trade.curtailed`).
import { randomUUID } from 'node:crypto';
import type { Curtailment } from '../../domain/energy/curtailment.js';
import { contractedWh, curtailedKeepWh, type TradeSlot } from '../../domain/energy/settlement.js';
import { feesAt } from '../../domain/energy/trading.js';
import { validationFailed } from '../../domain/validation.js';
import type { CommandTx } from '../commands/command-tx.js';
import { type SwapRecord, toSwap, unprefixed } from '../models/records.js';
import { TRADE_SLOT_COLUMNS, type TradeSlotRow, toTradeSlot } from '../reads/trade-slot-queries.js';
import { groupBySwap, TRADE_ROW_SELECT, type TradeRow, tradeEvents, tradeListingOf } from './settle-slot.js';

/** Applies `c` for the operator `operatorId` at `now`; answers how many trades it reached. */
export async function curtail(
  tx: CommandTx,
  operatorId: string,
  c: Curtailment,
  now: Date,
): Promise<{ affectedTrades: number }> {
  const { statements } = tx;
  let meterId: string | undefined;
  if (c.meterExternalId !== undefined) {
    const [meter] = await statements.read<{ id: string; zone: string }>(
      `SELECT id, zone FROM meters WHERE upper(external_id) = upper($1) AND status = 'active'`,
      [c.meterExternalId],
    );
    if (!meter) {
      throw validationFailed([{ path: 'meterExternalId', message: 'is not an active meter of the market' }]);
    }
    // the zone names the grid the window is on and is recorded with the curtailment: a meter of
    // another zone is that zone's operator's to curtail (both ids as the market spells them)
    if (meter.zone !== c.zone.id) {
      throw validationFailed([{ path: 'meterExternalId', message: `is not a meter of zone ${c.zone.id}` }]);
    }
    meterId = meter.id;
  }
  // only slots not yet started, and only what is still confirmed
  const from = new Date(Math.max(c.from.getTime(), now.getTime() + 1));
  const where = meterId ? '(s.seller_meter_id = $3 OR s.buyer_meter_id = $3)' : 'upper(l.zone) = upper($3)';
  const rows = await statements.read<TradeRow>(
    `SELECT ${TRADE_ROW_SELECT}
     FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
     WHERE ts.slot_start >= $1 AND ts.slot_start < $2 AND ts.status = 'confirmed' AND ${where}
     ORDER BY l.id, s.id, ts.slot_start FOR UPDATE OF l, s, ts`,
    [from, c.to, meterId ?? c.zone.id],
  );
  const taken = new Map<string, bigint>(); // ledger key -> Wh freed
  const changed: TradeSlot[] = [];
  for (const r of rows) {
    const slot = toTradeSlot(r);
    const swap = toSwap(unprefixed<SwapRecord>(r, 's'));
    const before = contractedWh(slot);
    const keep = curtailedKeepWh(before, c.factorE4);
    const take = before - keep;
    if (take === 0n) continue;
    changed.push({
      ...slot,
      curtailedWh: slot.curtailedWh + take,
      status: keep === 0n ? 'cancelled' : 'confirmed',
    });
    for (const key of [
      `${swap.sellerMeterId}|export|${slot.start.toISOString()}`,
      `${swap.buyerMeterId}|import|${slot.start.toISOString()}`,
    ]) {
      taken.set(key, (taken.get(key) ?? 0n) + take);
    }
  }
  const swapIds = [...new Set(changed.map((s) => s.swapId))];
  if (changed.length) {
    await statements.write(
      `trade_slots:curtail:${randomUUID()}`,
      `UPDATE trade_slots ts SET curtailed_wh = v.c, status = v.st
       FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::text[]) AS v(id, s, c, st)
       WHERE ts.swap_id = v.id AND ts.slot_start = v.s`,
      [
        changed.map((s) => s.swapId),
        changed.map((s) => s.start.toISOString()),
        changed.map((s) => s.curtailedWh.toString()),
        changed.map((s) => s.status),
      ],
    );
    const keys = [...taken.keys()].sort();
    const column = (i: number) => keys.map((k) => k.split('|')[i]!);
    // the ledger's rows locked first in one order, by meter, direction and slot, as an accept
    // takes them (an UPDATE ... FROM takes them in its plan's order)
    await statements.read(
      `SELECT 1 FROM meter_slots ms JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(m, dir, s)
         ON ms.meter_id = v.m AND ms.direction = v.dir AND ms.slot_start = v.s
       ORDER BY ms.meter_id, ms.direction, ms.slot_start FOR UPDATE OF ms`,
      [column(0), column(1), column(2)],
    );
    await statements.write(
      `meter_slots:curtail:${randomUUID()}`,
      `UPDATE meter_slots ms SET contracted_wh = ms.contracted_wh - v.d
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[]) AS v(m, dir, s, d)
       WHERE ms.meter_id = v.m AND ms.direction = v.dir AND ms.slot_start = v.s`,
      [column(0), column(1), column(2), keys.map((k) => taken.get(k)!.toString())],
    );
  }
  await statements.write(
    `curtailments:${randomUUID()}`,
    `INSERT INTO curtailments (id, operator_id, zone, meter_id, from_at, to_at, reason, factor_e4, affected_trades, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      randomUUID(),
      operatorId,
      c.zone.id,
      meterId ?? null,
      c.from,
      c.to,
      c.reason,
      Number(c.factorE4),
      swapIds.length,
      now,
    ],
  );
  if (swapIds.length) {
    // every slot of the trades reached (those outside the window too), after the change
    const all = (
      await statements.read<TradeSlotRow>(
        `SELECT ${TRADE_SLOT_COLUMNS} FROM trade_slots WHERE swap_id = ANY($1::uuid[]) ORDER BY swap_id, slot_start`,
        [swapIds],
      )
    ).map(toTradeSlot);
    const slotsOf = groupBySwap(all);
    const rowOf = new Map(rows.map((r) => [r.swap_id, r]));
    for (const id of swapIds) {
      const r = rowOf.get(id)!;
      const swap = toSwap(unprefixed<SwapRecord>(r, 's'));
      const slots = slotsOf.get(id) ?? [];
      const volumeWh = slots.reduce((sum, s) => sum + contractedWh(s), 0n);
      // the fees follow the volume still contracted, at the rates the trade was agreed at
      const fees = swap.feeSchedule
        ? feesAt(swap.feeSchedule, { volumeWh, priceE4: swap.priceE4 })
        : swap.fees;
      await statements.write(
        `swaps:${id}`,
        'UPDATE swaps SET fees = $2 WHERE id = $1',
        [id, JSON.stringify(fees)],
        'update',
      );
      tx.emit(...tradeEvents('trade.curtailed', { ...swap, fees }, tradeListingOf(r), slots));
    }
  }
  return { affectedTrades: swapIds.length };
}
