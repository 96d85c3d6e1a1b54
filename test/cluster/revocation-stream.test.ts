// A socket's handshake checks its login in the node's memory of recent changes, kept from its event
// stream (src/domain/auth/revoked-logins.ts): the database writes an `access.changed` event with
// every revocation, disable, enable and deletion, whoever makes it. Two nodes on one PostgreSQL and
// Redis: what one node or an operator's SQL changes, the other refuses without reading the
// database, and the sockets it admitted before it heard are closed when it hears. A third node
// started after the change refuses it from its first handshake.
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import type { Socket } from 'socket.io-client';
import { describe, expect, test } from 'vitest';
import { api, connectSocket, newTrader, refusedHandshake, refusedOnceHeard } from '../support/client.js';
import { startHub, twoNodes } from '../support/hub.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';

const ready = (await postgresAvailable('revocation stream')) && (await redisAvailable('revocation stream'));
const METRICS_TOKEN = 'metrics-token-of-the-revocation-stream-test';
// the periodic account check would close sockets too: far out of the way here
const env = { METRICS_TOKEN, ACCOUNT_CHECK_SECONDS: '3600' };

const closedBy = (socket: Socket, ms: number) =>
  new Promise<string>((resolve) => {
    const t = setTimeout(() => resolve('still open'), ms);
    socket.once('disconnect', (reason) => {
      clearTimeout(t);
      resolve(reason);
    });
  });

describe.skipIf(!ready)('revocations reach every node through the event stream', () => {
  const nodes = twoNodes({ a: env, b: env });

  const checks = async (url: string) => {
    const text = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    const count = (from: string) =>
      Number(text.match(new RegExp(`^hub_login_checks_total\\{from="${from}"\\} (\\d+)`, 'm'))?.[1] ?? 0);
    return { memory: count('memory'), log: count('log') };
  };
  const sql = (query: string, bind: unknown[]) =>
    nodes.a.hub.db!.sequelize.query(query, { bind, type: QueryTypes.SELECT });
  /**
   * A handshake refused with the node's answer from `from` (memory, or a read of the log). Tests on
   * other databases of the server may hold the log back for a while (the node then reads the
   * database), and a loaded box may bring the relay's word late: tried until one is.
   */
  const refusedFrom = async (from: 'memory' | 'log', url: string, token: string) => {
    const other = from === 'memory' ? 'log' : 'memory';
    let refusal: Awaited<ReturnType<typeof refusedHandshake>> | undefined;
    await expect
      .poll(
        async () => {
          const before = await checks(url);
          refusal = await refusedHandshake(url, { token }).catch(() => undefined);
          const after = await checks(url);
          return refusal !== undefined && after[from] - before[from] === 1 && after[other] === before[other];
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    return refusal!;
  };
  const refusedFromMemory = (url: string, token: string) => refusedFrom('memory', url, token);

  test('a logout on A: B refuses the login from memory and closes its sockets there', async () => {
    const t = await newTrader(nodes.a.url, 'logout-a');
    const onB = await connectSocket(nodes.b.url, { token: t.accessToken });
    const closed = closedBy(onB, 15_000);
    const out = await api(nodes.a.url, 'POST', '/api/v1/auth/logout', {
      token: t.accessToken,
      body: { refreshToken: t.refreshToken },
    });
    expect(out.status).toBe(204);
    expect(await closed).toBe('io server disconnect');
    const refused = await refusedOnceHeard(nodes.b.url, { token: t.accessToken });
    expect(refused.data).toMatchObject({ code: 'UNAUTHENTICATED', details: { reason: 'revoked' } });
    // on A, which revoked it, at once
    expect((await refusedHandshake(nodes.a.url, { token: t.accessToken })).data).toMatchObject({
      details: { reason: 'revoked' },
    });
    // and B knows it without a read
    expect((await refusedFromMemory(nodes.b.url, t.accessToken)).data).toMatchObject({
      details: { reason: 'revoked' },
    });
  });

  test('a disable, an enable and a deletion by SQL reach both nodes', async () => {
    const t = await newTrader(nodes.a.url, 'sql-disable');
    const sockets = await Promise.all(
      [nodes.a, nodes.b].map((n) => connectSocket(n.url, { token: t.accessToken })),
    );
    const closed = sockets.map((s) => closedBy(s, 15_000));
    await sql('UPDATE users SET disabled_at = now() WHERE id = $1', [t.user.id]);
    expect(await Promise.all(closed)).toEqual(['io server disconnect', 'io server disconnect']);
    for (const n of [nodes.a, nodes.b]) {
      expect((await refusedOnceHeard(n.url, { token: t.accessToken })).data).toMatchObject({
        details: { reason: 'disabled' },
      });
    }
    // enabled again without revoking its logins (SQL, not `npm run user`): the token works again
    await sql('UPDATE users SET disabled_at = NULL WHERE id = $1', [t.user.id]);
    const opens = () =>
      connectSocket(nodes.b.url, { token: t.accessToken }).then(
        (s) => {
          s.close();
          return true;
        },
        () => false,
      );
    await expect.poll(opens, { timeout: 15_000 }).toBe(true);
    const again = await connectSocket(nodes.b.url, { token: t.accessToken });
    const gone = closedBy(again, 15_000);
    await sql('DELETE FROM users WHERE id = $1', [t.user.id]);
    expect(await gone).toBe('io server disconnect');
    // a deleted account's login is 'revoked' (docs/protocol.md)
    expect((await refusedOnceHeard(nodes.b.url, { token: t.accessToken })).data).toMatchObject({
      details: { reason: 'revoked' },
    });
  });

  test('handshakes racing a logout on the other node: none stays open once B has heard', async () => {
    const t = await newTrader(nodes.a.url, 'logout-race');
    const opened: Socket[] = [];
    let racing = true;
    // handshakes on B, one after the other, while A logs the login out
    const race = (async () => {
      while (racing) {
        try {
          opened.push(await connectSocket(nodes.b.url, { token: t.accessToken }));
        } catch {
          return; // refused: B has heard
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await api(nodes.a.url, 'POST', '/api/v1/auth/logout', {
      token: t.accessToken,
      body: { refreshToken: t.refreshToken },
    });
    await Promise.race([race, new Promise((r) => setTimeout(r, 15_000))]);
    racing = false;
    await race;
    expect(opened.length).toBeGreaterThan(0);
    // every socket admitted before B heard is closed by the server
    await expect.poll(() => opened.filter((s) => s.connected).length, { timeout: 15_000 }).toBe(0);
    for (const s of opened) s.close();
  });

  test('while older transactions hold the log back, handshakes read the database', async () => {
    const t = await newTrader(nodes.a.url, 'held-back');
    // two transactions with ids, left open: every event committed after them waits behind them
    const older = [
      new pg.Client({ connectionString: nodes.db.url }),
      new pg.Client({ connectionString: nodes.db.url }),
    ];
    try {
      for (const c of older) {
        await c.connect();
        await c.query('BEGIN');
        await c.query('SELECT pg_current_xact_id()');
      }
      const out = await api(nodes.a.url, 'POST', '/api/v1/auth/logout', {
        token: t.accessToken,
        body: { refreshToken: t.refreshToken },
      });
      expect(out.status).toBe(204);
      // the oldest ends: the horizon moves, and the logout's event still waits behind the other
      await new Promise((r) => setTimeout(r, 400));
      await older[0]!.query('ROLLBACK');
      // the relay tells the stream is stale once an event has waited 500 ms (a handshake before
      // its word is admitted, and closed when the revocation arrives): B reads the log
      await new Promise((r) => setTimeout(r, 1100));
      const refused = await refusedFrom('log', nodes.b.url, t.accessToken);
      expect(refused.data).toMatchObject({ details: { reason: 'revoked' } });
    } finally {
      for (const c of older) {
        await c.query('ROLLBACK').catch(() => {});
        await c.end().catch(() => {});
      }
    }
    // the log moves again: answers from memory once more
    await refusedFromMemory(nodes.b.url, t.accessToken);
  });

  test('a node started after a revocation refuses it from its first handshake', async () => {
    const t = await newTrader(nodes.a.url, 'late-node');
    await api(nodes.a.url, 'POST', '/api/v1/auth/logout', {
      token: t.accessToken,
      body: { refreshToken: t.refreshToken },
    });
    // published, so the new node's stream starts after it: only its start-up read can know it
    await refusedFromMemory(nodes.b.url, t.accessToken);
    const c = await startHub({ db: nodes.db, redis: true, env });
    try {
      const refused = await refusedHandshake(c.url, { token: t.accessToken });
      expect(refused.data).toMatchObject({ details: { reason: 'revoked' } });
      // from what it read at start: its stream began after the revocation's event
      expect((await refusedFromMemory(c.url, t.accessToken)).data).toMatchObject({
        details: { reason: 'revoked' },
      });
    } finally {
      await c.stop();
    }
  });
});
