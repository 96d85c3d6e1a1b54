// How the bundled client comes back after losing its connection (docs/protocol.md, "Reconnecting"):
// jittered, so the traders of a node that dies or drains do not all arrive at the next one at once.
import type { HubClientError } from './errors.js';

/**
 * socket.io-client's reconnection after a transport failure (a node killed, a network drop): the
 * n-th attempt waits `delay * 2^(n-1)` spread evenly over +-100 % ("full jitter": the first
 * anywhere in 0 to 2 s), at most 10 s. 5,000 clients of a node that died reach the others over
 * about 2 s, not in one burst.
 */
export const RECONNECTION = {
  reconnectionDelay: 1000,
  randomizationFactor: 1,
  reconnectionDelayMax: 10_000,
} as const;

/** The longest wait after a refused handshake, whatever the hub asked. */
const MAX_REFUSAL_DELAY_MS = 30_000;

/**
 * Whether a handshake the hub refused is worth trying again by itself: a node shutting down or
 * momentarily unable (UNAVAILABLE, INTERNAL), too many sockets (RATE_LIMITED), or an expired access
 * token (refreshed first). A revoked login, a deleted account or a bad request are not.
 */
export function retryableRefusal(err: HubClientError): boolean {
  if (err.code === 'UNAUTHENTICATED') return err.details?.reason === 'expired';
  return err.code === 'UNAVAILABLE' || err.code === 'RATE_LIMITED' || err.code === 'INTERNAL';
}

/**
 * The wait before the `refusals`-th try after refused handshakes (1, 2, ...): at least what the hub
 * asked (`retryAfterMs`), plus a jittered backoff (0 to 1 s, then 0 to 2 s, ... up to 0 to 10 s).
 */
export function refusalDelayMs(
  err: HubClientError,
  refusals: number,
  random: () => number = Math.random,
): number {
  const asked = typeof err.details?.retryAfterMs === 'number' ? err.details.retryAfterMs : 0;
  const spread = Math.min(
    RECONNECTION.reconnectionDelayMax,
    RECONNECTION.reconnectionDelay * 2 ** (refusals - 1),
  );
  return Math.min(MAX_REFUSAL_DELAY_MS, Math.max(0, asked) + random() * spread);
}
