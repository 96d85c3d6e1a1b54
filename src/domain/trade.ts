import type { FeesView } from './energy/fees.js';
import {
  type SettlementView,
  settlementView,
  sumMoney,
  type TradeSlot,
  type TradeSlotStatus,
  type TradeSlotView,
  tradeSlotView,
  tradeStatus,
} from './energy/settlement.js';
import { type EnergyType, type Listing, slotShares } from './listing.js';
import { formatKwh, formatNotional, formatPrice } from './quantity.js';
import type { Swap } from './swap.js';

/** What a trade shows of its listing. */
export type TradeListing = Pick<
  Listing,
  'energyType' | 'zone' | 'deliveryStart' | 'deliveryEnd' | 'currency' | 'slotMinutes'
>;

/** An accepted swap from one party's side, as GET /api/v1/trades lists it. */
export interface TradeView {
  swapId: string;
  listingId: string;
  side: 'buy' | 'sell';
  counterpartyId: string;
  counterpartyName: string;
  energyType: EnergyType;
  zone: string;
  volumeKwh: string;
  pricePerKwh: string;
  notional: string;
  currency: string;
  deliveryStart: string;
  deliveryEnd: string;
  acceptedAt: string;
  sellerMeterId: string | null;
  buyerMeterId: string | null;
  /** null on trades from before fees; after a curtailment, the fees of the volume still contracted */
  fees: FeesView | null;
  status: TradeSlotStatus;
  slots: TradeSlotView[];
  /** the settled slots' money summed; null until one settles */
  settlement: SettlementView | null;
}

/**
 * The trade's slots as stored, or, for a trade from before meters (it has none stored), its
 * volume as the flat split of its window, never settled.
 */
function slotsOf(swap: Swap, listing: TradeListing, stored: TradeSlot[]): TradeSlot[] {
  if (stored.length) return [...stored].sort((x, y) => x.start.getTime() - y.start.getTime());
  return slotShares(listing, swap.volumeWh).map((share) => ({
    swapId: swap.id,
    start: share.start,
    volumeWh: share.wh,
    curtailedWh: 0n,
    sellerAllocatedWh: null,
    buyerAllocatedWh: null,
    settledWh: null,
    status: 'confirmed' as const,
    money: null,
  }));
}

export function tradeView(
  swap: Swap,
  listing: TradeListing,
  userId: string,
  stored: TradeSlot[] = [],
): TradeView {
  const buying = swap.buyerId === userId;
  const slots = slotsOf(swap, listing, stored);
  const settled = slots.flatMap((s) => (s.money ? [s.money] : []));
  return {
    swapId: swap.id,
    listingId: swap.listingId,
    side: buying ? 'buy' : 'sell',
    counterpartyId: buying ? swap.sellerId : swap.buyerId,
    // the initiator is the buyer of a supply listing and the seller of a demand one
    counterpartyName:
      (buying ? swap.sellerId : swap.buyerId) === swap.initiatorId ? swap.initiatorName : swap.recipientName,
    energyType: listing.energyType,
    zone: listing.zone,
    volumeKwh: formatKwh(swap.volumeWh),
    pricePerKwh: formatPrice(swap.priceE4),
    notional: formatNotional(swap.volumeWh, swap.priceE4),
    currency: listing.currency,
    deliveryStart: listing.deliveryStart.toISOString(),
    deliveryEnd: listing.deliveryEnd.toISOString(),
    acceptedAt: (swap.acceptedAt ?? swap.updatedAt).toISOString(),
    sellerMeterId: swap.sellerMeterId,
    buyerMeterId: swap.buyerMeterId,
    fees: swap.fees,
    status: tradeStatus(slots),
    slots: slots.map(tradeSlotView),
    settlement: settled.length ? settlementView(sumMoney(settled)) : null,
  };
}

/** The CSV's columns of a trade's fields that are text. */
const TRADE_COLUMNS = [
  'acceptedAt',
  'swapId',
  'listingId',
  'side',
  'counterpartyId',
  'counterpartyName',
  'energyType',
  'zone',
  'volumeKwh',
  'pricePerKwh',
  'notional',
  'currency',
  'deliveryStart',
  'deliveryEnd',
] as const satisfies (keyof TradeView)[];

/**
 * The CSV's money columns: your side's lines of the trade's fees (PROTOCOL-MARKET.md, "Fees"), and
 * what you pay (a buy) or receive (a sell). A seller pays no inter-zone charge (0.00); a trade
 * from before fees has these cells empty.
 */
const FEE_COLUMNS = [
  'energyNotional',
  'wheelingFee',
  'interZoneFee',
  'platformFee',
  'feesTotal',
  'netAmount',
] as const;

function feeCells(t: TradeView): Record<(typeof FEE_COLUMNS)[number], string> {
  const f = t.fees;
  if (!f)
    return {
      energyNotional: '',
      wheelingFee: '',
      interZoneFee: '',
      platformFee: '',
      feesTotal: '',
      netAmount: '',
    };
  const buy = t.side === 'buy';
  const mine = buy ? f.buyer : { ...f.seller, interZone: '0.00' };
  return {
    energyNotional: f.energyNotional,
    wheelingFee: mine.wheeling,
    interZoneFee: mine.interZone,
    platformFee: mine.platform,
    feesTotal: mine.total,
    netAmount: buy ? f.buyerPays : f.sellerReceives,
  };
}

/**
 * One CSV field (RFC 4180); text a spreadsheet would run as a formula is quoted as text. Only a
 * whole number is left as it is: `-1+1` or `-2+3+cmd|' /C calc'!A0` starts with a digit too.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvHeader = (): string => `${[...TRADE_COLUMNS, ...FEE_COLUMNS].join(',')}\r\n`;
export function csvRow(t: TradeView): string {
  const fees = feeCells(t);
  const cells = [...TRADE_COLUMNS.map((c) => t[c]), ...FEE_COLUMNS.map((c) => fees[c])];
  return `${cells.map(csvField).join(',')}\r\n`;
}
