// Every listing the dashboard has seen, by id: the market, the negotiations and the trades all
// name listings they did not load themselves, so they share this one cache.
import type { Listing } from '../../src/client/index.js';
import type { DashboardClient } from './session.js';

/** Listings by id from wherever they were seen, newest version kept; fetched when unknown. */
export class ListingDirectory {
  private readonly known = new Map<string, Listing>();
  private readonly fetching = new Map<string, Promise<Listing | undefined>>();
  private readonly listeners = new Set<(l: Listing) => void>();

  constructor(private readonly client: DashboardClient) {}

  put(l: Listing): void {
    const cur = this.known.get(l.id);
    if (cur && cur.version >= l.version) return;
    this.known.set(l.id, l);
    for (const fn of this.listeners) fn(l);
  }

  peek(id: string): Listing | undefined {
    return this.known.get(id);
  }

  get(id: string): Promise<Listing | undefined> {
    const known = this.known.get(id);
    if (known) return Promise.resolve(known);
    let p = this.fetching.get(id);
    if (!p) {
      p = this.client
        .rest<Listing>('GET', `/api/v1/listings/${encodeURIComponent(id)}`)
        .then((l) => {
          this.put(l);
          return this.known.get(id);
        })
        .catch(() => undefined)
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, p);
    }
    return p;
  }

  onChange(fn: (l: Listing) => void): void {
    this.listeners.add(fn);
  }
}
