// Settlement of trade slots against meter readings (PROTOCOL-MARKET.md, "Operators, readings and
// settlement"; docs/settlement.md): allocation of what a meter metered to its trades, the settled
// volume, and the money of each trade slot, exact in cents with flows that sum to zero. Pure.
import { formatKwh, NOTIONAL_SCALE } from '../quantity.js';
import { computeFees, type FeeLines } from './fees.js';
import { formatCents, toCents } from './money.js';
import { RATIO_SCALE, type ZoneFees, type ZoneSettlement } from './zones.js';

export const TRADE_SLOT_STATUSES = ['confirmed', 'settled', 'cancelled'] as const;
export type TradeSlotStatus = (typeof TRADE_SLOT_STATUSES)[number];

/** The money of a settled trade slot: the fee lines on the quantity paid for, and the deviation lines. */
export interface SlotMoney<M> extends FeeLines<M> {
  deviation: { sellerCharge: M; buyerCredit: M };
}

/** One trade's share of one slot. Quantities in Wh; the allocations and settlement once settled. */
export interface TradeSlot {
  swapId: string;
  start: Date;
  /** the share agreed at accept */
  volumeWh: bigint;
  curtailedWh: bigint;
  sellerAllocatedWh: bigint | null;
  buyerAllocatedWh: bigint | null;
  settledWh: bigint | null;
  status: TradeSlotStatus;
  /** in cents, once settled */
  money: SlotMoney<bigint> | null;
}

/** The smaller of two bigints (Math.min takes numbers only). */
const smaller = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export const contractedWh = (s: Pick<TradeSlot, 'volumeWh' | 'curtailedWh'>): bigint =>
  s.volumeWh - s.curtailedWh;

/** A trade slot as the contract shows it. */
export interface TradeSlotView {
  start: string;
  volumeKwh: string;
  curtailedKwh: string;
  contractedKwh: string;
  sellerAllocatedKwh: string | null;
  buyerAllocatedKwh: string | null;
  settledKwh: string | null;
  status: TradeSlotStatus;
}

const kwhOrNull = (wh: bigint | null) => (wh === null ? null : formatKwh(wh));

export const tradeSlotView = (s: TradeSlot): TradeSlotView => ({
  start: s.start.toISOString(),
  volumeKwh: formatKwh(s.volumeWh),
  curtailedKwh: formatKwh(s.curtailedWh),
  contractedKwh: formatKwh(contractedWh(s)),
  sellerAllocatedKwh: kwhOrNull(s.sellerAllocatedWh),
  buyerAllocatedKwh: kwhOrNull(s.buyerAllocatedWh),
  settledKwh: kwhOrNull(s.settledWh),
  status: s.status,
});

/** A trade's status from its slots: settled once every slot is settled or cancelled (and one settled). */
export function tradeStatus(slots: Pick<TradeSlot, 'status'>[]): TradeSlotStatus {
  if (slots.length === 0 || slots.some((s) => s.status === 'confirmed')) return 'confirmed';
  return slots.some((s) => s.status === 'settled') ? 'settled' : 'cancelled';
}

/** What curtailment at `factorE4` (RATIO_SCALE: 0.5 is 5000n) keeps of a contracted volume, rounded down to the Wh. */
export const curtailedKeepWh = (contracted: bigint, factorE4: bigint): bigint =>
  (contracted * factorE4) / 10n ** BigInt(RATIO_SCALE);

/** A trade of a meter in a slot, as allocation sees it. */
export interface AllocationClaim {
  key: string;
  contractedWh: bigint;
  /** fifo's order: earlier acceptance first, then the key */
  acceptedAt: Date;
}

/**
 * What `meteredWh` gives each trade of a meter in a slot. `pro_rata`: contracted x min(1, metered /
 * total contracted), in Wh, rounded down (exact: one division per trade). `fifo`: in order of
 * acceptance, each trade takes what is left up to its contracted volume. Never more than a trade's
 * contracted volume, never more than was metered in total.
 */
export function allocate(
  meteredWh: bigint,
  claims: AllocationClaim[],
  method: ZoneSettlement['allocation'],
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const total = claims.reduce((sum, c) => sum + c.contractedWh, 0n);
  if (method === 'pro_rata') {
    for (const c of claims) {
      out.set(
        c.key,
        meteredWh >= total ? c.contractedWh : total === 0n ? 0n : (c.contractedWh * meteredWh) / total,
      );
    }
    return out;
  }
  let left = meteredWh;
  const ordered = [...claims].sort(
    (x, y) => x.acceptedAt.getTime() - y.acceptedAt.getTime() || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0),
  );
  for (const c of ordered) {
    const take = smaller(c.contractedWh, left);
    out.set(c.key, take);
    left -= take;
  }
  return out;
}

/** What a trade slot settles with: its terms, its zones' fees and its zone's settlement rules. */
export interface SlotTerms {
  contractedWh: bigint;
  sellerAllocatedWh: bigint;
  buyerAllocatedWh: bigint;
  priceE4: bigint;
  buyerFees: ZoneFees;
  sellerFees: ZoneFees;
  interZonePerKwhE4?: bigint;
  settlement: ZoneSettlement;
}

const ZERO = { sellerCharge: 0n, buyerCredit: 0n };

/**
 * The settled volume (the smaller allocation) and the money of a trade slot. `min_of_two`: energy
 * and fees on the settled volume. `deviation`: energy and fees on the contracted volume; the seller
 * is charged its shortfall at the short price and the buyer credited its shortfall at the long price,
 * both to or from the grid operator. Every line is rounded once; `buyerPays = sellerReceives +
 * gridOperatorReceives + platformReceives` holds to the cent.
 */
export function settleSlot(t: SlotTerms): { settledWh: bigint; money: SlotMoney<bigint> } {
  const settledWh = smaller(t.sellerAllocatedWh, t.buyerAllocatedWh);
  const paidWh = t.settlement.method === 'min_of_two' ? settledWh : t.contractedWh;
  const fees = computeFees({
    volumeWh: paidWh,
    priceE4: t.priceE4,
    buyer: t.buyerFees,
    seller: t.sellerFees,
    interZonePerKwhE4: t.interZonePerKwhE4,
  });
  if (t.settlement.method === 'min_of_two') return { settledWh, money: { ...fees, deviation: ZERO } };
  const sellerCharge = toCents(
    (t.contractedWh - t.sellerAllocatedWh) * t.settlement.shortPricePerKwhE4,
    NOTIONAL_SCALE,
  );
  const buyerCredit = toCents(
    (t.contractedWh - t.buyerAllocatedWh) * t.settlement.longPricePerKwhE4,
    NOTIONAL_SCALE,
  );
  return {
    settledWh,
    money: {
      ...fees,
      buyerPays: fees.buyerPays - buyerCredit,
      sellerReceives: fees.sellerReceives - sellerCharge,
      gridOperatorReceives: fees.gridOperatorReceives + sellerCharge - buyerCredit,
      deviation: { sellerCharge, buyerCredit },
    },
  };
}

/** Lines summed: the settlement of several slots of a trade, or of a statement. */
export function sumMoney(all: SlotMoney<bigint>[]): SlotMoney<bigint> {
  const z = (): SlotMoney<bigint> => ({
    energyNotional: 0n,
    buyer: { wheeling: 0n, interZone: 0n, platform: 0n, total: 0n },
    seller: { wheeling: 0n, platform: 0n, total: 0n },
    buyerPays: 0n,
    sellerReceives: 0n,
    gridOperatorReceives: 0n,
    platformReceives: 0n,
    deviation: { sellerCharge: 0n, buyerCredit: 0n },
  });
  return all.reduce((s, m) => {
    s.energyNotional += m.energyNotional;
    s.buyer.wheeling += m.buyer.wheeling;
    s.buyer.interZone += m.buyer.interZone;
    s.buyer.platform += m.buyer.platform;
    s.buyer.total += m.buyer.total;
    s.seller.wheeling += m.seller.wheeling;
    s.seller.platform += m.seller.platform;
    s.seller.total += m.seller.total;
    s.buyerPays += m.buyerPays;
    s.sellerReceives += m.sellerReceives;
    s.gridOperatorReceives += m.gridOperatorReceives;
    s.platformReceives += m.platformReceives;
    s.deviation.sellerCharge += m.deviation.sellerCharge;
    s.deviation.buyerCredit += m.deviation.buyerCredit;
    return s;
  }, z());
}

/** A trade's `settlement` as the contract shows it. */
export interface SettlementView {
  energyNotional: string;
  buyerPays: string;
  sellerReceives: string;
  gridOperatorReceives: string;
  platformReceives: string;
  deviation: { sellerCharge: string; buyerCredit: string };
}

export const settlementView = (m: SlotMoney<bigint>): SettlementView => ({
  energyNotional: formatCents(m.energyNotional),
  buyerPays: formatCents(m.buyerPays),
  sellerReceives: formatCents(m.sellerReceives),
  gridOperatorReceives: formatCents(m.gridOperatorReceives),
  platformReceives: formatCents(m.platformReceives),
  deviation: {
    sellerCharge: formatCents(m.deviation.sellerCharge),
    buyerCredit: formatCents(m.deviation.buyerCredit),
  },
});

/** Slot money as stored (jsonb): every amount in cents as a decimal string. */
export type StoredMoney = SlotMoney<string>;

const mapMoney = <A, B>(m: SlotMoney<A>, f: (a: A) => B): SlotMoney<B> => ({
  energyNotional: f(m.energyNotional),
  buyer: {
    wheeling: f(m.buyer.wheeling),
    interZone: f(m.buyer.interZone),
    platform: f(m.buyer.platform),
    total: f(m.buyer.total),
  },
  seller: { wheeling: f(m.seller.wheeling), platform: f(m.seller.platform), total: f(m.seller.total) },
  buyerPays: f(m.buyerPays),
  sellerReceives: f(m.sellerReceives),
  gridOperatorReceives: f(m.gridOperatorReceives),
  platformReceives: f(m.platformReceives),
  deviation: { sellerCharge: f(m.deviation.sellerCharge), buyerCredit: f(m.deviation.buyerCredit) },
});

export const storeMoney = (m: SlotMoney<bigint>): StoredMoney => mapMoney(m, (c) => c.toString());
export const loadMoney = (m: StoredMoney): SlotMoney<bigint> => mapMoney(m, (c) => BigInt(c));
