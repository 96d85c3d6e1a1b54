// The bundled client's reconnection policy (src/client/reconnect.ts): which refusals it retries, and
// how long it waits.
import { describe, expect, it } from 'vitest';
import { HubClientError } from '../../src/client/errors.js';
import { RECONNECTION, refusalDelayMs, retryableRefusal } from '../../src/client/reconnect.js';

const refusal = (code: string, details?: Record<string, unknown>) =>
  new HubClientError(code as HubClientError['code'], code, details);

describe('retryableRefusal', () => {
  it('retries a node shutting down, too many sockets, an internal error and an expired token', () => {
    for (const code of ['UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL'])
      expect(retryableRefusal(refusal(code))).toBe(true);
    expect(retryableRefusal(refusal('UNAUTHENTICATED', { reason: 'expired' }))).toBe(true);
  });
  it('does not retry a revoked login, a forbidden or a malformed handshake', () => {
    expect(retryableRefusal(refusal('UNAUTHENTICATED'))).toBe(false);
    expect(retryableRefusal(refusal('UNAUTHENTICATED', { reason: 'revoked' }))).toBe(false);
    expect(retryableRefusal(refusal('FORBIDDEN'))).toBe(false);
    expect(retryableRefusal(refusal('VALIDATION_FAILED'))).toBe(false);
  });
});

describe('refusalDelayMs', () => {
  it('waits at least what the hub asked, plus a jitter that doubles per refusal up to the cap', () => {
    const e = refusal('RATE_LIMITED', { retryAfterMs: 1000 });
    expect(refusalDelayMs(e, 1, () => 0)).toBe(1000);
    expect(refusalDelayMs(e, 1, () => 0.999)).toBeCloseTo(1000 + 999, 0);
    expect(refusalDelayMs(e, 3, () => 0.5)).toBe(1000 + 2000);
    expect(refusalDelayMs(e, 30, () => 1)).toBe(1000 + RECONNECTION.reconnectionDelayMax);
  });
  it('ignores a retryAfterMs that is not a number and caps a huge one', () => {
    expect(refusalDelayMs(refusal('UNAVAILABLE', { retryAfterMs: 'soon' }), 1, () => 0)).toBe(0);
    expect(refusalDelayMs(refusal('UNAVAILABLE', { retryAfterMs: 1e12 }), 1, () => 0)).toBe(30_000);
    expect(refusalDelayMs(refusal('UNAVAILABLE', { retryAfterMs: -5 }), 1, () => 0)).toBe(0);
  });
  it('spreads 5,000 clients evenly rather than in one burst', () => {
    const e = refusal('UNAVAILABLE');
    const waits = Array.from({ length: 5000 }, () => refusalDelayMs(e, 1));
    const perTenth = new Array(10).fill(0);
    for (const w of waits) perTenth[Math.min(9, Math.floor(w / 100))]++;
    // about 500 in each tenth of the first second; none of them holds most
    for (const n of perTenth) expect(n).toBeLessThan(800);
  });
});
