import type { Attributes } from 'sequelize';
import type { Meter } from '../../domain/energy/meters.js';
import { loadFeeSchedule, type StoredFeeSchedule } from '../../domain/energy/trading.js';
import type { Listing } from '../../domain/listing.js';
import type { Offer, Swap } from '../../domain/swap.js';
import type { ListingModel, MeterModel, OfferModel, SwapModel } from './models.js';

// Rows as the domain's values. One shape of row per table whoever reads it: the models' attributes
// (camelCase, bigint as text), which the command path's hand-written SELECTs give too, through
// `camelColumns`.

export type ListingRecord = Attributes<ListingModel>;
export type SwapRecord = Attributes<SwapModel>;
export type OfferRecord = Attributes<OfferModel>;
export type MeterRecord = Attributes<MeterModel>;

export const LISTING_COLUMNS = `id, owner_id, owner_name, side, energy_type, volume_wh, available_wh, price_e4, currency,
  delivery_start, delivery_end, zone, description, status, version, created_at, updated_at, meter_id, slot_minutes,
  all_or_none, gate_closes_at`;

export const SWAP_COLUMNS = `id, listing_id, initiator_id, initiator_name, recipient_id, recipient_name, buyer_id, seller_id, status, round,
  next_actor_id, volume_wh, price_e4, expires_at, accepted_at, close_reason, created_at, updated_at, seller_meter_id,
  buyer_meter_id, seller_zone, buyer_zone, fees, fee_schedule`;

export const METER_COLUMNS =
  'id, owner_id, external_id, zone, export_capacity_w, import_capacity_w, label, status, created_at, retired_at';

const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * A SELECT list of `columns` under their attribute names: `owner_id AS "ownerId"`; with `alias`,
 * the columns of that table of a join as `"l_ownerId"`, for `unprefixed`.
 */
export function camelColumns(columns: string, alias?: string): string {
  return columns
    .split(',')
    .map((c) => {
      const column = c.trim();
      return alias ? `${alias}.${column} AS "${alias}_${camel(column)}"` : `${column} AS "${camel(column)}"`;
    })
    .join(', ');
}

/** The record of `alias` out of a row read with `camelColumns(columns, alias)`. */
export function unprefixed<R>(row: Record<string, unknown>, alias: string): R {
  const out: Record<string, unknown> = {};
  const p = `${alias}_`;
  for (const k in row) if (k.startsWith(p)) out[k.slice(p.length)] = row[k];
  return out as R;
}

export function toListing(r: ListingRecord): Listing {
  return {
    id: r.id,
    ownerId: r.ownerId,
    ownerName: r.ownerName,
    side: r.side as Listing['side'],
    energyType: r.energyType as Listing['energyType'],
    volumeWh: BigInt(r.volumeWh),
    availableWh: BigInt(r.availableWh),
    priceE4: BigInt(r.priceE4),
    currency: r.currency,
    deliveryStart: new Date(r.deliveryStart),
    deliveryEnd: new Date(r.deliveryEnd),
    zone: r.zone,
    description: r.description,
    status: r.status as Listing['status'],
    version: r.version,
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
    meterId: r.meterId,
    slotMinutes: r.slotMinutes,
    allOrNone: r.allOrNone,
    gateClosesAt: new Date(r.gateClosesAt),
  };
}

export function toSwap(r: SwapRecord): Swap {
  return {
    id: r.id,
    listingId: r.listingId,
    initiatorId: r.initiatorId,
    initiatorName: r.initiatorName,
    recipientId: r.recipientId,
    recipientName: r.recipientName,
    buyerId: r.buyerId,
    sellerId: r.sellerId,
    status: r.status as Swap['status'],
    round: r.round,
    nextActorId: r.nextActorId,
    volumeWh: BigInt(r.volumeWh),
    priceE4: BigInt(r.priceE4),
    expiresAt: new Date(r.expiresAt),
    acceptedAt: r.acceptedAt ? new Date(r.acceptedAt) : null,
    closeReason: r.closeReason as Swap['closeReason'],
    createdAt: new Date(r.createdAt),
    updatedAt: new Date(r.updatedAt),
    sellerMeterId: r.sellerMeterId,
    buyerMeterId: r.buyerMeterId,
    sellerZone: r.sellerZone,
    buyerZone: r.buyerZone,
    fees: (r.fees ?? null) as Swap['fees'],
    feeSchedule: r.feeSchedule ? loadFeeSchedule(r.feeSchedule as StoredFeeSchedule) : null,
  };
}

export function toOffer(r: OfferRecord): Offer {
  return {
    swapId: r.swapId,
    round: r.round,
    authorId: r.authorId,
    volumeWh: BigInt(r.volumeWh),
    priceE4: BigInt(r.priceE4),
    note: r.note,
    createdAt: new Date(r.createdAt),
    fees: (r.fees ?? null) as Offer['fees'],
  };
}

export const toMeter = (r: MeterRecord): Meter => ({
  id: r.id,
  ownerId: r.ownerId,
  externalId: r.externalId,
  zone: r.zone,
  exportCapacityW: BigInt(r.exportCapacityW),
  importCapacityW: BigInt(r.importCapacityW),
  label: r.label,
  status: r.status as Meter['status'],
  createdAt: new Date(r.createdAt),
  retiredAt: r.retiredAt ? new Date(r.retiredAt) : null,
});
