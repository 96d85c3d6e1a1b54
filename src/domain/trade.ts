import type { EnergyType, Listing } from './listing.js';
import { formatKwh, formatNotional, formatPrice } from './quantity.js';
import type { Swap } from './swap.js';

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
}

export function tradeView(
  swap: Swap,
  listing: Pick<Listing, 'energyType' | 'zone' | 'deliveryStart' | 'deliveryEnd' | 'currency'>,
  userId: string,
): TradeView {
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
  };
}

export const TRADE_COLUMNS: (keyof TradeView)[] = [
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
];

/**
 * One CSV field (RFC 4180); text a spreadsheet would run as a formula is quoted as text. Only a
 * whole number is left as it is: `-1+1` or `-2+3+cmd|' /C calc'!A0` starts with a digit too.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvHeader = (): string => `${TRADE_COLUMNS.join(',')}\r\n`;
export const csvRow = (t: TradeView): string => `${TRADE_COLUMNS.map((c) => csvField(t[c])).join(',')}\r\n`;
