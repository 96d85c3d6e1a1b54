// Zod schemas of the protocol's inputs, shared by both edges (Socket.IO and REST).
import { z } from 'zod';
import { UNSAFE_NUMBER_MESSAGE, UnsafeNumber } from './json.js';
import { ENERGY_TYPES, SIDES } from './listing.js';
import { KWH_SCALE, MAX_PRICE_E4, MAX_WH, PRICE_SCALE, parseDecimal } from './quantity.js';
import { plainText, type TextKind, unstorableText } from './text.js';

/**
 * A string PostgreSQL can store as it is: no NUL, no unpaired surrogate. Every text input that
 * may reach SQL is built from this one (REST bodies, socket payloads; see docs/decisions.md).
 */
export const storableString = z.string().superRefine((s, ctx) => {
  const why = unstorableText(s);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/** A JSON number or decimal string, read exactly into integer units at `scale` within [min, max]. */
export const decimalInput = (scale: number, min: bigint, max: bigint, example: string) =>
  z
    .union([z.number(), z.string().max(40)], {
      // a JSON number of more than 15 significant digits was not rounded by the JSON reader
      error: (issue) => (issue.input instanceof UnsafeNumber ? UNSAFE_NUMBER_MESSAGE : undefined),
    })
    .transform((v, ctx) => {
      const r = parseDecimal(v, scale, { min, max });
      if (r.ok) return r.units;
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    })
    .meta({
      description: `a JSON number or decimal string with at most ${scale} decimals`,
      example,
    });

/** kWh > 0 with at most 3 decimals, as integer Wh. */
export const kwhInput = decimalInput(KWH_SCALE, 1n, MAX_WH, '12.5');
/** price per kWh >= 0 with at most 4 decimals, as integer ten-thousandths. */
export const priceInput = decimalInput(PRICE_SCALE, 0n, MAX_PRICE_E4, '0.12');

/**
 * The times an ISO-8601 output with a 4-digit year can show and PostgreSQL reads back as written
 * (it has no year 0: '0000-…' is refused when inlined as a literal); an offset may push an input
 * past them.
 */
export const FIRST_TIME = Date.parse('0001-01-01T00:00:00.000Z');
export const LAST_TIME = Date.parse('9999-12-31T23:59:59.999Z');

export const timeInput = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 time such as 2026-11-26T10:00:00.000Z' })
  .transform((s) => new Date(s))
  .refine(
    (d) => d.getTime() >= FIRST_TIME && d.getTime() <= LAST_TIME,
    'must be within the years 0001 to 9999 in UTC',
  );

export const zoneInput = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, _ or -');

/**
 * Free text by the one rule of `plainText` (src/domain/text.ts): refused with VALIDATION_FAILED
 * or stored as plain text of `min` to `max` characters; the input may be `raw` long with markup.
 */
export function freeTextInput(kind: TextKind, { min, max, raw }: { min: number; max: number; raw: number }) {
  return storableString
    .max(raw, `must be at most ${max} characters (${raw} with markup)`)
    .transform((s, ctx) => {
      const r = plainText(s, kind);
      if (r.ok) return r.text;
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    })
    .pipe(
      z
        .string()
        .min(min, 'must not be empty once markup is removed')
        .max(max, `must be at most ${max} characters`),
    );
}

/** A description or a note: plain text of at most 500 characters once markup is removed. */
export const plainTextInput = freeTextInput('lines', { min: 0, max: 500, raw: 2000 });

/** Largest event id: ids are PostgreSQL bigints. */
export const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

const EVENT_ID = /^\d{1,19}$/;

/** An event id as its decimal text (0 to 2^63-1), as PROTOCOL.md gives them. */
export const eventIdInput = z
  .string()
  .regex(EVENT_ID, 'must be an event id')
  .refine(
    (s) => !EVENT_ID.test(s) || BigInt(s) <= MAX_EVENT_ID,
    `must be an event id of at most ${MAX_EVENT_ID}`,
  );

/**
 * An id as given, in lower case: PostgreSQL compares uuids in any case, the hub's maps (a group
 * commit's locked swaps, the caches) by their text, so an id in upper case must read as the same id.
 */
const lowerUuid = (message: string) => z.uuid({ message }).overwrite((s) => s.toLowerCase());

export const requestIdInput = lowerUuid('must be a UUID');
export const uuidInput = lowerUuid('must be a UUID');

/** The meter a listing or proposal names (PROTOCOL-MARKET.md, "Meters and trading limits"). */
export const meterIdInput = lowerUuid('must be the id of one of your meters').meta({
  description: 'an active meter of yours (GET /api/v1/meters)',
});

export const listingFields = {
  side: z.enum(SIDES),
  energyType: z.enum(ENERGY_TYPES),
  volumeKwh: kwhInput,
  pricePerKwh: priceInput,
  deliveryStart: timeInput,
  deliveryEnd: timeInput,
  meterId: meterIdInput,
  /** the meter's zone; if given, it must be that zone */
  zone: zoneInput.optional(),
  allOrNone: z.boolean().optional(),
  description: plainTextInput.optional(),
};

export const createListingBody = z.strictObject(listingFields);
export type CreateListingInput = z.output<typeof createListingBody>;

export const createListingCommand = z.strictObject({ requestId: requestIdInput, ...listingFields });
export const cancelListingCommand = z.strictObject({ requestId: requestIdInput, listingId: uuidInput });

/** `listing:amend`: a new price, a new volume, or both (PROTOCOL.md, "v1.1 additions"). */
export const amendListingCommand = z
  .strictObject({
    requestId: requestIdInput,
    listingId: uuidInput,
    pricePerKwh: priceInput.optional(),
    volumeKwh: kwhInput.optional(),
  })
  .refine((a) => a.pricePerKwh !== undefined || a.volumeKwh !== undefined, {
    message: 'give pricePerKwh, volumeKwh or both',
  });

const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max);

export const feedFilterInput = z.strictObject({
  energyTypes: list(z.enum(ENERGY_TYPES), ENERGY_TYPES.length).optional(),
  zones: list(zoneInput, 20).optional(),
  side: z.enum(SIDES).optional(),
});
export type FeedFilter = z.output<typeof feedFilterInput>;

const round = z.number().int().min(1).max(1_000_000);
const terms = { volumeKwh: kwhInput, pricePerKwh: priceInput, note: plainTextInput.optional() };

export const proposeCommand = z.strictObject({
  requestId: requestIdInput,
  listingId: uuidInput,
  meterId: meterIdInput,
  ...terms,
});
export const counterCommand = z.strictObject({
  requestId: requestIdInput,
  swapId: uuidInput,
  round,
  ...terms,
});
export const answerCommand = z.strictObject({ requestId: requestIdInput, swapId: uuidInput, round });
export const withdrawCommand = z.strictObject({ requestId: requestIdInput, swapId: uuidInput });
