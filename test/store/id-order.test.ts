// Ids order numerically where a query hands them out as text. An event id is (transaction id << 16)
// + position, so ids gain a digit as the transaction counter grows (1,526 transactions reach
// 100,000,000): a query that selects `id::text AS id` and orders by the bare name `id` orders by
// that text ("100000000" before "99999999"), and its LIMIT takes the wrong rows. Each reader here
// runs over rows that straddle such a boundary on the real database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDispatchStore } from '../../src/store/notify/dispatch-store.js';
import { createTargetStore } from '../../src/store/notify/target-store.js';
import { readEventsById, readLogRange } from '../../src/store/outbox/event-log.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { trader } from '../support/traders.js';

const ready = await postgresAvailable('ids across a digit boundary');

/** a claim token no node holds: the round reads the events, not the target */
const NO_CLAIM = '00000000-0000-4000-8000-000000000000';

/** ids on both sides of 10^8, ascending */
const IDS = [99_999_998n, 99_999_999n, 100_000_000n, 100_000_001n];

describe.skipIf(!ready)('ids across a digit boundary order as numbers', () => {
  let node: TestHub;
  let userId: string;
  let targetId: string;
  const db = () => node.hub.db!;

  beforeAll(async () => {
    node = await startHub();
    const t = await trader(node.url, 'id-order', false);
    userId = t.user.id;
    t.close();
    // a disabled webhook (the dispatcher leaves it alone) with attempts and retries on those ids
    const [row] = await db().sql.rows<{ id: string }>(
      `INSERT INTO notify_targets (id, kind, user_id, events, status, url, secret, cursor, created_at, updated_at)
       VALUES (gen_random_uuid(), 'webhook', $1, '{swap.proposed}', 'disabled', 'https://example.test/h', 'whsec_x', 0, now(), now())
       RETURNING id::text AS id`,
      [userId],
    );
    targetId = row!.id;
    for (const id of IDS) {
      await db().sql.rows(
        `INSERT INTO events (id, type, at, user_a, data) VALUES ($1, 'swap.proposed', now(), $2, '{}'::jsonb)`,
        [id.toString(), userId],
      );
      await db().sql.rows(
        `INSERT INTO notify_retries (target_id, event_id, attempt, due_at) VALUES ($1, $2, 2, '2020-01-01T00:00:00Z')`,
        [targetId, id.toString()],
      );
    }
    // attempts whose own ids straddle the boundary, in order
    await db().sql.rows("SELECT setval('notify_attempts_id_seq', 99999997)");
    for (const id of IDS) {
      await db().sql.rows(
        `INSERT INTO notify_attempts (target_id, event_id, type, attempt, status, at) VALUES ($1, $2, 'swap.proposed', 1, 'delivered', now())`,
        [targetId, id.toString()],
      );
    }
  });
  afterAll(() => node?.stop());

  test('the relay stream reads a stretch of the log from its lowest id', async () => {
    const page = await readLogRange(db().sql, IDS[0]! - 1n, IDS[3]!, 2);
    expect(page.map((e) => e.id)).toEqual(IDS.slice(0, 2));
    const all = await readLogRange(db().sql, IDS[0]! - 1n, IDS[3]!, 10);
    expect(all.map((e) => e.id)).toEqual(IDS);
  });

  test('events read by id come ascending', async () => {
    const got = await readEventsById(db().sql, [IDS[3]!, IDS[0]!, IDS[2]!, IDS[1]!]);
    expect(got.map((e) => e.id)).toEqual(IDS);
  });

  test("a webhook's delivery log pages newest first", async () => {
    const store = createTargetStore(db().sequelize);
    const first = await store.attempts(targetId, 2);
    expect(first.items.map((a) => a.eventId)).toEqual([IDS[3], IDS[2]]);
    expect(first.more).toBe(true);
    const second = await store.attempts(targetId, 2, first.items.at(-1)!.id);
    expect(second.items.map((a) => a.eventId)).toEqual([IDS[1], IDS[0]]);
  });

  test("a webhook's round reads its user's events from its position, ascending", async () => {
    const store = createDispatchStore(db().notifySql);
    const round = await store.round(targetId, NO_CLAIM, userId, IDS[0]! - 1n, 3);
    expect(round.events.map((e) => e.id)).toEqual(IDS.slice(0, 3));
    const all = await store.round(targetId, NO_CLAIM, userId, IDS[0]! - 1n, 10);
    expect(all.events.map((e) => e.id)).toEqual(IDS);
  });

  test('retries due at the same moment go in event-id order', async () => {
    const due = await createDispatchStore(db().notifySql).dueRetries(targetId, 2);
    expect(due.map((r) => r.eventId)).toEqual(IDS.slice(0, 2));
  });
});
