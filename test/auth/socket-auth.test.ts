import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, connectSocket, emitAck, newTrader, refusedHandshake, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { badTokens } from '../support/tokens.js';

let node: TestHub;
let trader: Session;
beforeAll(async () => {
  // short-lived tokens so expiry happens within the test
  node = await startHub({ env: { ACCESS_TOKEN_TTL_SECONDS: '3', AUTH_GRACE_SECONDS: '2' } });
  trader = await newTrader(node.url);
});
afterAll(() => node?.stop());

const nextEvent = <T>(socket: Socket, name: string) =>
  new Promise<T>((resolve) => socket.once(name, resolve));

describe('socket handshake', () => {
  test.each([
    ['no token', () => ({}), 'missing'],
    ['an alg:none token', () => ({ token: badTokens(trader.user.id).algNone }), 'invalid'],
    ['a token signed with another key', () => ({ token: badTokens(trader.user.id).otherKey }), 'invalid'],
    ['an expired token', () => ({ token: badTokens(trader.user.id).expired }), 'expired'],
    ['a refresh token', () => ({ token: trader.refreshToken }), 'invalid'],
  ])('refuses %s with connect_error UNAUTHENTICATED', async (_name, auth, reason) => {
    const refused = await refusedHandshake(node.url, auth());
    expect(refused.message).toBe('UNAUTHENTICATED');
    expect(refused.data).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason } });
  });

  test('refuses the token of a revoked login', async () => {
    const t = await newTrader(node.url);
    await api(node.url, 'POST', '/api/v1/auth/logout', {
      body: { refreshToken: t.refreshToken },
      token: t.accessToken,
    });
    const refused = await refusedHandshake(node.url, { token: t.accessToken });
    expect(refused.data).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
  });

  test('logout closes the live sockets of that login', async () => {
    const t = await newTrader(node.url);
    const socket = await connectSocket(node.url, { token: t.accessToken });
    const closed = nextEvent(socket, 'disconnect');
    await api(node.url, 'POST', '/api/v1/auth/logout', {
      body: { refreshToken: t.refreshToken },
      token: t.accessToken,
    });
    expect(await closed).toBe('io server disconnect');
  });
});

describe('tokens expire on live sockets', () => {
  test('a silent socket is warned, then closed after expiry plus grace; one that refreshes stays', async () => {
    const quiet = await newTrader(node.url);
    const active = await newTrader(node.url);
    const silent = await connectSocket(node.url, { token: quiet.accessToken });
    const refreshing = await connectSocket(node.url, { token: active.accessToken });

    const warned = await nextEvent<{ expiresAt: string }>(refreshing, 'auth:expiring');
    expect(warned.expiresAt).toBe(active.accessExpiresAt);
    const renewed = await api<Session>(node.url, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: active.refreshToken },
    });
    const ack = await emitAck(refreshing, 'auth:refresh', { token: renewed.body.accessToken });
    expect(ack).toEqual({ ok: true, data: { accessExpiresAt: renewed.body.accessExpiresAt } });

    const reason = await nextEvent<string>(silent, 'disconnect');
    expect(reason).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(quiet.accessExpiresAt) + 2000 - 50);
    expect(refreshing.connected).toBe(true);
    refreshing.close();
  });

  test('auth:refresh with a token of another user is refused and changes nothing', async () => {
    const me = await newTrader(node.url);
    const other = await newTrader(node.url);
    const socket = await connectSocket(node.url, { token: me.accessToken });
    const ack = await emitAck(socket, 'auth:refresh', { token: other.accessToken });
    expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const bad = await emitAck(socket, 'auth:refresh', { token: 'nope' });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED', details: { reason: 'invalid' } },
    });
    const malformed = await emitAck(socket, 'auth:refresh', 'a string');
    expect(malformed).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    // the original deadline still holds: the socket goes at expiry plus grace
    expect(await nextEvent<string>(socket, 'disconnect')).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(me.accessExpiresAt) + 2000 - 50);
  });
});
