import { Op, QueryTypes, type Sequelize, Transaction, type WhereOptions } from 'sequelize';
import { otherSide } from '../../domain/energy/matching.js';
import type { EnergyType, Listing, ListingStatus, Side } from '../../domain/listing.js';
import { type ListingModel, models } from '../models/models.js';
import { camelColumns, LISTING_COLUMNS, type ListingRecord, toListing } from '../models/records.js';
import { keysetBefore, keysetPage } from './keyset.js';

/** The market filters of GET /api/v1/listings, parsed. */
export interface ListingFilter {
  side?: Side;
  energyTypes?: EnergyType[];
  zones?: string[];
  minPriceE4?: bigint;
  maxPriceE4?: bigint;
  minAvailableWh?: bigint;
  deliveryFrom?: Date;
  deliveryTo?: Date;
  ownerId?: string;
  statuses: ListingStatus[];
  limit: number;
  /** keyset position: the last item of the previous page */
  after?: { createdAt: Date; id: string };
}

/** `value` as the condition of a filter: equal to one, or one of several (`IN`). */
const oneOf = <T>(values: T[]) => (values.length === 1 ? values[0] : { [Op.in]: values });

/**
 * One page, newest first, keyed on (created_at, id): a page starts strictly after the previous
 * page's last row, so rows inserted meanwhile never repeat or shift what comes next. One
 * statement (several statuses of the market: one each, in one snapshot); its plans are in
 * docs/listing-queries.md.
 */
export async function findListings(
  sequelize: Sequelize,
  f: ListingFilter,
): Promise<{ items: Listing[]; more: boolean }> {
  // one owner's listings of any statuses are one range of listings_owner_idx already
  if (f.statuses.length > 1 && !f.ownerId) {
    // one snapshot for them all: a listing whose status changes meanwhile is in exactly one
    return sequelize.transaction(
      { isolationLevel: Transaction.ISOLATION_LEVELS.REPEATABLE_READ },
      (transaction) =>
        mergedPages(f, (status) => listingPage(sequelize, { ...f, statuses: [status] }, transaction)),
    );
  }
  return listingPage(sequelize, f);
}

async function listingPage(
  sequelize: Sequelize,
  f: ListingFilter,
  transaction?: Transaction,
): Promise<{ items: Listing[]; more: boolean }> {
  const where: WhereOptions<ListingModel>[] = [{ status: oneOf(f.statuses) }];
  if (f.side) where.push({ side: f.side });
  if (f.energyTypes?.length) where.push({ energyType: oneOf(f.energyTypes) });
  if (f.zones?.length) where.push({ zone: oneOf(f.zones) });
  if (f.minPriceE4 !== undefined) where.push({ priceE4: { [Op.gte]: f.minPriceE4.toString() } });
  if (f.maxPriceE4 !== undefined) where.push({ priceE4: { [Op.lte]: f.maxPriceE4.toString() } });
  if (f.minAvailableWh !== undefined) where.push({ availableWh: { [Op.gte]: f.minAvailableWh.toString() } });
  if (f.deliveryFrom) where.push({ deliveryEnd: { [Op.gt]: f.deliveryFrom } });
  if (f.deliveryTo) where.push({ deliveryStart: { [Op.lt]: f.deliveryTo } });
  if (f.ownerId) where.push({ ownerId: f.ownerId });
  if (f.after) where.push(keysetBefore(sequelize, 'created_at', f.after.createdAt, f.after.id));
  const { rows, more } = await keysetPage<ListingRecord>(models(sequelize).Listing, {
    where,
    orderBy: 'createdAt',
    limit: f.limit,
    transaction,
  });
  return { items: rows.map(toListing), more };
}

/**
 * Several statuses: a page of each, in turn, merged. Each is one range of an index ordered by
 * (created_at, id) within its status; `status IN (...)` in one statement is not (PostgreSQL 15 does
 * not merge one index scan per value in order), so it would read and sort every listing of those
 * statuses, which for historical ones grows without end.
 */
async function mergedPages(
  f: ListingFilter,
  pageOf: (status: ListingStatus) => Promise<{ items: Listing[]; more: boolean }>,
): Promise<{ items: Listing[]; more: boolean }> {
  const all: Listing[] = [];
  let more = false;
  for (const status of new Set(f.statuses)) {
    const page = await pageOf(status);
    all.push(...page.items);
    more ||= page.more;
  }
  // newest first, then the id descending, as PostgreSQL orders uuids (their lowercase hex text does the same)
  all.sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  return { items: all.slice(0, f.limit), more: more || all.length > f.limit };
}

export async function findListing(sequelize: Sequelize, id: string): Promise<Listing | undefined> {
  const row = (await models(sequelize).Listing.findByPk(id, { raw: true })) as ListingRecord | null;
  return row ? toListing(row) : undefined;
}

/**
 * The listings that could trade with `listing` in each of `zones` (PROTOCOL-MARKET.md, "Market data
 * and matching"): active and before their gate, with volume left and a meter, of another owner,
 * the other side and the same energy type, overlapping its delivery window; in each zone the
 * `perZone` best priced for its owner (the lowest supply, the highest demand), older first among
 * equal prices. Within a zone a better price is a better landed price, so these hold the best
 * `perZone` of all zones together (rankMatches orders them). One statement over listings_price_idx.
 */
export async function findMatchCandidates(
  sequelize: Sequelize,
  listing: Listing,
  zones: string[],
  now: Date,
  perZone: number,
): Promise<Listing[]> {
  const order = listing.side === 'demand' ? 'ASC' : 'DESC';
  const rows = await sequelize.query<ListingRecord>(
    `SELECT m.* FROM unnest($1::text[]) AS z(zone) CROSS JOIN LATERAL (
       SELECT ${camelColumns(LISTING_COLUMNS)} FROM listings l
       WHERE l.status = 'active' AND l.zone = z.zone AND l.energy_type = $2 AND l.side = $3
         AND l.owner_id <> $4 AND l.delivery_start < $5 AND l.delivery_end > $6 AND l.gate_closes_at > $7
         AND l.available_wh > 0 AND l.meter_id IS NOT NULL
       ORDER BY l.price_e4 ${order}, l.created_at, l.id LIMIT $8) m`,
    {
      bind: [
        zones,
        listing.energyType,
        otherSide(listing.side),
        listing.ownerId,
        listing.deliveryEnd,
        listing.deliveryStart,
        now,
        perZone,
      ],
      type: QueryTypes.SELECT,
    },
  );
  return rows.map(toListing);
}
