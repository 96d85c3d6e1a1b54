// The hub's refusals of a delivery window, in words, without a browser: told apart by the hub's
// message (web/src/field-messages.ts), the hub's own words when no better sentence fits.
import { describe, expect, test } from 'vitest';
import { deliverySentence } from '../../web/src/field-sentences.js';

const GRID = "must be on the zone's 60-minute grid (a multiple of 60 minutes from midnight UTC)";

describe('delivery refusals at the field', () => {
  test('off the grid says so, for either end; never "in the future"', () => {
    const start = deliverySentence('start', GRID);
    expect(start).toContain("must start on the zone's 60-minute grid");
    expect(start).not.toContain('future');
    expect(deliverySentence('end', GRID.replace(/60/g, '15'))).toContain(
      "must end on the zone's 15-minute grid",
    );
  });

  test('too soon, end before start, and anything else in the hub’s words', () => {
    expect(deliverySentence('start', 'must be in the future')).toBe(
      'Pick a delivery start in the future (must be in the future).',
    );
    expect(deliverySentence('start', 'must be more than 300 s from now (the gate closes then)')).toContain(
      'Pick a delivery start in the future',
    );
    expect(deliverySentence('end', 'must be after deliveryStart')).toBe(
      'The delivery must end after it starts.',
    );
    expect(deliverySentence('end', 'must be at most 96 slots of 15 minutes after deliveryStart')).toBe(
      'Delivery end: must be at most 96 slots of 15 minutes after deliveryStart.',
    );
  });
});
