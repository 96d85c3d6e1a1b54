// Catching up after a truncated replay (docs/protocol.md §8): the events missed beyond what the hub
// replayed are paged over REST while the live events are held, then the held ones follow.
import type { EventEnvelope } from '../gateway/protocol.js';
import { HubClientError } from './errors.js';
import { refusalDelayMs } from './reconnect.js';

/** Live events held at most while catching up; past it the connection is dropped and resumes. */
export const MAX_HELD_EVENTS = 10_000;

export interface CatchUpDeps {
  rest<T>(method: string, path: string): Promise<T>;
  /** false once this catch-up is no longer the connection's (dropped, closed, a newer sync) */
  current(): boolean;
  /** the live events held so far, in id order */
  held(): readonly EventEnvelope[];
  /** hands a paged event to the stream (repeats dropped) */
  deliver(e: EventEnvelope): void;
}

/**
 * Pages the user's events after `after` into the stream, up to the first live event held: from
 * there on the live stream has every event, market ones too (which the log over REST has not), so
 * the held ones follow in order. A page that fails (a 503, a 429, the network) is asked again after
 * a jittered wait while the catch-up is current. True once caught up; false once it is not current.
 */
export async function pageMissed(after: string, deps: CatchUpDeps): Promise<boolean> {
  for (let failures = 0; ; ) {
    let page: { items: EventEnvelope[]; hasMore: boolean };
    try {
      page = await deps.rest('GET', `/api/v1/events?after=${after}&limit=1000`);
    } catch (err) {
      const e = err instanceof HubClientError ? err : new HubClientError('UNAVAILABLE', String(err));
      await new Promise((resolve) => setTimeout(resolve, refusalDelayMs(e, ++failures)));
      if (!deps.current()) return false;
      continue;
    }
    if (!deps.current()) return false;
    failures = 0;
    const firstHeld = deps.held()[0];
    const until = firstHeld && BigInt(firstHeld.id);
    for (const e of page.items) {
      if (until !== undefined && BigInt(e.id) >= until) return true;
      deps.deliver(e);
    }
    if (!page.hasMore || page.items.length === 0) return true;
    after = page.items[page.items.length - 1]!.id;
  }
}
