import { describe, expect, test } from 'vitest';
import { contextOf, parseTraceparent } from '../../src/telemetry/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent (W3C trace context)', () => {
  test('reads a valid traceparent', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0,
    });
    // only the sampled bit of the flags is kept
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.traceFlags).toBe(1);
    // a later version with the same layout is read as version 00
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE);
  });

  test.each([
    ['not a string', 42],
    ['undefined', undefined],
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['long span id', `00-${TRACE}-${SPAN}0-01`],
    ['one-digit version', `0-${TRACE}-${SPAN}-01`],
    ['three-digit flags', `00-${TRACE}-${SPAN}-001`],
    ['not hex', `00-${TRACE.replace('4', 'g')}-${SPAN}-01`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['trailing data', `00-${TRACE}-${SPAN}-01-extra`],
    ['surrounding spaces', ` 00-${TRACE}-${SPAN}-01`],
  ])('ignores %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  test('a context is made only of a valid traceparent', () => {
    expect(contextOf({ traceparent: 'nonsense' })).toBeUndefined();
    expect(contextOf(undefined)).toBeUndefined();
    expect(contextOf({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=x' })).toBeDefined();
    // a tracestate that cannot be read does not lose the traceparent
    expect(contextOf({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: '=,=,' })).toBeDefined();
  });
});
