// A relay step on the wire between nodes (src/gateway/event-stream.ts): ids and times survive the
// trip, and the publishing node knows its own step by the text's start without decoding it.
import { describe, expect, test } from 'vitest';
import { decodeBatch, encodeBatch, ownStep } from '../../src/gateway/event-stream.js';
import type { RelayBatch } from '../../src/store/outbox/outbox-relay.js';

const batch: RelayBatch = {
  from: 10n,
  to: 9_223_372_036_854_775_807n,
  stale: true,
  events: [
    {
      id: 9_223_372_036_854_775_807n,
      type: 'swap.proposed',
      at: new Date('2026-11-30T05:00:00.123Z'),
      users: ['u1', 'u2'],
      data: { volumeKwh: '1.000' },
    },
  ],
} as RelayBatch;

describe('relay steps on the wire', () => {
  test('a step decodes as it was, with or without its origin', () => {
    expect(decodeBatch(encodeBatch(batch))).toEqual(batch);
    expect(decodeBatch(encodeBatch(batch, 'node-a'))).toEqual(batch);
    const { stale: _stale, ...current } = batch;
    expect(decodeBatch(encodeBatch(current as RelayBatch, 'node-a'))).toEqual(current);
  });

  test('a node knows its own steps, and only those', () => {
    const a = '3f1c2b9e-0000-4000-8000-000000000001';
    const text = encodeBatch(batch, a);
    expect(ownStep(text, a)).toBe(true);
    expect(ownStep(text, '3f1c2b9e-0000-4000-8000-000000000002')).toBe(false);
    // a name that begins another's is not it
    expect(ownStep(encodeBatch(batch, `${a}x`), a)).toBe(false);
    // a step of a node that names no origin (an older release) is another node's
    expect(ownStep(encodeBatch(batch), a)).toBe(false);
  });
});
