// A trader's statement (PROTOCOL-MARKET.md, "Operators, readings and settlement"; docs/settlement.md,
// "Statements"): each settled trade slot from the trader's side, and the totals on settled quantities.
import { formatKwh, formatPrice } from '../quantity.js';
import { formatCents } from './money.js';
import type { TradeSlot } from './settlement.js';

/** A settled trade slot of a trader, with what a statement line needs of its swap and listing. */
export interface StatementSlot {
  slot: TradeSlot;
  side: 'buy' | 'sell';
  swapId: string;
  counterpartyName: string;
  zone: string;
  energyType: string;
  priceE4: bigint;
  currency: string;
}

/** One line: what the trader paid (a buy) or received (a sell) for one settled trade slot. */
export interface StatementLine {
  slotStart: string;
  swapId: string;
  side: 'buy' | 'sell';
  counterpartyName: string;
  zone: string;
  energyType: string;
  settledKwh: string;
  pricePerKwh: string;
  energy: string;
  /** the trader's own fee lines together (wheeling, inter-zone, platform) */
  fees: string;
  /** a seller's shortfall charge (positive) or a buyer's shortfall credit (negative) */
  deviation: string;
  /** what the buyer pays, or the seller receives, deviation included */
  amount: string;
  currency: string;
}

export interface StatementTotals {
  boughtKwh: string;
  soldKwh: string;
  paid: string;
  received: string;
  fees: string;
  deviations: string;
}

/** The statement of `slots` (all settled): its lines and totals, exact in cents. */
export function statement(slots: StatementSlot[]): { items: StatementLine[]; totals: StatementTotals } {
  let bought = 0n;
  let sold = 0n;
  let paid = 0n;
  let received = 0n;
  let fees = 0n;
  let deviations = 0n;
  const items = slots.map((s): StatementLine => {
    const m = s.slot.money!;
    const buy = s.side === 'buy';
    const settled = s.slot.settledWh ?? 0n;
    const myFees = buy ? m.buyer.total : m.seller.total;
    const myDeviation = buy ? -m.deviation.buyerCredit : m.deviation.sellerCharge;
    const amount = buy ? m.buyerPays : m.sellerReceives;
    if (buy) {
      bought += settled;
      paid += amount;
    } else {
      sold += settled;
      received += amount;
    }
    fees += myFees;
    deviations += myDeviation;
    return {
      slotStart: s.slot.start.toISOString(),
      swapId: s.swapId,
      side: s.side,
      counterpartyName: s.counterpartyName,
      zone: s.zone,
      energyType: s.energyType,
      settledKwh: formatKwh(settled),
      pricePerKwh: formatPrice(s.priceE4),
      energy: formatCents(m.energyNotional),
      fees: formatCents(myFees),
      deviation: formatCents(myDeviation),
      amount: formatCents(amount),
      currency: s.currency,
    };
  });
  return {
    items,
    totals: {
      boughtKwh: formatKwh(bought),
      soldKwh: formatKwh(sold),
      paid: formatCents(paid),
      received: formatCents(received),
      fees: formatCents(fees),
      deviations: formatCents(deviations),
    },
  };
}

export const STATEMENT_COLUMNS: (keyof StatementLine)[] = [
  'slotStart',
  'swapId',
  'side',
  'counterpartyName',
  'zone',
  'energyType',
  'settledKwh',
  'pricePerKwh',
  'energy',
  'fees',
  'deviation',
  'amount',
  'currency',
];
