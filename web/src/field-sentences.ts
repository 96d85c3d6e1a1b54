// Sentences for the hub's refusals that need more than the field's name: told apart by the hub's
// own message (the same field can be refused for different reasons). No DOM here, so the node
// tests read it directly.

/** The hub's own words as a sentence: "must be …" becomes "Delivery start: must be …." */
export const passThrough = (what: string, m: string) => `${what}: ${m}${/[.!?)]$/.test(m) ? '' : '.'}`;

/**
 * The delivery window's refusals, told apart by the hub's message: off the zone's slot grid, too
 * soon (the past, or inside the gate), the end before the start; otherwise the hub's own words.
 */
export function deliverySentence(end: 'start' | 'end', m: string): string {
  const grid = /(\d+)-minute grid/.exec(m);
  if (grid)
    return `The delivery must ${end} on the zone's ${grid[1]}-minute grid (${end === 'start' ? 'a start' : 'an end'} at a whole multiple of ${grid[1]} minutes from midnight UTC).`;
  if (end === 'start' && /future|from now|gate/.test(m)) return `Pick a delivery start in the future (${m}).`;
  if (end === 'end' && /after deliveryStart/.test(m) && !/slots/.test(m))
    return 'The delivery must end after it starts.';
  return passThrough(`Delivery ${end}`, m);
}

/** LIMIT_EXCEEDED in words; the amounts and the slot come formatted (kWh, market time). */
export function limitSentence(p: {
  /** "This trade", "This offer", "This listing" */
  what: string;
  /** "meter Roof PV (EAN…)", or "the other side's meter" */
  meter: string;
  direction?: 'export' | 'import';
  limit: string;
  slot: string;
  contracted: string;
  requested: string;
}): string {
  const limit = p.direction ? `${p.direction} limit` : 'trading limit';
  return `${p.what} would take ${p.meter} over its ${limit} of ${p.limit} in the slot starting ${p.slot} (${p.contracted} already contracted, ${p.requested} requested).`;
}

export const ZONE_MISMATCH_SENTENCE =
  "Your meter's zone cannot trade with this listing's zone: no wheeling is configured between them. Pick a meter in the listing's zone.";
