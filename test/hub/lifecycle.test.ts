import { QueryTypes } from 'sequelize';
import { describe, expect, test } from 'vitest';
import { startHub } from '../support/hub.js';
import { databaseUrl, freshEmbeddedDir, redisAvailable } from '../support/services.js';

/** Sockets, servers and timers the process holds; a stopped hub must leave none of its own behind. */
const handles = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout')
    .sort();

describe('hub lifecycle', () => {
  test('embedded PostgreSQL: seeds the demo market, answers /readyz, stops twice and leaves no handle', async () => {
    const before = handles();
    const dir = await freshEmbeddedDir();
    const node = await startHub({ db: dir, env: { SEED_DEMO: 'true' } });
    try {
      expect(node.config.embedded).toBe(true);
      const res = await fetch(`${node.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', checks: { database: true, serving: true } });
      const [counts] = await node.hub.db!.sequelize.query<{
        users: string;
        listings: string;
        meters: string;
      }>(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM listings WHERE status = 'active') AS listings,
           (SELECT string_agg(zone, ',' ORDER BY zone) FROM meters WHERE status = 'active') AS meters`,
        { type: QueryTypes.SELECT },
      );
      // every demo trader has a meter in a demo zone
      expect(counts).toEqual({ users: '3', listings: '12', meters: 'DE-North,DE-South,NL' });
    } finally {
      await node.stop();
      await node.stop();
      await dir.drop();
    }
    await expect.poll(handles, { timeout: 5000 }).toEqual(before);
  });

  test.skipIf(!databaseUrl)('real PostgreSQL and Redis: /readyz reports both', async () => {
    if (!(await redisAvailable('real-services start'))) return;
    const node = await startHub({ redis: true });
    try {
      expect(node.config.embedded).toBe(false);
      const res = await fetch(`${node.url}/readyz`);
      expect(await res.json()).toEqual({
        status: 'ok',
        checks: { database: true, redis: true, serving: true },
      });
      expect(res.status).toBe(200);
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    } finally {
      await Promise.all([node.stop(), node.stop()]);
    }
  });

  test('unknown routes answer the error envelope', async () => {
    const node = await startHub();
    try {
      const res = await fetch(`${node.url}/api/v1/nothing`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'NOT_FOUND', message: 'No route GET /api/v1/nothing' },
      });
    } finally {
      await node.stop();
    }
  });
});
