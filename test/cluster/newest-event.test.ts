// A connection without lastEventId starts at its user's newest event (PROTOCOL.md, "Socket.IO").
// Once node A knows a user, it answers from memory (src/gateway/newest-events.ts), kept current
// from its stream: events committed on node B, and events written while A read the log, must be
// in it. Two nodes on one PostgreSQL and Redis; A's /metrics counts where each answer came from.
import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready = (await postgresAvailable('newest event')) && (await redisAvailable('newest event'));
const METRICS_TOKEN = 'metrics-token-of-the-newest-event-test';

describe.skipIf(!ready)('sync without lastEventId on a node that knows the user', () => {
  const nodes = twoNodes({ a: { METRICS_TOKEN } });

  const lookups = async () => {
    const text = await (
      await fetch(`${nodes.a.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    const count = (from: string) =>
      Number(
        text.match(new RegExp(`^hub_newest_event_lookups_total\\{from="${from}"\\} (\\d+)`, 'm'))?.[1] ?? 0,
      );
    return { memory: count('memory'), log: count('log') };
  };
  const newestOf = async (userId: string) => {
    const [row] = await nodes.a.hub.db!.sequelize.query<{ id: string | null }>(
      'SELECT max(id)::text AS id FROM events WHERE user_a = $1 OR user_b = $1',
      { bind: [userId], type: QueryTypes.SELECT },
    );
    return row?.id ?? null;
  };

  test('names events committed on the other node since, and asks the log once', async () => {
    const owner = await trader(nodes.a.url, 'newest-owner', false);
    const listing = await owner.rest<{ id: string }>(
      'POST',
      '/api/v1/listings',
      listingInput({ meterId: owner.meterId }),
    );
    // sync names the newest event below the horizon: wait until the listing's is (another test's
    // transaction on the server may hold it back a while)
    await expect
      .poll(
        async () => (await owner.rest<{ items: unknown[] }>('GET', '/api/v1/events?limit=10')).items.length,
      )
      .toBe(1);
    const before = await lookups();

    // the owner's first socket on A: read from the log; A knows the owner from here on
    const tab = new HubClient(nodes.a.url, owner.session);
    const tabLog = recorder(tab);
    const first = await tab.connect();
    expect(first.lastEventId).toBe(await newestOf(owner.user.id));

    // events for the owner committed through B, which A hears of through its stream
    const proposer = await trader(nodes.b.url, 'newest-proposer');
    for (let i = 0; i < 3; i++) {
      const s = await proposer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
      await proposer.withdraw(s.id);
    }
    await expect.poll(() => tabLog.seen.length, { timeout: 10_000 }).toBe(6);
    const newest = await newestOf(owner.user.id);
    expect(tabLog.seen.at(-1)!.id).toBe(newest);

    // a second tab on A: the newest event from memory, the one B committed last
    const again = new HubClient(nodes.a.url, owner.session);
    const live = recorder(again);
    const sync = await again.connect();
    expect(sync).toEqual({ lastEventId: newest, replayed: 0, truncated: false });
    const after = await lookups();
    expect(after.log - before.log).toBe(1);
    expect(after.memory - before.memory).toBe(1);

    // and it is live from there: the next event arrives, nothing older does
    const s = await proposer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    expect((await live.next('swap.proposed')).data).toMatchObject({ id: s.id });
    expect(live.seen.map((e) => e.type)).toEqual(['swap.proposed']);
    for (const c of [tab, proposer, again]) c.close();
  });
});
