import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setUserDisabled } from '../../src/store/accounts/account-store.js';
import { api, newTrader, PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub();
});
afterAll(() => node?.stop());

const login = (email: string) =>
  api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
const refresh = (refreshToken: string) =>
  api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });

/** waits until a statement starting with `prefix` waits for a lock */
async function blockedOn(prefix: string): Promise<void> {
  const sequelize = node.hub.db!.sequelize;
  for (let i = 0; i < 200; i++) {
    const rows = await sequelize.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND ltrim(query) LIKE $1 || '%'`,
      { bind: [prefix], type: QueryTypes.SELECT },
    );
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no statement "${prefix}..." waited for a lock`);
}

describe('a login racing `npm run user -- disable`', () => {
  test('a login whose password check passed before the disable committed does not outlive the disable', async () => {
    const t = await newTrader(node.url, 'racer');
    const sequelize = node.hub.db!.sequelize;
    // The operator's disable (setUserDisabled's statements), holding the user's row until it commits.
    const tx = await sequelize.transaction();
    await sequelize.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', {
      bind: [t.user.id],
      transaction: tx,
    });
    // the login reads the user (not disabled yet), checks the password, and stores its first token
    const pending = login(t.user.email);
    await blockedOn('INSERT INTO refresh_tokens');
    await sequelize.query('UPDATE users SET disabled_at = now() WHERE id = $1', {
      bind: [t.user.id],
      transaction: tx,
    });
    await sequelize.query(
      'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL',
      {
        bind: [t.user.id],
        transaction: tx,
      },
    );
    await tx.commit();
    const res = await pending;
    expect.soft(res.status).toBe(401);
    expect.soft(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'disabled' } });

    // enabled again: every login from before the disable stays revoked, this one included
    await setUserDisabled(sequelize, t.user.email, false);
    if (res.body.refreshToken) expect((await refresh(res.body.refreshToken)).status).toBe(401);
    expect((await refresh(t.refreshToken)).status).toBe(401);
  });
});
