import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

const MAX_SECONDS = 3;

let node: TestHub;
beforeAll(async () => {
  node = await startHub({ env: { SESSION_MAX_SECONDS: String(MAX_SECONDS) } });
});
afterAll(() => node?.stop());

const refresh = (refreshToken: string) =>
  api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });

describe('SESSION_MAX_SECONDS: an absolute lifetime of a login', () => {
  test('rotation does not extend a login past its start plus the maximum', async () => {
    const t = await newTrader(node.url);
    const r1 = await refresh(t.refreshToken);
    expect(r1.status).toBe(200);
    const r2 = await refresh(r1.body.refreshToken);
    expect(r2.status).toBe(200);
    // every token of the login expires at min(now + REFRESH_TOKEN_TTL_SECONDS, start + max)
    const rows = await node.hub.db!.sequelize.query<{ within: boolean; capped: boolean }>(
      `SELECT expires_at <= family_created_at + make_interval(secs => $2) AS within,
              expires_at < now() + interval '1 day' AS capped
       FROM refresh_tokens WHERE user_id = $1`,
      { bind: [t.user.id, MAX_SECONDS], type: QueryTypes.SELECT },
    );
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.within && r.capped)).toBe(true);

    // the lifetime itself is under test: wait it out from the registration
    const startedAt = Date.parse(t.user.createdAt);
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + MAX_SECONDS * 1000 + 200 - Date.now())));
    const late = await refresh(r2.body.refreshToken);
    expect(late.status).toBe(401);
    expect(late.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'expired' } });
  });

  test('a login past its end is refused even when its token has not expired yet', async () => {
    const t = await newTrader(node.url);
    // a login that began long ago, with a token that would still be good for a day
    await node.hub.db!.sequelize.query(
      `UPDATE refresh_tokens SET family_created_at = now() - interval '1 hour', expires_at = now() + interval '1 day'
       WHERE user_id = $1`,
      { bind: [t.user.id] },
    );
    const res = await refresh(t.refreshToken);
    expect(res.status).toBe(401);
    expect(res.body.error.details).toEqual({ reason: 'expired' });
    // nothing was spent: the answer stays the same, no reuse is detected
    expect((await refresh(t.refreshToken)).body.error.details).toEqual({ reason: 'expired' });
  });
});
