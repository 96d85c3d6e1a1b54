// The storm workload's setup and final checks: traders, the sellers' listings, the trader swarms'
// connections, and what the database says each trader should have received.
import { HubClient, type Session } from '../../../src/client/index.js';
import {
  type BenchTrader,
  listingInput,
  mapLimit,
  queryRows,
  registerTraders,
  type Swarm,
  sleep,
  syncClocks,
} from '../../harness.js';

/**
 * Registers the swarm traders (sellers first, with a meter and a listing each) and the senders,
 * over REST on `setupUrl` (the node directly); the senders' clients go to `url` (the balancer).
 */
export async function setupTraders(
  setupUrl: string,
  url: string,
  traders: number,
  sellers: number,
  senders: number,
) {
  const s = await registerTraders([setupUrl], sellers, 'storm-s');
  const others = await registerTraders([setupUrl], traders - sellers, 'storm-t', { meters: false });
  // registerTraders gives its clients one attempt per command; the senders get the bundled
  // client's own retries (3 attempts, 10 s ack timeout), as a trader would have
  const x = (await registerTraders([setupUrl], senders, 'storm-x')).map((c) =>
    Object.assign(new HubClient(url, c.session), { meterId: c.meterId }),
  );
  const listings = await mapLimit(s, 8, async (seller) => {
    const l = await seller.rest<{ id: string }>('POST', '/api/v1/listings', {
      ...listingInput('100000', seller.meterId),
      description: 'storm seller',
    });
    return l.id;
  });
  return { swarmTraders: [...s, ...others], senders: x, listings };
}

/** Connects the swarm traders at `rate` per second over the swarms (sellers spread over them). */
export async function connectSwarms(swarms: Swarm[], url: string, traders: BenchTrader[], rate: number) {
  const clocks = await syncClocks(swarms);
  // round-robin, so each swarm holds some sellers
  const parts: Session[][] = swarms.map(() => []);
  for (const [i, t] of traders.entries()) parts[i % swarms.length]!.push(t.session);
  const t0 = performance.now();
  const opened = await Promise.all(
    swarms.map((s, k) =>
      s.call<{ connected: number; failed: number; errors: Record<string, number> }>('connect', {
        url,
        sessions: parts[k],
        rate: rate / swarms.length,
      }),
    ),
  );
  const errors: Record<string, number> = {};
  for (const o of opened) for (const [e, n] of Object.entries(o.errors)) errors[e] = (errors[e] ?? 0) + n;
  return {
    clocks,
    connected: opened.reduce((a, o) => a + o.connected, 0),
    failed: opened.reduce((a, o) => a + o.failed, 0),
    errors,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
}

/** The newest event id in the database (0 when none). */
export async function newestEventId(dbUrl: string): Promise<string> {
  const [row] = await queryRows<{ id: string }>(dbUrl, 'SELECT coalesce(max(id), 0)::text AS id FROM events');
  return row!.id;
}

/**
 * Each swarm trader's own events (addressed to it, not the feed's listing.*) written after
 * `afterId`, from the database, checked against what its client received (live or replayed).
 */
export async function checkOwnEvents(dbUrl: string, swarms: Swarm[], afterId: string) {
  const rows = await queryRows<{ id: string; user_a: string | null; user_b: string | null }>(
    dbUrl,
    `SELECT id::text AS id, user_a, user_b FROM events WHERE id > $1 AND type NOT LIKE 'listing.%' ORDER BY events.id`,
    [afterId],
  );
  const expected: Record<string, string[]> = {};
  for (const r of rows) {
    for (const u of new Set([r.user_a, r.user_b])) {
      if (!u) continue;
      expected[u] ??= [];
      expected[u].push(r.id);
    }
  }
  const parts = await Promise.all(
    swarms.map((s) =>
      s.call<{ expected: number; missing: number; tradersMissing: number; examples: string[] }>('check', {
        expected,
      }),
    ),
  );
  return {
    eventsWritten: rows.length,
    expected: parts.reduce((a, p) => a + p.expected, 0),
    missing: parts.reduce((a, p) => a + p.missing, 0),
    tradersMissing: parts.reduce((a, p) => a + p.tradersMissing, 0),
    examples: parts.flatMap((p) => p.examples),
  };
}

/** One listing:create by `sender` with a unique description; how many traders got it on their feed. */
export async function probeFeed(sender: BenchTrader, swarms: Swarm[], traders: number) {
  const description = `probe ${Date.now()}`;
  await sender.createListing({ ...listingInput('1', sender.meterId), description });
  let seen = 0;
  for (let i = 0; i < 50 && seen < traders; i++) {
    await sleep(200);
    const parts = await Promise.all(swarms.map((s) => s.call<{ seen: number }>('probe', { description })));
    seen = parts.reduce((a, p) => a + p.seen, 0);
  }
  return seen;
}
