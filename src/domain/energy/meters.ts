// Meters: a trader's metering points and what each may trade in a delivery slot
// (PROTOCOL-MARKET.md, "Meters and trading limits"). Capacities are exact integer W (kW with 3
// decimals), limits exact integer Wh; nothing here touches a float.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HubError } from '../errors.js';
import { formatKwh, KWH_SCALE } from '../quantity.js';
import { decimalInput, freeTextInput, timeInput, zoneInput } from '../schemas.js';
import { type Issue, validationFailed } from '../validation.js';
import { onSlotGrid } from './slots.js';
import { type MarketProfile, RATIO_SCALE, type Zone } from './zones.js';

export const METER_STATUSES = ['active', 'retired'] as const;
export type MeterStatus = (typeof METER_STATUSES)[number];

/** Largest capacity of a meter either way: 1,000,000 kW (a large wind farm's grid connection), in W. */
export const MAX_CAPACITY_W = 1_000_000_000n;
/** Longest window GET /meters/:id/slots answers: 7 days. */
export const MAX_SLOTS_WINDOW_MS = 7 * 24 * 60 * 60_000;
const MINUTE_MS = 60_000;
/** An object's refinement runs only once its fields parsed: a field's own issue does not abort. */
const fieldsParsed = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/** A meter inside the hub: capacities in W. */
export interface Meter {
  id: string;
  ownerId: string;
  /** the metering point's id outside the hub (an EAN, an MPAN): registered once in the market */
  externalId: string;
  /** the zone's id as the market profile spells it */
  zone: string;
  exportCapacityW: bigint;
  importCapacityW: bigint;
  label: string;
  status: MeterStatus;
  createdAt: Date;
  retiredAt: Date | null;
}

/** A meter as the contract shows it: capacities in kW with 3 decimals. */
export interface MeterView {
  id: string;
  ownerId: string;
  externalId: string;
  zone: string;
  exportCapacityKw: string;
  importCapacityKw: string;
  label: string;
  status: MeterStatus;
  createdAt: string;
}

export function meterView(m: Meter): MeterView {
  return {
    id: m.id,
    ownerId: m.ownerId,
    externalId: m.externalId,
    zone: m.zone,
    // kW at 3 decimals is W, as kWh at 3 decimals is Wh
    exportCapacityKw: formatKwh(m.exportCapacityW),
    importCapacityKw: formatKwh(m.importCapacityW),
    label: m.label,
    status: m.status,
    createdAt: m.createdAt.toISOString(),
  };
}

export const externalIdInput = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 of the characters A-Z a-z 0-9 . _ : -')
  .meta({
    description: 'the metering point outside the hub, e.g. an EAN or MPAN',
    example: '871685900012345678',
  });

/** kW >= 0 with at most 3 decimals, as integer W. */
const capacityInput = decimalInput(KWH_SCALE, 0n, MAX_CAPACITY_W, '7.5').meta({
  description: 'kW, a JSON number or decimal string >= 0 with at most 3 decimals, at most 1000000',
  example: '7.5',
});

/** A meter's label: one line of plain text, at most 64 characters once markup is removed. */
export const meterLabelInput = freeTextInput('line', { min: 0, max: 64, raw: 256 });

/**
 * The body of POST /meters in a market: the zone must be one of the profile's (in any letter
 * case) and comes out in the profile's spelling; the capacities must not both be 0.
 */
export function meterInput(profile: MarketProfile) {
  return z
    .strictObject({
      externalId: externalIdInput,
      zone: zoneInput
        .transform((id, ctx) => {
          const zone = profile.zone(id);
          if (zone) return zone.id;
          ctx.addIssue({ code: 'custom', message: 'is not a zone of this market (GET /api/v1/zones)' });
          return z.NEVER;
        })
        .meta({ description: 'a zone of the market (GET /api/v1/zones), in any letter case' }),
      exportCapacityKw: capacityInput,
      importCapacityKw: capacityInput,
      label: meterLabelInput.optional(),
    })
    .superRefine((m, ctx) => {
      if (m.exportCapacityKw !== 0n || m.importCapacityKw !== 0n) return;
      // a meter that can trade nothing either way: both fields are at fault
      for (const [path, other] of [
        ['exportCapacityKw', 'importCapacityKw'],
        ['importCapacityKw', 'exportCapacityKw'],
      ] as const) {
        ctx.addIssue({ code: 'custom', path: [path], message: `must be above 0 when ${other} is 0` });
      }
    }, fieldsParsed);
}
export type MeterInput = z.output<ReturnType<typeof meterInput>>;

const RATIO_ONE = 10n ** BigInt(RATIO_SCALE);

/**
 * What a capacity of `capacityW` may trade in one slot of the zone, in Wh:
 * capacity x slotHours x capFactor, rounded down to the Wh (exact: W x minutes x capFactor at
 * RATIO_SCALE, divided once).
 */
export function slotLimitWh(capacityW: bigint, zone: { slotMinutes: number; capFactorE4: bigint }): bigint {
  return (capacityW * BigInt(zone.slotMinutes) * zone.capFactorE4) / (60n * RATIO_ONE);
}

/** Export and import in one slot, in Wh. */
export interface SlotVolumes {
  exportWh: bigint;
  importWh: bigint;
}

/** A meter's export and import limits in every slot of its zone. */
export const meterLimits = (
  m: Pick<Meter, 'exportCapacityW' | 'importCapacityW'>,
  zone: Pick<Zone, 'slotMinutes' | 'capFactorE4'>,
): SlotVolumes => ({
  exportWh: slotLimitWh(m.exportCapacityW, zone),
  importWh: slotLimitWh(m.importCapacityW, zone),
});

/** One slot of GET /meters/:id/slots. */
export interface MeterSlotView {
  start: string;
  exportLimitKwh: string;
  exportContractedKwh: string;
  importLimitKwh: string;
  importContractedKwh: string;
}

/** The query of GET /meters/:id/slots: `[from, to)`, at most 7 days; the grid is checked with the meter's zone. */
export const meterSlotsQuery = z
  .strictObject({
    from: timeInput.meta({ description: 'first slot start, on the zone grid' }),
    to: timeInput.meta({ description: 'end of the last slot, on the zone grid; at most 7 days after from' }),
  })
  .superRefine(({ from, to }, ctx) => {
    const span = to.getTime() - from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_SLOTS_WINDOW_MS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be at most 7 days after from' });
  }, fieldsParsed);

/**
 * Every slot of `zone`'s grid in `[from, to)` with the meter's limits and what is contracted
 * (`contracted`, by slot start in ms; a slot missing there has nothing contracted). A `from` or
 * `to` off the grid is VALIDATION_FAILED naming it.
 */
export function meterSlots(
  m: Pick<Meter, 'exportCapacityW' | 'importCapacityW'>,
  zone: Pick<Zone, 'slotMinutes' | 'capFactorE4'>,
  window: { from: Date; to: Date },
  contracted: ReadonlyMap<number, SlotVolumes> = new Map(),
): MeterSlotView[] {
  const grid = `the zone's ${zone.slotMinutes}-minute grid (a multiple of ${zone.slotMinutes} minutes from midnight UTC)`;
  const issues: Issue[] = (['from', 'to'] as const)
    .filter((end) => !onSlotGrid(window[end], zone.slotMinutes))
    .map((end) => ({ path: end, message: `must be on ${grid}` }));
  if (issues.length) throw validationFailed(issues);
  const limits = meterLimits(m, zone);
  const step = zone.slotMinutes * MINUTE_MS;
  const items: MeterSlotView[] = [];
  for (let t = window.from.getTime(); t < window.to.getTime(); t += step) {
    const used = contracted.get(t);
    items.push({
      start: new Date(t).toISOString(),
      exportLimitKwh: formatKwh(limits.exportWh),
      exportContractedKwh: formatKwh(used?.exportWh ?? 0n),
      importLimitKwh: formatKwh(limits.importWh),
      importContractedKwh: formatKwh(used?.importWh ?? 0n),
    });
  }
  return items;
}

/** What keeps a meter from retiring: active listings, open swaps (proposals), unsettled trades. */
export type MeterUseKind = 'listings' | 'swaps' | 'trades';

const IN_USE: Record<MeterUseKind, { what: string; reason: string }> = {
  listings: { what: 'active listings', reason: 'active_listings' },
  swaps: { what: 'open swaps', reason: 'open_swaps' },
  trades: { what: 'unsettled trades', reason: 'unsettled_trades' },
};

/** What meters need from storage; every read and write is of one owner's meters. */
export interface MeterStore {
  /**
   * stores a new meter: 'taken' (nothing stored) when its externalId is registered already, by
   * anyone; 'limit' when its owner has registered `max` meters already (retired ones too), counted
   * so that registrations racing on any nodes take turns
   */
  insertMeter(m: Meter, max: number): Promise<'stored' | 'taken' | 'limit'>;
  /** the owner's meters, retired ones too, in the order they were registered */
  ownMeters(ownerId: string): Promise<Meter[]>;
  ownMeter(ownerId: string, id: string): Promise<Meter | undefined>;
  /** any trader's meter (an operator reads them all) */
  anyMeter(id: string): Promise<Meter | undefined>;
  /**
   * Retires the owner's meter if it is active and in no active listing or unsettled trade (of two
   * retires racing, one wins); `retired` is the meter now retired, `inUse` says what keeps it
   * active, otherwise `current` is the meter as it is, if any.
   */
  retireMeter(
    ownerId: string,
    id: string,
    at: Date,
  ): Promise<{ retired: Meter } | { inUse: MeterUseKind } | { current?: Meter }>;
  /** the meter's contracted volumes in the slots of `[from, to)` that have any, by slot start in ms */
  contracted(meterId: string, from: Date, to: Date): Promise<Map<number, SlotVolumes>>;
}

const notFound = () => new HubError('NOT_FOUND', 'No such meter');

/**
 * The most meters a trader registers, retired ones too: GET /api/v1/meters lists them all in one
 * answer, so their number must be bounded (a site operator's fleet fits; a script's million does not).
 */
export const MAX_METERS_PER_TRADER = 1000;

/**
 * The meter routes' rules. A meter is its owner's: another trader's is NOT_FOUND, as one that does
 * not exist; an operator may read any (`get`).
 */
export class Meters {
  constructor(
    private readonly store: MeterStore,
    private readonly profile: MarketProfile,
  ) {}

  async register(ownerId: string, input: MeterInput, now = new Date()): Promise<MeterView> {
    const meter: Meter = {
      id: randomUUID(),
      ownerId,
      externalId: input.externalId,
      zone: input.zone,
      exportCapacityW: input.exportCapacityKw,
      importCapacityW: input.importCapacityKw,
      label: input.label ?? '',
      status: 'active',
      createdAt: now,
      retiredAt: null,
    };
    const stored = await this.store.insertMeter(meter, MAX_METERS_PER_TRADER);
    if (stored === 'taken')
      throw new HubError('CONFLICT', 'This externalId is already registered', { path: 'externalId' });
    if (stored === 'limit') {
      throw new HubError(
        'CONFLICT',
        `You have registered ${MAX_METERS_PER_TRADER} meters already (retired ones count)`,
        { max: MAX_METERS_PER_TRADER },
      );
    }
    return meterView(meter);
  }

  async list(ownerId: string): Promise<MeterView[]> {
    return (await this.store.ownMeters(ownerId)).map(meterView);
  }

  /** The meter to its owner, or to an operator (PROTOCOL-MARKET.md); another trader's is NOT_FOUND. */
  async get(userId: string, id: string, operator = false): Promise<MeterView> {
    if (!operator) return meterView(await this.own(userId, id));
    const meter = await this.store.anyMeter(id);
    if (!meter) throw notFound();
    return meterView(meter);
  }

  /** Retires an active meter: INVALID_STATE while it has active listings, open swaps or unsettled trades. */
  async retire(ownerId: string, id: string, now = new Date()): Promise<MeterView> {
    const r = await this.store.retireMeter(ownerId, id, now);
    if ('retired' in r) return meterView(r.retired);
    if ('inUse' in r) {
      const { what, reason } = IN_USE[r.inUse];
      throw new HubError('INVALID_STATE', `The meter has ${what}; it can be retired once it has none`, {
        status: 'active',
        reason,
      });
    }
    if (!r.current) throw notFound();
    throw new HubError('INVALID_STATE', `The meter is ${r.current.status}`, { status: r.current.status });
  }

  /** The meter's slots in `[from, to)` with its limits and what its trades contracted in each. */
  async slots(ownerId: string, id: string, window: { from: Date; to: Date }): Promise<MeterSlotView[]> {
    const meter = await this.own(ownerId, id);
    const zone = this.profile.zone(meter.zone);
    if (!zone) {
      // the hub was restarted with a MARKET_CONFIG that no longer has the meter's zone
      throw new HubError('INVALID_STATE', `The meter's zone ${meter.zone} is not in the market any more`, {
        zone: meter.zone,
      });
    }
    const items = meterSlots(meter, zone, window); // checks the grid before any read
    const contracted = await this.store.contracted(meter.id, window.from, window.to);
    return contracted.size ? meterSlots(meter, zone, window, contracted) : items;
  }

  private async own(ownerId: string, id: string): Promise<Meter> {
    const meter = await this.store.ownMeter(ownerId, id);
    if (!meter) throw notFound();
    return meter;
  }
}
