// Errors of the database driver as protocol errors: an unreachable PostgreSQL, or a transaction it
// rolled back to break a deadlock, is UNAVAILABLE (nothing was committed, retry), anything else INTERNAL. Used by the gateway's acks and the HTTP envelope.
import { ConnectionError, TimeoutError } from 'sequelize';
import { HubError, isHubError } from '../../domain/errors.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  // the session's own limits (docs/delivery.md, "A node that stalls"): nothing was committed
  '57014', // statement_timeout
  '25P03', // idle_in_transaction_session_timeout
  '57P05', // idle_session_timeout
  // the transaction was rolled back to break a deadlock or a serialization conflict: retry
  '40P01',
  '40001',
  '08006',
  '08001',
]);

/** True when the error means PostgreSQL (or another part the hub needs) could not be reached. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  let e = err as { original?: unknown; parent?: unknown; code?: string; message?: string } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
    if (
      e.message &&
      /Connection terminated|not queryable|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end/.test(
        e.message,
      )
    ) {
      return true;
    }
    e = (e.original ?? e.parent) as typeof e;
  }
  return false;
}

/** UNAVAILABLE as the contract has it: the database could not be reached, nothing was committed. */
export const nothingCommitted = () =>
  new HubError('UNAVAILABLE', 'The hub cannot reach its database; nothing was committed; retry later');

/**
 * Any error as a protocol error: HubErrors pass, an unreachable database is UNAVAILABLE, anything
 * else is INTERNAL (callers log the original; its text never reaches a client).
 */
export function toHubError(err: unknown): HubError {
  if (isHubError(err)) return err;
  if (isUnavailable(err)) return nothingCommitted();
  return new HubError('INTERNAL', 'Internal error');
}
