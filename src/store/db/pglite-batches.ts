import type { PGlite } from '@electric-sql/pglite';

/**
 * Frontend messages of the extended query protocol that leave the session inside a batch: the
 * unnamed statement and portal they create live until the batch's Sync (or a simple Query).
 * Parse, Bind, Describe, Execute, Close, Flush.
 */
const IN_BATCH = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));

/**
 * PGlite as pglite-socket should see it when several connections share its one session: "in a
 * transaction" also from a connection's Parse to its Sync.
 *
 * pglite-socket queues the messages of all its connections and runs them one at a time on
 * PGlite's single session; while that session is in a transaction it takes only the messages of
 * the connection that began it. Between the messages of one extended-protocol batch outside a
 * transaction it takes anyone's, so two connections' batches interleave and the second Parse
 * replaces the first's unnamed statement: errors, or rows of the other query
 * (electric-sql/pglite#1046; test/hub/embedded-connections.test.ts shows it). Reporting "in a
 * transaction" until the batch's Sync gives a batch the same affinity, through the queue's own rule.
 */
export function batchesKeptWhole(db: PGlite): PGlite {
  let inBatch = false;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'isInTransaction') return () => inBatch || target.isInTransaction();
      if (prop === 'execProtocolRawStream') {
        return async (message: Uint8Array, options: Parameters<PGlite['execProtocolRawStream']>[1]) => {
          const type = message[0];
          try {
            return await target.execProtocolRawStream(message, options);
          } finally {
            inBatch = type !== undefined && IN_BATCH.has(type);
          }
        };
      }
      if (prop === 'exec') {
        // pglite-socket's own ROLLBACK for a connection that left mid-transaction (or mid-batch)
        return (query: string, options?: Parameters<PGlite['exec']>[1]) => {
          inBatch = false;
          return target.exec(query, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
