import { createHash } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, connectSocket, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';

const refresh = (node: TestHub, refreshToken: string) =>
  api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
const me = (node: TestHub, token: string) => api(node.url, 'GET', '/api/v1/me', { token });
const closed = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));

describe('within REFRESH_REUSE_SECONDS (default 10) of a rotation', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub();
  });
  afterAll(() => node?.stop());

  test('a retried refresh gets the same refresh token and a working access token; the login lives on', async () => {
    const t = await newTrader(node.url);
    const first = await refresh(node, t.refreshToken);
    expect(first.status).toBe(200);
    const retry = await refresh(node, t.refreshToken);
    expect(retry.status).toBe(200);
    expect(retry.body.refreshToken).toBe(first.body.refreshToken);
    expect(retry.body.user).toEqual(first.body.user);
    // the access token is signed afresh (another jti): both work
    expect(retry.body.accessToken).not.toBe(first.body.accessToken);
    expect((await me(node, retry.body.accessToken)).status).toBe(200);
    expect((await me(node, first.body.accessToken)).status).toBe(200);
    // the chain goes on from the shared successor
    const next = await refresh(node, retry.body.refreshToken);
    expect(next.status).toBe(200);
    expect((await me(node, next.body.accessToken)).status).toBe(200);
  });

  test('10 parallel refreshes of one token: all succeed with the same refresh token', async () => {
    const t = await newTrader(node.url);
    const all = await Promise.all(Array.from({ length: 10 }, () => refresh(node, t.refreshToken)));
    expect(all.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(all.map((r) => r.body.refreshToken)).size).toBe(1);
    for (const r of all) expect((await me(node, r.body.accessToken)).status).toBe(200);
    expect((await refresh(node, all[0]!.body.refreshToken)).status).toBe(200);
  });

  test('the successor is stored only as its hash', async () => {
    const t = await newTrader(node.url);
    const next = (await refresh(node, t.refreshToken)).body.refreshToken;
    const count = async (where: string, value: Buffer | string) => {
      const [row] = await node.hub.db!.sequelize.query<{ n: string }>(
        `SELECT count(*) AS n FROM refresh_tokens WHERE ${where}`,
        { bind: [value], type: QueryTypes.SELECT },
      );
      return Number(row!.n);
    };
    expect(await count('token_hash = $1', createHash('sha256').update(next).digest())).toBe(1);
    expect(await count("position(convert_to($1, 'UTF8') IN token_hash) > 0", next)).toBe(0);
  });

  test('a spent token whose successor was already used is reuse, even within the interval', async () => {
    const t = await newTrader(node.url);
    const r1 = await refresh(node, t.refreshToken);
    const r2 = await refresh(node, r1.body.refreshToken);
    expect(r2.status).toBe(200);
    const stale = await refresh(node, t.refreshToken);
    expect(stale.status).toBe(401);
    expect(stale.body.error.details).toEqual({ reason: 'revoked' });
    expect((await refresh(node, r2.body.refreshToken)).body.error.details).toEqual({ reason: 'revoked' });
    expect((await me(node, r2.body.accessToken)).body.error.details).toEqual({ reason: 'revoked' });
  });
});

describe('10 parallel refreshes of one token on two nodes of one database', async () => {
  const real = await postgresAvailable('parallel refreshes on two nodes');
  test.skipIf(!real)('all 10 succeed with the same refresh token; the login stays alive', async () => {
    const a = await startHub();
    const b = await startHub({ db: a.database });
    try {
      for (let round = 0; round < 3; round++) {
        const t = await newTrader(a.url);
        const all = await Promise.all(
          Array.from({ length: 10 }, (_, i) => refresh(i % 2 ? b : a, t.refreshToken)),
        );
        expect(all.map((r) => r.status)).toEqual(Array(10).fill(200));
        expect(new Set(all.map((r) => r.body.refreshToken)).size).toBe(1);
        for (const r of all) expect((await me(b, r.body.accessToken)).status).toBe(200);
        const next = await refresh(a, all[0]!.body.refreshToken);
        expect(next.status).toBe(200);
        expect((await me(a, next.body.accessToken)).status).toBe(200);
      }
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe('after REFRESH_REUSE_SECONDS', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({ env: { REFRESH_REUSE_SECONDS: '1' } });
  });
  afterAll(() => node?.stop());

  test('reuse revokes every token of the login and closes its sockets', async () => {
    const t = await newTrader(node.url);
    const rotated = await refresh(node, t.refreshToken);
    const socket = await connectSocket(node.url, { token: rotated.body.accessToken });
    const gone = closed(socket);
    // the interval itself is under test
    await new Promise((r) => setTimeout(r, 1200));
    const reuse = await refresh(node, t.refreshToken);
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.details).toEqual({ reason: 'revoked' });
    expect(await gone).toBe('io server disconnect');
    expect((await refresh(node, rotated.body.refreshToken)).body.error.details).toEqual({
      reason: 'revoked',
    });
    expect((await me(node, rotated.body.accessToken)).body.error.details).toEqual({ reason: 'revoked' });
  });
});
