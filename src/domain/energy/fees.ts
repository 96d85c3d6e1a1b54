// The fees of a swap's terms (PROTOCOL-MARKET.md, "Fees"): each line computed exactly, rounded once
// half-to-even to the cent; every total is a sum of rounded lines, so the flows balance to the cent.
import { NOTIONAL_SCALE } from '../quantity.js';
import { formatCents, roundHalfEven, toCents } from './money.js';
import { RATIO_SCALE, type ZoneFees } from './zones.js';

/** The terms and the zones' charges a swap's fees come from. */
export interface FeeTerms {
  volumeWh: bigint;
  /** energy price per kWh in ten-thousandths */
  priceE4: bigint;
  /** the fees of the buyer's meter's zone */
  buyer: ZoneFees;
  /** the fees of the seller's meter's zone */
  seller: ZoneFees;
  /** the inter-zone charge per kWh (ten-thousandths) from the seller's zone to the buyer's; none within a zone */
  interZonePerKwhE4?: bigint;
}

/** The money flows of a swap, each an amount `M`: cents inside the hub, text on the wire. */
export interface FeeLines<M> {
  energyNotional: M;
  buyer: { wheeling: M; interZone: M; platform: M; total: M };
  seller: { wheeling: M; platform: M; total: M };
  buyerPays: M;
  sellerReceives: M;
  gridOperatorReceives: M;
  platformReceives: M;
}

/** The money flows of a swap, in cents. */
export type Fees = FeeLines<bigint>;

/** A per-kWh charge on a volume: Wh x (per kWh x 10^4) is exact at 7 decimals. */
const perKwh = (volumeWh: bigint, perKwhE4: bigint): bigint => toCents(volumeWh * perKwhE4, NOTIONAL_SCALE);

/** 100 % at RATIO_SCALE: a percent of p units is the fraction p / PERCENT_WHOLE. */
const PERCENT_WHOLE = 100n * 10n ** BigInt(RATIO_SCALE);

/**
 * One side's platform fee: `platformPercent` of the energy notional, at most `platformCapPerKwh` x
 * volume. Both are compared exactly, at 7 + 6 decimals, and the smaller is rounded.
 */
function platformFee(notionalE7: bigint, volumeWh: bigint, fees: ZoneFees): bigint {
  const scale = NOTIONAL_SCALE + 2 + RATIO_SCALE; // a percent at RATIO_SCALE of an amount at 7 decimals
  return toCents(platformExact(notionalE7, volumeWh, fees), scale);
}

/**
 * `platformPercent` of `amount`, at most `platformCapPerKwh` x `volume` (in units whose x 10^4 is
 * `amount`'s unit), exactly: in `amount`'s units divided by PERCENT_WHOLE.
 */
function platformExact(amount: bigint, volume: bigint, fees: ZoneFees): bigint {
  const percent = amount * fees.platformPercentE4;
  const cap = volume * fees.platformCapPerKwhE4 * PERCENT_WHOLE;
  return percent < cap ? percent : cap;
}

/**
 * The price per kWh a side lands at, fees included (PROTOCOL-MARKET.md, "Market data and
 * matching"): a buyer pays the price plus their wheeling, the inter-zone charge and their platform
 * fee; a seller keeps the price less their wheeling and platform fee. Exact, in ten-thousandths
 * divided by PERCENT_WHOLE (`landedPriceE4` rounds it), so ranking by it never ties by rounding.
 */
export function landedExact(
  schedule: Omit<FeeTerms, 'volumeWh' | 'priceE4'>,
  priceE4: bigint,
  side: 'buyer' | 'seller',
) {
  if (side === 'buyer') {
    const charges = schedule.buyer.wheelingBuyerPerKwhE4 + (schedule.interZonePerKwhE4 ?? 0n);
    return (priceE4 + charges) * PERCENT_WHOLE + platformExact(priceE4, 1n, schedule.buyer);
  }
  return (
    (priceE4 - schedule.seller.wheelingSellerPerKwhE4) * PERCENT_WHOLE -
    platformExact(priceE4, 1n, schedule.seller)
  );
}

/** A landed price of `landedExact`, rounded half-to-even to the price's ten-thousandths. */
export const landedPriceE4 = (exact: bigint): bigint => roundHalfEven(exact, PERCENT_WHOLE);

/** The fees of a swap's terms; `buyerPays = sellerReceives + gridOperatorReceives + platformReceives` exactly. */
export function computeFees(terms: FeeTerms): Fees {
  const { volumeWh, priceE4 } = terms;
  const notionalE7 = volumeWh * priceE4;
  const energyNotional = toCents(notionalE7, NOTIONAL_SCALE);

  const bWheeling = perKwh(volumeWh, terms.buyer.wheelingBuyerPerKwhE4);
  const bInterZone = terms.interZonePerKwhE4 === undefined ? 0n : perKwh(volumeWh, terms.interZonePerKwhE4);
  const bPlatform = platformFee(notionalE7, volumeWh, terms.buyer);
  const sWheeling = perKwh(volumeWh, terms.seller.wheelingSellerPerKwhE4);
  const sPlatform = platformFee(notionalE7, volumeWh, terms.seller);

  const buyer = { wheeling: bWheeling, interZone: bInterZone, platform: bPlatform, total: 0n };
  buyer.total = bWheeling + bInterZone + bPlatform;
  const seller = { wheeling: sWheeling, platform: sPlatform, total: sWheeling + sPlatform };
  return {
    energyNotional,
    buyer,
    seller,
    buyerPays: energyNotional + buyer.total,
    sellerReceives: energyNotional - seller.total,
    // the inter-zone charge goes to the grid operator with both sides' wheeling
    gridOperatorReceives: bWheeling + bInterZone + sWheeling,
    platformReceives: bPlatform + sPlatform,
  };
}

/** Fees as the protocol shows them: every amount a string with 2 decimals. */
export type FeesView = FeeLines<string>;

export function feesView(fees: Fees): FeesView {
  const { buyer, seller } = fees;
  return {
    energyNotional: formatCents(fees.energyNotional),
    buyer: {
      wheeling: formatCents(buyer.wheeling),
      interZone: formatCents(buyer.interZone),
      platform: formatCents(buyer.platform),
      total: formatCents(buyer.total),
    },
    seller: {
      wheeling: formatCents(seller.wheeling),
      platform: formatCents(seller.platform),
      total: formatCents(seller.total),
    },
    buyerPays: formatCents(fees.buyerPays),
    sellerReceives: formatCents(fees.sellerReceives),
    gridOperatorReceives: formatCents(fees.gridOperatorReceives),
    platformReceives: formatCents(fees.platformReceives),
  };
}
