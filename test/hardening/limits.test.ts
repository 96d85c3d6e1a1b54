import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { api, connectSocket, emitAck, refusedHandshake } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, trader } from '../support/traders.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub({
    env: {
      COMMAND_RATE_PER_SECOND: '5',
      COMMAND_RATE_BURST: '5',
      MAX_SOCKETS_PER_USER: '3',
      CORS_ORIGINS: 'https://desk.example',
    },
  });
});
afterAll(() => node?.stop());

describe('per-user command rate limit', () => {
  test('past rate and burst: RATE_LIMITED with retryAfterMs, and the connection stays up', async () => {
    const t = await trader(node.url, 'fast');
    const socket = (t as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
    const answers = await Promise.all(
      Array.from({ length: 15 }, () =>
        emitAck(socket, 'listing:create', {
          requestId: randomUUID(),
          ...listingInput({ meterId: t.meterId }),
        }),
      ),
    );
    const limited = answers.filter((a) => !a.ok);
    expect(answers.filter((a) => a.ok)).toHaveLength(10);
    expect(limited).toHaveLength(5);
    for (const a of limited) {
      expect(a.error.code).toBe('RATE_LIMITED');
      expect(a.error.details.retryAfterMs).toBeGreaterThan(0);
    }
    expect(socket.connected).toBe(true);
    // feeds have a budget of their own (set high for tests; test/hardening/feed-rate.test.ts)
    expect(await t.subscribeFeed({})).toEqual({ filter: {} });
    // another trader has a budget of its own
    const other = await trader(node.url, 'other');
    await expect(other.createListing(listingInput())).resolves.toMatchObject({ status: 'active' });
    for (const c of [t, other]) c.close();
  });
});

describe('connection limits', () => {
  test('an oversize frame closes that socket only', async () => {
    const a = await trader(node.url, 'big');
    const b = await trader(node.url, 'small');
    const socket = (a as unknown as { socket: Parameters<typeof emitAck>[0] }).socket;
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    socket.emit(
      'listing:create',
      { requestId: randomUUID(), ...listingInput({ meterId: a.meterId }), description: 'x'.repeat(200_000) },
      () => {},
    );
    expect(await closed).toBe('transport close');
    await expect(b.createListing(listingInput())).resolves.toMatchObject({ status: 'active' });
    a.close();
    b.close();
  });

  test('at most MAX_SOCKETS_PER_USER sockets per user', async () => {
    const t = await trader(node.url, 'many', false);
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await connectSocket(node.url, { token: t.session.accessToken }));
    const refused = await refusedHandshake(node.url, { token: t.session.accessToken });
    expect(refused.message).toBe('RATE_LIMITED');
    expect(refused.data).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 1000 } });
    open[0]!.close();
    await expect
      .poll(async () => {
        try {
          const s = await connectSocket(node.url, { token: t.session.accessToken });
          open.push(s);
          return true;
        } catch {
          return false;
        }
      })
      .toBe(true);
    for (const s of open) s.close();
  });
});

describe('origins', () => {
  const handshake = (origin: string | undefined, token: string) =>
    new Promise<string>((resolve) => {
      const s = io(node.url, {
        auth: { token },
        transports: ['polling'],
        reconnection: false,
        forceNew: true,
        extraHeaders: origin ? { origin } : {},
      });
      s.once('connect', () => {
        s.close();
        resolve('connected');
      });
      s.once('connect_error', (e) => {
        s.close();
        resolve(`refused: ${e.message}`);
      });
    });

  test('the socket handshake accepts the hub’s own origin and CORS_ORIGINS only', async () => {
    const t = await trader(node.url, 'o', false);
    expect(await handshake(undefined, t.session.accessToken)).toBe('connected');
    expect(await handshake(node.url, t.session.accessToken)).toBe('connected');
    expect(await handshake('https://desk.example', t.session.accessToken)).toBe('connected');
    expect(await handshake('https://evil.example', t.session.accessToken)).toMatch(/^refused/);
  });

  test('HTTP CORS for configured origins only; security headers on every response', async () => {
    const allowed = await api(node.url, 'GET', '/healthz', { headers: { origin: 'https://desk.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://desk.example');
    const other = await api(node.url, 'GET', '/healthz', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    for (const path of ['/healthz', '/api/v1/me', '/']) {
      const res = await api(node.url, 'GET', path);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});

describe('a client over the limit learns when to retry', () => {
  test('HubClient surfaces RATE_LIMITED as an error with details', async () => {
    const t = await trader(node.url, 'client');
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => t.createListing(listingInput())),
    );
    const errors = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: 'RATE_LIMITED' });
    expect(t).toBeInstanceOf(HubClient);
    t.close();
  });
});
