// The market profile: the zones the hub trades in and their rules, read from MARKET_CONFIG or the
// built-in default (PROTOCOL-MARKET.md, "Zones and their market profile", "Fees", "settlement").
// Decimals are read exactly into integer units; nothing here touches a float.
import { z } from 'zod';
import { formatUnits, KWH_SCALE, MAX_PRICE_E4, MAX_WH, PRICE_SCALE, parseDecimal } from '../quantity.js';
import { freeTextInput, zoneInput } from '../schemas.js';

/** The delivery slot lengths a zone may have, in minutes (5 is Australia's NEM interval). */
export const SLOT_MINUTES = [5, 15, 30, 60] as const;
export type SlotMinutes = (typeof SLOT_MINUTES)[number];
export const SETTLEMENT_METHODS = ['min_of_two', 'deviation'] as const;
export const ALLOCATIONS = ['pro_rata', 'fifo'] as const;
/** `capFactor` and `platformPercent` are exact at 4 decimals (1.0 % is 10000n). */
export const RATIO_SCALE = 4;
/** Longest gate lead and settlement delay: a week. */
const MAX_MINUTES = 7 * 24 * 60;

/** A zone's fees, prices per kWh in ten-thousandths (PROTOCOL-MARKET.md, "Fees"). */
export interface ZoneFees {
  wheelingBuyerPerKwhE4: bigint;
  wheelingSellerPerKwhE4: bigint;
  /** percent of the energy notional at RATIO_SCALE: 1.0 % is 10000n */
  platformPercentE4: bigint;
  platformCapPerKwhE4: bigint;
}

/** How a zone's slots are settled against meter readings. */
export interface ZoneSettlement {
  method: (typeof SETTLEMENT_METHODS)[number];
  allocation: (typeof ALLOCATIONS)[number];
  delayMinutes: number;
  shortPricePerKwhE4: bigint;
  longPricePerKwhE4: bigint;
}

/** One zone of the market with every field filled in, quantities in integer units. */
export interface Zone {
  id: string;
  name: string;
  /** IANA name of the zone's market time (what the dashboard shows) */
  timeZone: string;
  slotMinutes: SlotMinutes;
  gateLeadMinutes: number;
  minStepWh: bigint;
  priceTickE4: bigint;
  minPriceE4: bigint;
  maxPriceE4: bigint;
  /** share of a meter's capacity it may trade per slot, at RATIO_SCALE: 0.5 is 5000n */
  capFactorE4: bigint;
  fees: ZoneFees;
  settlement: ZoneSettlement;
}

/** A charge for energy leaving one zone for another, paid by the buyer. */
export interface WheelingLink {
  from: string;
  to: string;
  perKwhE4: bigint;
}

/** A parsed market configuration: zone ids and link ends spelled as configured. */
export interface MarketConfig {
  zones: Zone[];
  wheeling: WheelingLink[];
}

/** A decimal string read exactly into units at `scale`; the contract's decimals are strings. */
const decimalText = (scale: number, min: bigint, max: bigint, fallback: string) =>
  z
    .string({ error: `must be a decimal string such as "${fallback}"` })
    .transform((s, ctx) => {
      const r = parseDecimal(s, scale, { min, max });
      if (r.ok) return r.units;
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    })
    .prefault(fallback);

const price = (fallback: string) => decimalText(PRICE_SCALE, 0n, MAX_PRICE_E4, fallback);

const minutes = (max: number, fallback: number) =>
  z
    .number({ error: 'must be a whole number of minutes' })
    .int('must be a whole number of minutes')
    .min(0, 'must be at least 0')
    .max(max, `must be at most ${max}`)
    .default(fallback);

const timeZone = z
  .string()
  .transform((name, ctx) => {
    const canonical = ianaTimeZone(name);
    if (canonical) return canonical;
    ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone name such as "Europe/Berlin"' });
    return z.NEVER;
  })
  .prefault('UTC');

/** The name's canonical spelling when it is an IANA time zone ("europe/berlin" -> "Europe/Berlin"). */
function ianaTimeZone(name: string): string | undefined {
  // an offset ("+01:00") is not a zone with a name and its daylight saving time
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    // ICU resolves some links to another zone (EST -> America/Panama): keep the name as written then
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name;
  } catch {
    return undefined;
  }
}

const feesSchema = z
  .strictObject({
    wheelingBuyerPerKwh: price('0.0250'),
    wheelingSellerPerKwh: price('0.0300'),
    platformPercent: decimalText(RATIO_SCALE, 0n, 100n * 10n ** BigInt(RATIO_SCALE), '1.0'),
    platformCapPerKwh: price('0.0042'),
  })
  .prefault({})
  .transform(
    (f): ZoneFees => ({
      wheelingBuyerPerKwhE4: f.wheelingBuyerPerKwh,
      wheelingSellerPerKwhE4: f.wheelingSellerPerKwh,
      platformPercentE4: f.platformPercent,
      platformCapPerKwhE4: f.platformCapPerKwh,
    }),
  );

const settlementSchema = z
  .strictObject({
    method: z.enum(SETTLEMENT_METHODS).default('min_of_two'),
    allocation: z.enum(ALLOCATIONS).default('pro_rata'),
    delayMinutes: minutes(MAX_MINUTES, 120),
    shortPricePerKwh: price('0.3000'),
    longPricePerKwh: price('0.0500'),
  })
  .prefault({})
  .transform(
    (s): ZoneSettlement => ({
      method: s.method,
      allocation: s.allocation,
      delayMinutes: s.delayMinutes,
      shortPricePerKwhE4: s.shortPricePerKwh,
      longPricePerKwhE4: s.longPricePerKwh,
    }),
  );

const zoneSchema = z
  .strictObject({
    id: zoneInput,
    name: freeTextInput('line', { min: 1, max: 64, raw: 256 }).optional(),
    timeZone,
    slotMinutes: z
      .number({ error: 'must be one of 5, 15, 30, 60' })
      .refine((m): m is SlotMinutes => (SLOT_MINUTES as readonly number[]).includes(m), {
        message: 'must be one of 5, 15, 30, 60',
      })
      .default(60),
    gateLeadMinutes: minutes(MAX_MINUTES, 60),
    minStepKwh: decimalText(KWH_SCALE, 1n, MAX_WH, '0.001'),
    priceTick: decimalText(PRICE_SCALE, 1n, MAX_PRICE_E4, '0.0001'),
    minPrice: price('0.0000'),
    maxPrice: price('5.0000'),
    capFactor: decimalText(RATIO_SCALE, 1n, 10n ** BigInt(RATIO_SCALE), '0.5'),
    fees: feesSchema,
    settlement: settlementSchema,
  })
  .superRefine((zone, ctx) => {
    if (zone.maxPrice < zone.minPrice) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxPrice'],
        message: `must be at least minPrice (${formatUnits(zone.minPrice, PRICE_SCALE)})`,
      });
    }
  })
  .transform(
    (zone): Zone => ({
      id: zone.id,
      name: zone.name ?? zone.id,
      timeZone: zone.timeZone,
      slotMinutes: zone.slotMinutes as SlotMinutes,
      gateLeadMinutes: zone.gateLeadMinutes,
      minStepWh: zone.minStepKwh,
      priceTickE4: zone.priceTick,
      minPriceE4: zone.minPrice,
      maxPriceE4: zone.maxPrice,
      capFactorE4: zone.capFactor,
      fees: zone.fees,
      settlement: zone.settlement,
    }),
  );

/** `{zones: [zone], interZoneWheelingPerKwh: {"FROM->TO": "0.0200"}}`, checked whole. */
export const marketConfigSchema = z
  .strictObject({
    zones: z.array(zoneSchema).min(1, 'must name at least one zone'),
    interZoneWheelingPerKwh: z.record(z.string(), price('0.0000')).prefault({}),
  })
  .transform((cfg, ctx): MarketConfig => {
    const ids = new Map<string, string>();
    cfg.zones.forEach((zone, i) => {
      const seen = ids.get(zone.id.toLowerCase());
      if (seen === undefined) ids.set(zone.id.toLowerCase(), zone.id);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'id'],
          message: `repeats the zone id "${seen}" (ids are compared case-insensitively)`,
        });
      }
    });
    const wheeling: WheelingLink[] = [];
    const links = new Set<string>();
    for (const [key, perKwhE4] of Object.entries(cfg.interZoneWheelingPerKwh)) {
      const issue = (message: string) =>
        ctx.addIssue({ code: 'custom', path: ['interZoneWheelingPerKwh', key], message });
      const ends = key.split('->');
      if (ends.length !== 2) {
        issue('must be "FROM->TO", two zone ids');
        continue;
      }
      const [from, to] = ends.map((end) => ids.get(end.toLowerCase())) as [string?, string?];
      const unknown = ends.find((end) => !ids.has(end.toLowerCase()));
      if (unknown !== undefined || from === undefined || to === undefined) {
        issue(`names "${unknown}", which is not a configured zone`);
      } else if (from === to) issue('must name two different zones');
      else if (links.has(`${from}->${to}`.toLowerCase())) issue(`repeats "${from}->${to}"`);
      else {
        links.add(`${from}->${to}`.toLowerCase());
        wheeling.push({ from, to, perKwhE4 });
      }
    }
    return { zones: cfg.zones, wheeling };
  });

/** The zones of the market and the charges between them; zone ids are looked up case-insensitively. */
export class MarketProfile {
  readonly zones: readonly Zone[];
  readonly links: readonly WheelingLink[];
  readonly #zones = new Map<string, Zone>();
  readonly #links = new Map<string, bigint>();

  constructor(config: MarketConfig) {
    this.zones = config.zones;
    this.links = config.wheeling;
    for (const zone of config.zones) this.#zones.set(zone.id.toLowerCase(), zone);
    for (const l of config.wheeling) this.#links.set(linkKey(l.from, l.to), l.perKwhE4);
  }

  /** The zone of this id in any letter case; undefined when the market has none. */
  zone(id: string): Zone | undefined {
    return this.#zones.get(id.toLowerCase());
  }

  /**
   * A zone id as stored (the market's own spelling) for an id in any letter case, so filters find
   * what writes stored; one the market does not have stays as given (it then finds nothing).
   */
  zoneId(id: string): string {
    return this.zone(id)?.id ?? id;
  }

  /**
   * The inter-zone charge per kWh (ten-thousandths) for a seller in `fromZone` and a buyer in
   * `toZone`; undefined when none is configured, as within one zone (no inter-zone charge there).
   */
  wheeling(fromZone: string, toZone: string): bigint | undefined {
    return this.#links.get(linkKey(fromZone, toZone));
  }

  /** Every zone as GET /api/v1/zones shows it. */
  view(): ZoneView[] {
    return this.zones.map(zoneView);
  }
}

const linkKey = (from: string, to: string) => `${from.toLowerCase()}->${to.toLowerCase()}`;

/** A zone as the API shows it: every field filled in, decimals as strings. */
export interface ZoneView {
  id: string;
  name: string;
  timeZone: string;
  slotMinutes: SlotMinutes;
  gateLeadMinutes: number;
  minStepKwh: string;
  priceTick: string;
  minPrice: string;
  maxPrice: string;
  capFactor: string;
  fees: {
    wheelingBuyerPerKwh: string;
    wheelingSellerPerKwh: string;
    platformPercent: string;
    platformCapPerKwh: string;
  };
  settlement: {
    method: ZoneSettlement['method'];
    allocation: ZoneSettlement['allocation'];
    delayMinutes: number;
    shortPricePerKwh: string;
    longPricePerKwh: string;
  };
}

const price4 = (e4: bigint) => formatUnits(e4, PRICE_SCALE);

/** A ratio with the decimals it needs, at least one: 5000n -> "0.5", 10000n -> "1.0", 2500n -> "0.25". */
export function formatRatio(units: bigint): string {
  return formatUnits(units, RATIO_SCALE)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '.0');
}

export function zoneView(zone: Zone): ZoneView {
  const { fees, settlement } = zone;
  return {
    id: zone.id,
    name: zone.name,
    timeZone: zone.timeZone,
    slotMinutes: zone.slotMinutes,
    gateLeadMinutes: zone.gateLeadMinutes,
    minStepKwh: formatUnits(zone.minStepWh, KWH_SCALE),
    priceTick: price4(zone.priceTickE4),
    minPrice: price4(zone.minPriceE4),
    maxPrice: price4(zone.maxPriceE4),
    capFactor: formatRatio(zone.capFactorE4),
    fees: {
      wheelingBuyerPerKwh: price4(fees.wheelingBuyerPerKwhE4),
      wheelingSellerPerKwh: price4(fees.wheelingSellerPerKwhE4),
      platformPercent: formatRatio(fees.platformPercentE4),
      platformCapPerKwh: price4(fees.platformCapPerKwhE4),
    },
    settlement: {
      method: settlement.method,
      allocation: settlement.allocation,
      delayMinutes: settlement.delayMinutes,
      shortPricePerKwh: price4(settlement.shortPricePerKwhE4),
      longPricePerKwh: price4(settlement.longPricePerKwhE4),
    },
  };
}

/**
 * Reads a market configuration (the parsed JSON of a MARKET_CONFIG file) into a profile, or the
 * first problem as one line naming the field: `zones.1.slotMinutes: must be one of 5, 15, 30, 60`.
 */
export function parseMarketConfig(
  input: unknown,
): { ok: true; profile: MarketProfile } | { ok: false; message: string } {
  const parsed = marketConfigSchema.safeParse(input, { error: configMessage });
  if (parsed.success) return { ok: true, profile: new MarketProfile(parsed.data) };
  const issue = parsed.error.issues[0]!;
  const path = [...issue.path];
  // an unknown field is named by its own path, as a missing or bad one is
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
  const where = path.length ? `${path.map(String).join('.')}: ` : '';
  return { ok: false, message: `${where}${issue.message}`.replace(/\s*\n\s*/g, ' ') };
}

/** Messages of the issues no schema above words itself. */
function configMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${issue.expected === 'object' || issue.expected === 'array' ? 'an' : 'a'} ${issue.expected}`;
    case 'unrecognized_keys':
      return 'is not a field of the market configuration';
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    default:
      return undefined;
  }
}
