// What the database holds of a user's stream, for tests that compare what a client received.
import { QueryTypes } from 'sequelize';
import { expect } from 'vitest';
import { api } from './client.js';
import type { TestHub } from './hub.js';

/** Every event id addressed to `userId`, ascending, as the database has them. */
export async function userEventIds(node: TestHub, userId: string): Promise<string[]> {
  const rows = await node.hub.db!.sequelize.query<{ id: string }>(
    'SELECT id::text AS id FROM events WHERE user_a = $1 OR user_b = $1 ORDER BY events.id',
    { bind: [userId], type: QueryTypes.SELECT },
  );
  return rows.map((r) => r.id);
}

/**
 * Waits until the user's newest event is below the delivery horizon (GET /events lists it):
 * write transactions of other tests on the same server can hold the horizon back for a moment.
 */
export async function settled(node: TestHub, token: string, userId: string): Promise<void> {
  const newest = (await userEventIds(node, userId)).at(-1);
  await expect
    .poll(
      async () => (await api(node.url, 'GET', '/api/v1/events?limit=1000', { token })).body.items.at(-1)?.id,
    )
    .toBe(newest);
}
