// Zod schemas shared by REST routes; they validate requests and generate /openapi.json.
import { z } from 'zod';
import { METER_STATUSES } from '../domain/energy/meters.js';
import { ALLOCATIONS, SETTLEMENT_METHODS } from '../domain/energy/zones.js';
import { ERROR_STATUS, type ErrorCode } from '../domain/errors.js';
import { ENERGY_TYPES, LISTING_STATUSES, SIDES } from '../domain/listing.js';
import { freeTextInput, requestIdInput, storableString, timeInput, uuidInput } from '../domain/schemas.js';
import { SWAP_STATUSES } from '../domain/swap.js';
import { validationFailed } from '../domain/validation.js';

export const errorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error responses a route can give, by status, all with the one envelope. */
export function errors(...statuses: number[]): Record<number, typeof errorEnvelope> {
  return Object.fromEntries(statuses.map((s) => [s, errorEnvelope]));
}

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    createdAt: z.iso.datetime(),
    roles: z.array(z.enum(['trader', 'operator'])).meta({
      description: '["trader"], or ["trader", "operator"] for an email of OPERATOR_EMAILS (checked now)',
    }),
  })
  .meta({ id: 'User' });

export const sessionSchema = z
  .object({
    user: userSchema,
    accessToken: z.string(),
    refreshToken: z.string(),
    accessExpiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Session' });

export const emailSchema = storableString
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }));
/** A new password; not stored as text, but an unpaired surrogate would be hashed as U+FFFD, so refused too. */
export const passwordSchema = storableString
  .min(10, 'must be at least 10 characters')
  .max(128, 'must be at most 128 characters')
  .meta({
    description:
      '10 to 128 characters, and not guessable: a password the zxcvbn estimator scores below 3 ' +
      '(repeated or sequential characters, common and breached passwords, the email or display ' +
      'name) is 400 VALIDATION_FAILED with an issue at `password` saying why',
  });

const kwhText = z.string().meta({ example: '12.500' });
const priceText = z.string().meta({ example: '0.1200' });
const money = z.string().meta({ example: '12.34' });

/** One slot's share of a volume (PROTOCOL-MARKET.md, "Zones and their market profile"). */
export const slotSchema = z.object({ start: z.iso.datetime(), volumeKwh: kwhText }).meta({ id: 'Slot' });

/** The money flows of a swap's terms (PROTOCOL-MARKET.md, "Fees"), each with 2 decimals. */
export const feesSchema = z
  .object({
    energyNotional: money,
    buyer: z.object({ wheeling: money, interZone: money, platform: money, total: money }),
    seller: z.object({ wheeling: money, platform: money, total: money }),
    buyerPays: money,
    sellerReceives: money,
    gridOperatorReceives: money,
    platformReceives: money,
  })
  .meta({ id: 'Fees' });

export const listingSchema = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid(),
    ownerName: z.string(),
    side: z.enum(SIDES),
    energyType: z.enum(ENERGY_TYPES),
    volumeKwh: kwhText,
    availableKwh: kwhText,
    pricePerKwh: priceText,
    currency: z.string(),
    deliveryStart: z.iso.datetime(),
    deliveryEnd: z.iso.datetime(),
    zone: z.string(),
    description: z.string(),
    status: z.enum(LISTING_STATUSES),
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    allOrNone: z.boolean(),
    slots: z.array(slotSchema),
    meterId: z.uuid().optional().meta({ description: 'shown to the owner only' }),
  })
  .meta({ id: 'Listing' });

/** A page of items and the cursor of the next page (null at the end). */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** A comma-separated query value: "solar,wind". */
export const commaList = <T extends z.ZodType<unknown, string>>(item: T, max: number) =>
  z
    .string()
    .max(1000)
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(item).min(1).max(max));

/** A whole number in a query string within bounds. */
export const queryInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? fallback);

/** An opaque keyset cursor: base64url of a JSON array. */
export const cursorParam = z.string().max(512);

export function encodeCursor(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor, checking its shape; undefined when it is not one. */
export function decodeCursor<T>(raw: string, shape: z.ZodType<T>): T | undefined {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const keyset = z.tuple([timeInput, z.uuid()]);

/** A page's position in a list newest first, as a cursor this API gave: VALIDATION_FAILED otherwise. */
export function timeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const c = decodeCursor(cursor, keyset);
  if (!c) throw validationFailed([{ path: 'cursor', message: 'is not a cursor this API gave' }]);
  return { at: c[0], id: c[1] };
}

/** The cursor of the page after `last`, or null at the end. */
export const nextTimeCursor = (more: boolean, last: { at: Date; id: string } | undefined): string | null =>
  more && last ? encodeCursor([last.at.toISOString(), last.id]) : null;

/** A person's name as others see it: one line of plain text, 1 to 64 characters (the rule of src/domain/text.ts). */
export const displayNameSchema = freeTextInput('line', { min: 1, max: 64, raw: 256 });

export const idempotencyHeaders = z.object({
  'idempotency-key': requestIdInput.optional(),
});

export const idParams = z.strictObject({ id: uuidInput });

export const swapSchema = z
  .object({
    id: z.uuid(),
    listingId: z.uuid(),
    initiatorId: z.uuid(),
    initiatorName: z.string(),
    recipientId: z.uuid(),
    recipientName: z.string(),
    buyerId: z.uuid(),
    sellerId: z.uuid(),
    status: z.enum(SWAP_STATUSES),
    round: z.number().int(),
    nextActorId: z.uuid().nullable(),
    volumeKwh: kwhText,
    pricePerKwh: priceText,
    expiresAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    sellerMeterId: z.uuid().nullable(),
    buyerMeterId: z.uuid().nullable(),
    fees: feesSchema.nullable().meta({ description: 'null on swaps from before fees' }),
    acceptedAt: z.iso.datetime().optional(),
    notional: z.string().optional().meta({ example: '5.6000000' }),
    reason: z
      .enum([
        'listing_filled',
        'listing_cancelled',
        'listing_expired',
        'insufficient_volume',
        'listing_amended',
      ])
      .optional(),
  })
  .meta({ id: 'Swap' });

export const offerSchema = z
  .object({
    round: z.number().int(),
    authorId: z.uuid(),
    volumeKwh: kwhText,
    pricePerKwh: priceText,
    note: z.string(),
    createdAt: z.iso.datetime(),
    fees: feesSchema.nullable(),
  })
  .meta({ id: 'Offer' });

/** One slot of a trade (PROTOCOL-MARKET.md, "Operators, readings and settlement"). */
export const tradeSlotSchema = z
  .object({
    start: z.iso.datetime(),
    volumeKwh: kwhText,
    curtailedKwh: kwhText,
    contractedKwh: kwhText,
    sellerAllocatedKwh: kwhText.nullable(),
    buyerAllocatedKwh: kwhText.nullable(),
    settledKwh: kwhText.nullable(),
    status: z.enum(['confirmed', 'settled', 'cancelled']),
  })
  .meta({ id: 'TradeSlot' });

/** A trade's settlement: money on settled quantities, the deviation lines included. */
export const settlementSchema = z
  .object({
    energyNotional: money,
    buyerPays: money,
    sellerReceives: money,
    gridOperatorReceives: money,
    platformReceives: money,
    deviation: z.object({ sellerCharge: money, buyerCredit: money }),
  })
  .meta({ id: 'Settlement' });

export const tradeSchema = z
  .object({
    swapId: z.uuid(),
    listingId: z.uuid(),
    side: z.enum(['buy', 'sell']),
    counterpartyId: z.uuid(),
    counterpartyName: z.string(),
    energyType: z.enum(ENERGY_TYPES),
    zone: z.string(),
    volumeKwh: kwhText,
    pricePerKwh: priceText,
    notional: z.string(),
    currency: z.string(),
    deliveryStart: z.iso.datetime(),
    deliveryEnd: z.iso.datetime(),
    acceptedAt: z.iso.datetime(),
    sellerMeterId: z.uuid().nullable(),
    buyerMeterId: z.uuid().nullable(),
    fees: feesSchema.nullable(),
    status: z.enum(['confirmed', 'settled', 'cancelled']),
    slots: z.array(tradeSlotSchema),
    settlement: settlementSchema
      .nullable()
      .meta({ description: 'the settled slots summed; null until one settles' }),
  })
  .meta({ id: 'Trade' });

const perKwhText = z.string().meta({ example: '0.0250' });

/** A zone of the market with every field filled in (PROTOCOL-MARKET.md, "Zones and their market profile"). */
export const zoneSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    timeZone: z.string().meta({ description: 'IANA name of the market time', example: 'Europe/Berlin' }),
    slotMinutes: z.union([z.literal(5), z.literal(15), z.literal(30), z.literal(60)]),
    gateLeadMinutes: z.number().int(),
    minStepKwh: kwhText.meta({ example: '0.001' }),
    priceTick: priceText.meta({ example: '0.0001' }),
    minPrice: priceText,
    maxPrice: priceText,
    capFactor: z.string().meta({ example: '0.5' }),
    fees: z.object({
      wheelingBuyerPerKwh: perKwhText,
      wheelingSellerPerKwh: perKwhText,
      platformPercent: z.string().meta({ example: '1.0' }),
      platformCapPerKwh: perKwhText,
    }),
    settlement: z.object({
      method: z.enum(SETTLEMENT_METHODS),
      allocation: z.enum(ALLOCATIONS),
      delayMinutes: z.number().int(),
      shortPricePerKwh: perKwhText,
      longPricePerKwh: perKwhText,
    }),
  })
  .meta({ id: 'Zone' });

/** A trader's meter (PROTOCOL-MARKET.md, "Meters and trading limits"). */
export const meterSchema = z
  .object({
    id: z.uuid(),
    ownerId: z.uuid(),
    externalId: z.string().meta({ example: '871685900012345678' }),
    zone: z.string(),
    exportCapacityKw: z.string().meta({ example: '7.500' }),
    importCapacityKw: z.string().meta({ example: '11.000' }),
    label: z.string(),
    status: z.enum(METER_STATUSES),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Meter' });

/** One delivery slot of a meter: its limits and what is contracted, each way. */
export const meterSlotSchema = z
  .object({
    start: z.iso.datetime(),
    exportLimitKwh: kwhText,
    exportContractedKwh: kwhText,
    importLimitKwh: kwhText,
    importContractedKwh: kwhText,
  })
  .meta({ id: 'MeterSlot' });
