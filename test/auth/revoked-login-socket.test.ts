import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setUserDisabled } from '../../src/store/accounts/account-store.js';
import { api, connectSocket, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

const CHECK_SECONDS = 1;

let node: TestHub;
beforeAll(async () => {
  node = await startHub({ env: { ACCOUNT_CHECK_SECONDS: String(CHECK_SECONDS) } });
});
afterAll(() => node?.stop());

describe('a login revoked outside the hub (`npm run user -- disable`, then enable)', () => {
  test('its live socket is closed within ACCOUNT_CHECK_SECONDS even though the user is active again', async () => {
    const t = await newTrader(node.url, 'flip');
    const socket = await connectSocket(node.url, { token: t.accessToken });
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    // the operator disables (every login revoked) and enables the account again before the next check
    const sequelize = node.hub.db!.sequelize;
    await setUserDisabled(sequelize, t.user.email, true);
    await setUserDisabled(sequelize, t.user.email, false);
    // the login is revoked for REST...
    const res = await api(node.url, 'GET', '/api/v1/me', { token: t.accessToken });
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
    // ...and its socket must not go on receiving the user's events
    const outcome = await Promise.race([
      closed,
      new Promise<string>((resolve) => setTimeout(() => resolve('still open'), CHECK_SECONDS * 1000 + 1500)),
    ]);
    socket.close();
    expect(outcome).toBe('io server disconnect');
  });
});
