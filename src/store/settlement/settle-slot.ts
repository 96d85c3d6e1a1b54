// Settlement of one zone's slot, once across the cluster (docs/settlement.md): every node's sweep
// finds the slots that are due; a transaction-scoped advisory lock lets one node settle a slot
// while the others pass, the trade slots are re-read under their row locks (a slot settled
// meanwhile is found settled), and the `slot_settlements` primary key is the last guard.

import {
  type AllocationClaim,
  allocate,
  contractedWh,
  settleSlot,
  storeMoney,
  sumMoney,
  type TradeSlot,
  tradeStatus,
} from '../../domain/energy/settlement.js';
import type { FeeSchedule } from '../../domain/energy/trading.js';
import type { MarketProfile, Zone } from '../../domain/energy/zones.js';
import type { EventDraft } from '../../domain/events.js';
import type { Swap } from '../../domain/swap.js';
import { type TradeListing, tradeView } from '../../domain/trade.js';
import type { CommandStatements } from '../commands/command-statements.js';
import type { CommandTx } from '../commands/command-tx.js';
import { camelColumns, SWAP_COLUMNS, type SwapRecord, toSwap, unprefixed } from '../models/records.js';
import { TRADE_SLOT_COLUMNS, type TradeSlotRow, toTradeSlot } from '../reads/trade-slot-queries.js';

/** One zone's slot to settle. */
export interface SlotUnit {
  zone: string;
  slotStart: Date;
  slotMinutes: number;
}

const MINUTE_MS = 60_000;

/**
 * The zone slots ready to settle, oldest first: ended, with confirmed trade slots, and for every
 * meter of their trades a reading, or no more waiting for one (past `slot end + delayMinutes` of
 * the meter's own zone, the zone of its trade's side). A slot still waiting for readings is not
 * listed, so it never holds back those behind it.
 */
export async function dueUnits(
  statements: CommandStatements,
  profile: MarketProfile,
  now: Date,
  limit: number,
): Promise<SlotUnit[]> {
  const zones = profile.zones;
  const rows = await statements.read<{ zone: string; slot_start: Date; slot_minutes: number }>(
    `WITH z AS (SELECT * FROM unnest($3::text[], $4::int[]) AS z(zone, delay))
     SELECT l.zone, ts.slot_start, l.slot_minutes
     FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
       JOIN z ON z.zone = l.zone LEFT JOIN z zs ON zs.zone = s.seller_zone LEFT JOIN z zb ON zb.zone = s.buyer_zone
     WHERE ts.status = 'confirmed' AND ts.slot_start <= $1::timestamptz - interval '5 minutes'
       AND ts.slot_start + l.slot_minutes * interval '1 minute' <= $1
     GROUP BY l.zone, ts.slot_start, l.slot_minutes
     HAVING bool_and(
         (ts.slot_start + (l.slot_minutes + COALESCE(zs.delay, z.delay)) * interval '1 minute' <= $1
           OR EXISTS (SELECT 1 FROM meter_readings r WHERE r.meter_id = s.seller_meter_id AND r.slot_start = ts.slot_start))
         AND (ts.slot_start + (l.slot_minutes + COALESCE(zb.delay, z.delay)) * interval '1 minute' <= $1
           OR EXISTS (SELECT 1 FROM meter_readings r WHERE r.meter_id = s.buyer_meter_id AND r.slot_start = ts.slot_start)))
     ORDER BY ts.slot_start, l.zone LIMIT $2`,
    [now, limit, zones.map((z) => z.id), zones.map((z) => String(z.settlement.delayMinutes))],
  );
  return rows.map((r) => ({ zone: r.zone, slotStart: new Date(r.slot_start), slotMinutes: r.slot_minutes }));
}

/** A trade slot with its swap (`s_` columns) and what a trade's view needs of its listing (`l_`). */
export type TradeRow = TradeSlotRow &
  Record<string, unknown> & {
    l_energy_type: string;
    l_delivery_start: Date;
    l_delivery_end: Date;
    l_currency: string;
    l_slot_minutes: number;
    l_zone: string;
  };

/** The SELECT list of a TradeRow over `trade_slots ts JOIN swaps s ... JOIN listings l ...`. */
export const TRADE_ROW_SELECT = `${TRADE_SLOT_COLUMNS.split(', ')
  .map((c) => `ts.${c}`)
  .join(', ')}, ${camelColumns(SWAP_COLUMNS, 's')},
  l.energy_type AS l_energy_type, l.delivery_start AS l_delivery_start, l.delivery_end AS l_delivery_end,
  l.currency AS l_currency, l.slot_minutes AS l_slot_minutes, l.zone AS l_zone`;

/** Every trade of a meter in the slot, as allocation needs it (any zone's listing). */
interface ClaimRow {
  swap_id: string;
  contracted: string;
  seller_meter_id: string;
  buyer_meter_id: string;
  accepted_at: Date;
}

export type SettleOutcome = 'settled' | 'waiting' | 'passed';

/**
 * Settles `unit` in `tx` at `now`: `passed` when another node holds it or it is settled already;
 * `waiting` while a reading is missing before `slot end + delayMinutes` of its meter's zone
 * (readings no longer waited for are then written as 0 already);
 * otherwise allocates, settles every trade slot of the zone in that slot, freezes the readings it
 * used (a missing one is written as 0), records the slot's totals, and tells both parties of each
 * trade (`trade.settled`, each its own view).
 */
export async function settleUnit(
  tx: CommandTx,
  profile: MarketProfile,
  unit: SlotUnit,
  now: Date,
): Promise<SettleOutcome> {
  const { statements } = tx;
  const zone = profile.zone(unit.zone);
  if (!zone) return 'passed'; // the zone left the configuration: its slots wait for it to come back
  const slot = unit.slotStart.toISOString();
  const [lock] = await statements.read<{ got: boolean }>(
    `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS got`,
    [`settle:${unit.zone}`, slot],
  );
  if (!lock?.got) return 'passed';
  const rows = await statements.read<TradeRow>(
    `SELECT ${TRADE_ROW_SELECT}
     FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id JOIN listings l ON l.id = s.listing_id
     WHERE l.zone = $1 AND ts.slot_start = $2 AND l.slot_minutes = $3 AND ts.status = 'confirmed'
     ORDER BY ts.swap_id FOR UPDATE OF ts`,
    [unit.zone, slot, unit.slotMinutes],
  );
  if (rows.length === 0) return 'passed';
  const units = rows.map((r) => ({
    slot: toTradeSlot(r),
    swap: toSwap(unprefixed<SwapRecord>(r, 's')),
    row: r,
  }));
  const meterIds = [...new Set(units.flatMap((u) => [u.swap.sellerMeterId!, u.swap.buyerMeterId!]))].sort();

  // The readings, locked, in meter order, in one statement: an upload waits for this settlement and
  // then finds them settled. A reading still missing counts as 0 once its meter's own zone has
  // stopped waiting for it (slot end + that zone's settlement delay, PROTOCOL-MARKET.md; a meter of
  // another zone trading here keeps its zone's time, docs/settlement.md): the statement writes it
  // as such. Rows are locked and created in one pass in meter order, as an upload's are (meter,
  // slot), so neither can hold one row the other needs while waiting for another: no deadlock.
  const meterZone = new Map(meterZonesOf(units));
  const pastDeadline = meterIds.map((m) => {
    const own = profile.zone(meterZone.get(m) ?? unit.zone) ?? zone;
    return (
      now.getTime() >= unit.slotStart.getTime() + (unit.slotMinutes + own.settlement.delayMinutes) * MINUTE_MS
    );
  });
  const readings = await statements.read<{ meter_id: string; exported_wh: string; imported_wh: string }>(
    `INSERT INTO meter_readings AS r (meter_id, slot_start, exported_wh, imported_wh, source, uploaded_at)
     SELECT k.m, $2, 0, 0, 'missing', $1 FROM unnest($3::uuid[], $4::boolean[]) WITH ORDINALITY AS k(m, past, n)
     WHERE k.past OR EXISTS (SELECT 1 FROM meter_readings x WHERE x.meter_id = k.m AND x.slot_start = $2)
     ORDER BY k.n
     ON CONFLICT (meter_id, slot_start) DO UPDATE SET settled_at = r.settled_at
     RETURNING meter_id, exported_wh, imported_wh`,
    [now, slot, meterIds, pastDeadline],
  );
  if (readings.length < meterIds.length) return 'waiting';
  const byMeter = new Map(readings.map((r) => [r.meter_id, r]));

  // every trade of these meters in this slot, whatever the zone of its listing: a meter's metered
  // volume is shared among all of them
  const claims = await statements.read<ClaimRow>(
    `SELECT ts.swap_id, (ts.volume_wh - ts.curtailed_wh)::text AS contracted, s.seller_meter_id, s.buyer_meter_id,
       s.accepted_at
     FROM trade_slots ts JOIN swaps s ON s.id = ts.swap_id
     WHERE ts.slot_start = $2 AND ts.status <> 'cancelled' AND s.status = 'accepted'
       AND (s.seller_meter_id = ANY($1::uuid[]) OR s.buyer_meter_id = ANY($1::uuid[]))`,
    [meterIds, slot],
  );
  const allocations = new Map<string, Map<string, bigint>>();
  for (const meterId of meterIds) {
    const reading = byMeter.get(meterId);
    for (const direction of ['export', 'import'] as const) {
      const mine: AllocationClaim[] = claims
        .filter((c) => (direction === 'export' ? c.seller_meter_id : c.buyer_meter_id) === meterId)
        .map((c) => ({
          key: c.swap_id,
          contractedWh: BigInt(c.contracted),
          acceptedAt: new Date(c.accepted_at),
        }));
      if (!mine.length) continue;
      const metered = BigInt(
        direction === 'export' ? (reading?.exported_wh ?? 0) : (reading?.imported_wh ?? 0),
      );
      // each meter's own zone decides how its metered volume is shared
      const method = (profile.zone(meterZone.get(meterId) ?? unit.zone) ?? zone).settlement.allocation;
      allocations.set(`${meterId}/${direction}`, allocate(metered, mine, method));
    }
  }

  const settled: TradeSlot[] = units.map(({ slot: s, swap }) => {
    const sellerAllocatedWh = allocations.get(`${swap.sellerMeterId}/export`)?.get(swap.id) ?? 0n;
    const buyerAllocatedWh = allocations.get(`${swap.buyerMeterId}/import`)?.get(swap.id) ?? 0n;
    // at the rates the trade was agreed at (a swap that kept none: today's)
    const schedule = swap.feeSchedule ?? feeScheduleNow(profile, swap, zone);
    const result = settleSlot({
      contractedWh: contractedWh(s),
      sellerAllocatedWh,
      buyerAllocatedWh,
      priceE4: swap.priceE4,
      buyerFees: schedule.buyer,
      sellerFees: schedule.seller,
      interZonePerKwhE4: schedule.interZonePerKwhE4,
      settlement: zone.settlement,
    });
    return {
      ...s,
      sellerAllocatedWh,
      buyerAllocatedWh,
      settledWh: result.settledWh,
      status: 'settled',
      money: result.money,
    };
  });

  await statements.write(
    `trade_slots:settle:${unit.zone}:${slot}`,
    `UPDATE trade_slots ts SET seller_allocated_wh = v.sa, buyer_allocated_wh = v.ba, settled_wh = v.q,
       status = 'settled', settlement = v.m, settled_at = $1
     FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::jsonb[]) AS v(id, sa, ba, q, m)
     WHERE ts.swap_id = v.id AND ts.slot_start = $7`,
    [
      now,
      settled.map((s) => s.swapId),
      settled.map((s) => s.sellerAllocatedWh!.toString()),
      settled.map((s) => s.buyerAllocatedWh!.toString()),
      settled.map((s) => s.settledWh!.toString()),
      settled.map((s) => JSON.stringify(storeMoney(s.money!))),
      slot,
    ],
  );
  // the readings used are frozen: they can no longer be replaced
  await statements.write(
    `meter_readings:freeze:${slot}:${meterIds.join(',')}`,
    `UPDATE meter_readings SET settled_at = $1 WHERE meter_id = ANY($2::uuid[]) AND slot_start = $3 AND settled_at IS NULL`,
    [now, meterIds, slot],
  );
  // a slot is settled whole, once: every trade in it was made before its gate closed. Trade slots
  // found confirmed in a slot already settled (only if the clock went back) are added to its totals,
  // not left confirmed for ever; what was settled before does not change
  const total = sumMoney(settled.map((s) => s.money!));
  await statements.write(
    `slot_settlements:${unit.zone}:${slot}`,
    `INSERT INTO slot_settlements (zone, slot_start, slot_minutes, settled_at, trades, settled_wh, buyers_pay,
       sellers_receive, grid_operator_receives, platform_receives)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (zone, slot_start) DO UPDATE SET trades = slot_settlements.trades + EXCLUDED.trades,
       settled_wh = slot_settlements.settled_wh + EXCLUDED.settled_wh,
       buyers_pay = slot_settlements.buyers_pay + EXCLUDED.buyers_pay,
       sellers_receive = slot_settlements.sellers_receive + EXCLUDED.sellers_receive,
       grid_operator_receives = slot_settlements.grid_operator_receives + EXCLUDED.grid_operator_receives,
       platform_receives = slot_settlements.platform_receives + EXCLUDED.platform_receives`,
    [
      unit.zone,
      slot,
      unit.slotMinutes,
      now,
      settled.length,
      settled.reduce((sum, s) => sum + s.settledWh!, 0n).toString(),
      total.buyerPays.toString(),
      total.sellerReceives.toString(),
      total.gridOperatorReceives.toString(),
      total.platformReceives.toString(),
    ],
  );

  // each party is told once its trade is settled (every slot settled or cancelled), with its own
  // view of the trade: one event a trade and party, not one a slot. Two nodes settling two slots of
  // one trade at once would each see the other's slot unsettled and neither tell: each takes its
  // trades' locks first (in id order), and the later one's read, a statement of its own taken once
  // it holds them, sees what the earlier one committed
  const swapIds = units.map((u) => u.swap.id).sort();
  await statements.read(
    `SELECT count(pg_advisory_xact_lock(hashtextextended('trade-settled:' || id::text, 0))) AS n
     FROM (SELECT unnest($1::uuid[]) AS id ORDER BY 1) ids`,
    [swapIds],
  );
  const all = await statements.read<TradeSlotRow>(
    `SELECT ${TRADE_SLOT_COLUMNS} FROM trade_slots WHERE swap_id = ANY($1::uuid[]) ORDER BY swap_id, slot_start`,
    [swapIds],
  );
  const slotsOf = groupBySwap(all.map(toTradeSlot));
  for (const u of units) {
    const slots = slotsOf.get(u.swap.id) ?? [];
    if (tradeStatus(slots) === 'settled')
      tx.emit(...tradeEvents('trade.settled', u.swap, tradeListingOf(u.row), slots));
  }
  return 'settled';
}

/** Today's rates of a swap's zones, for a swap that kept none (each side falls back to the listing's zone). */
function feeScheduleNow(profile: MarketProfile, swap: Swap, zone: Zone): FeeSchedule {
  const seller = profile.zone(swap.sellerZone ?? '') ?? zone;
  const buyer = profile.zone(swap.buyerZone ?? '') ?? zone;
  return {
    buyer: buyer.fees,
    seller: seller.fees,
    interZonePerKwhE4: seller.id === buyer.id ? undefined : profile.wheeling(seller.id, buyer.id),
  };
}

/** Trade slots by their swap. */
export function groupBySwap(slots: TradeSlot[]): Map<string, TradeSlot[]> {
  const by = new Map<string, TradeSlot[]>();
  for (const s of slots) {
    const list = by.get(s.swapId);
    if (list) list.push(s);
    else by.set(s.swapId, [s]);
  }
  return by;
}

/** The zone of each meter of the unit's trades, from the swaps (a swap keeps both meters' zones). */
function* meterZonesOf(units: { swap: Swap }[]): Generator<[string, string]> {
  for (const { swap } of units) {
    if (swap.sellerMeterId && swap.sellerZone) yield [swap.sellerMeterId, swap.sellerZone];
    if (swap.buyerMeterId && swap.buyerZone) yield [swap.buyerMeterId, swap.buyerZone];
  }
}

/** What a trade's view needs of its listing, from a row that read it with the `l_` columns. */
export const tradeListingOf = (r: TradeRow): TradeListing => ({
  energyType: r.l_energy_type as TradeListing['energyType'],
  zone: r.l_zone,
  deliveryStart: new Date(r.l_delivery_start),
  deliveryEnd: new Date(r.l_delivery_end),
  currency: r.l_currency,
  slotMinutes: r.l_slot_minutes,
});

/** A trade event to each party, each with the trade from its own side. */
export function tradeEvents(
  type: 'trade.settled' | 'trade.curtailed',
  swap: Swap,
  listing: TradeListing,
  slots: TradeSlot[],
): EventDraft[] {
  return [swap.buyerId, swap.sellerId].map((user) => ({
    type,
    data: tradeView(swap, listing, user, slots),
    users: [user],
  }));
}
