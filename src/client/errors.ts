// The client's one error type. Its codes are the closed set of PROTOCOL.md (src/domain/errors.ts),
// imported as a type only: the table below is checked against it, so nothing of the domain is bundled.
import type { ErrorCode } from '../domain/errors.js';

export type { ErrorCode };

/** Every code of the protocol; a code added to or removed from `ErrorCode` fails to compile here. */
const CODES: Record<ErrorCode, true> = {
  VALIDATION_FAILED: true,
  UNAUTHENTICATED: true,
  FORBIDDEN: true,
  NOT_FOUND: true,
  CONFLICT: true,
  INVALID_STATE: true,
  NOT_YOUR_TURN: true,
  SELF_SWAP: true,
  INSUFFICIENT_VOLUME: true,
  LIMIT_EXCEEDED: true,
  ZONE_MISMATCH: true,
  RATE_LIMITED: true,
  UNAVAILABLE: true,
  INTERNAL: true,
};

export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.hasOwn(CODES, code);

/** An error answered by the hub, with the protocol's code. */
export class HubClientError extends Error {
  override name = 'HubClientError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A refused handshake: socket.io-client's `connect_error` carries the hub's error object as `data`
 * and its code as `message`. Anything without a protocol code (no hub refused it) is UNAVAILABLE.
 */
export function toClientError(err: Error): HubClientError {
  const data = (
    err as Error & { data?: { code?: unknown; message?: string; details?: Record<string, unknown> } }
  ).data;
  const code = isErrorCode(data?.code) ? data.code : isErrorCode(err.message) ? err.message : 'UNAVAILABLE';
  return new HubClientError(code, data?.message ?? err.message, data?.details);
}
