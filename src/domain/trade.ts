import type { FeesView } from './energy/fees.js';
import { type EnergyType, type Listing, type SlotView, slotViews } from './listing.js';
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
  /** null on trades from before fees */
  fees: FeesView | null;
  slots: SlotView[];
}

export function tradeView(swap: Swap, listing: TradeListing, userId: string): TradeView {
  const buying = swap.buyerId === userId;
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
    slots: slotViews(listing, swap.volumeWh),
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
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvHeader = (): string => `${[...TRADE_COLUMNS, ...FEE_COLUMNS].join(',')}\r\n`;
export function csvRow(t: TradeView): string {
  const fees = feeCells(t);
  const cells = [...TRADE_COLUMNS.map((c) => t[c]), ...FEE_COLUMNS.map((c) => fees[c])];
  return `${cells.map(csvField).join(',')}\r\n`;
}
