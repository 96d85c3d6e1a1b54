// Curtailment by the grid operator (PROTOCOL-MARKET.md, "Operators, readings and settlement"): in
// each slot of a window not yet started, the trades of a zone (or of one meter) keep a factor of
// their contracted volume. The input and its checks; the store applies it (src/store/settlement/).
import { z } from 'zod';
import { decimalInput, timeInput, zoneInput } from '../schemas.js';
import { validationFailed } from '../validation.js';
import { externalIdInput } from './meters.js';
import { onSlotGrid } from './slots.js';
import { type MarketProfile, RATIO_SCALE, type Zone } from './zones.js';

export const CURTAILMENT_REASONS = [
  'GRID_OUTAGE',
  'CONGESTION',
  'MAINTENANCE',
  'EMERGENCY',
  'OTHER',
] as const;
export type CurtailmentReason = (typeof CURTAILMENT_REASONS)[number];

/** Longest window one curtailment covers: 7 days. */
export const MAX_CURTAILMENT_MS = 7 * 24 * 3_600_000;

export const curtailmentInput = z.strictObject({
  zone: zoneInput,
  meterExternalId: externalIdInput.optional(),
  from: timeInput,
  to: timeInput,
  reason: z.enum(CURTAILMENT_REASONS),
  factor: decimalInput(RATIO_SCALE, 0n, 10n ** BigInt(RATIO_SCALE), '0.5').meta({
    description: "the share of each trade's contracted volume kept, 0 to 1 with at most 4 decimals",
  }),
});
export type CurtailmentInput = z.output<typeof curtailmentInput>;

/** A curtailment checked against the market: its zone, and its window on the zone's grid. */
export interface Curtailment {
  zone: Zone;
  meterExternalId?: string;
  from: Date;
  to: Date;
  reason: CurtailmentReason;
  /** RATIO_SCALE: 0.5 is 5000n */
  factorE4: bigint;
}

/**
 * The zone must be the market's; `from` and `to` on its grid, `to` after `from` and after `now` (a
 * window whose slots have all started can curtail nothing), at most 7 days. A window partly started
 * curtails its slots not yet started.
 */
export function checkCurtailment(profile: MarketProfile, input: CurtailmentInput, now: Date): Curtailment {
  const zone = profile.zone(input.zone);
  if (!zone)
    throw validationFailed([{ path: 'zone', message: 'is not a zone of this market (GET /api/v1/zones)' }]);
  const grid = `the zone's ${zone.slotMinutes}-minute grid`;
  const issues = (['from', 'to'] as const)
    .filter((end) => !onSlotGrid(input[end], zone.slotMinutes))
    .map((end) => ({ path: end, message: `must be on ${grid}` }));
  const span = input.to.getTime() - input.from.getTime();
  if (span <= 0) issues.push({ path: 'to', message: 'must be after from' });
  else if (span > MAX_CURTAILMENT_MS)
    issues.push({ path: 'to', message: 'must be at most 7 days after from' });
  else if (input.to.getTime() <= now.getTime())
    issues.push({ path: 'to', message: 'must be in the future: every slot of this window has started' });
  if (issues.length) throw validationFailed(issues);
  return {
    zone,
    meterExternalId: input.meterExternalId,
    from: input.from,
    to: input.to,
    reason: input.reason,
    factorE4: input.factor,
  };
}
