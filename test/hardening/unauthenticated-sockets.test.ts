// Connections that have not authenticated cost little: they must complete the Socket.IO handshake
// within SOCKET_HANDSHAKE_TIMEOUT_MS, and one address may hold at most SOCKET_UNAUTHENTICATED_PER_IP
// of them; an authenticated socket no longer counts.
import http from 'node:http';
import net from 'node:net';
import { io, Manager, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectSocket, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

/** An engine connection from `localAddress` (a loopback address of its own) that never sends CONNECT. */
function engineOnly(base: string, localAddress = '127.0.0.1'): Promise<Manager> {
  const m = new Manager(base, {
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    localAddress,
  } as ConstructorParameters<typeof Manager>[1]);
  return new Promise((resolve, reject) => m.open((err) => (err ? reject(err) : resolve(m))));
}

/** An authenticated socket from `localAddress`. */
function authenticated(base: string, token: string, localAddress: string): Promise<Socket> {
  const s = io(base, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    localAddress,
  } as Parameters<typeof io>[1]);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

/** One raw HTTP request of the Engine.IO polling transport. */
function raw(
  method: 'GET' | 'POST',
  url: string,
  opts: { body?: string; localAddress?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, localAddress: opts.localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const engineUrl = (base: string, sid?: string) =>
  `${base}/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;

/** Long-polls until the engine connection is closed by the server; resolves with the ms it took. */
async function pollUntilClosed(base: string, sid: string, since: number): Promise<number> {
  for (;;) {
    const r = await raw('GET', engineUrl(base, sid));
    // a close packet ("1"), or the session is already gone
    if (r.status !== 200 || r.body.split('\x1e').includes('1')) return Date.now() - since;
  }
}

const elapsed = (since: number) => Date.now() - since;

describe('the handshake deadline', () => {
  const DEADLINE = 1000;
  let node: TestHub;
  let trader: Session;
  beforeAll(async () => {
    node = await startHub({ env: { SOCKET_HANDSHAKE_TIMEOUT_MS: String(DEADLINE) } });
    trader = await newTrader(node.url);
  });
  afterAll(() => node?.stop());

  test('an engine connection that never sends CONNECT is closed after SOCKET_HANDSHAKE_TIMEOUT_MS; an authenticated one stays', async () => {
    const authed = await connectSocket(node.url, { token: trader.accessToken });
    const began = Date.now();
    const m = await engineOnly(node.url);
    const closed = await new Promise<number>((resolve) => m.on('close', () => resolve(elapsed(began))));
    expect(closed).toBeGreaterThanOrEqual(DEADLINE - 100);
    expect(closed).toBeLessThan(DEADLINE + 10_000);

    // the same over raw long-polling
    const since = Date.now();
    const open = await raw('GET', engineUrl(node.url));
    expect(open.status).toBe(200);
    const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
    const ms = await pollUntilClosed(node.url, sid, since);
    expect(ms).toBeGreaterThanOrEqual(DEADLINE - 100);
    expect(ms).toBeLessThan(DEADLINE + 10_000);

    // well past the deadline, the authenticated socket is still there
    expect(authed.connected).toBe(true);
    authed.close();
  });

  test('a socket that leaves the namespace but keeps its engine connection is closed', async () => {
    const open = await raw('GET', engineUrl(node.url));
    const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
    const connect = await raw('POST', engineUrl(node.url, sid), {
      body: `40${JSON.stringify({ token: trader.accessToken })}`,
    });
    expect(connect.body).toBe('ok');
    const acked = await raw('GET', engineUrl(node.url, sid));
    expect(acked.body.split('\x1e')[0]).toMatch(/^40\{"sid"/);
    const since = Date.now();
    await raw('POST', engineUrl(node.url, sid), { body: '41' });
    // before, it stayed open with no namespace and no deadline (pings kept it alive)
    expect(await pollUntilClosed(node.url, sid, since)).toBeLessThan(10_000);
  });
});

describe('unauthenticated connections per address', () => {
  const CAP = 5;
  let node: TestHub;
  let trader: Session;
  beforeAll(async () => {
    node = await startHub({
      // a long deadline: the idle connections of this test must not be closed by it
      env: { SOCKET_UNAUTHENTICATED_PER_IP: String(CAP), SOCKET_HANDSHAKE_TIMEOUT_MS: '60000' },
    });
    trader = await newTrader(node.url);
  });
  afterAll(() => node?.stop());

  test('one address gets at most SOCKET_UNAUTHENTICATED_PER_IP; other addresses and authenticated sockets are unaffected', async () => {
    const flood = await Promise.allSettled(
      Array.from({ length: 12 }, () => engineOnly(node.url, '127.0.0.2')),
    );
    const idle = flood.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    expect(idle).toHaveLength(CAP);

    // the refusal, as a plain client sees it
    const refused = await raw('GET', engineUrl(node.url), { localAddress: '127.0.0.2' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ message: 'RATE_LIMITED' });

    // another address: an authenticated client connects
    const other = await authenticated(node.url, trader.accessToken, '127.0.0.3');
    expect(other.connected).toBe(true);

    // closing two of the idle ones gives their slots back (the server learns of it a moment later)
    for (const m of idle.splice(0, 2)) m.engine.close();
    await expect
      .poll(
        async () => {
          const more = await Promise.allSettled([engineOnly(node.url, '127.0.0.2')]);
          for (const r of more) if (r.status === 'fulfilled') idle.push(r.value);
          return idle.length;
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(CAP);

    // an authenticated socket gives its slot back: twice the cap, CAP at a time, from one address
    const sockets: Socket[] = [];
    for (let wave = 0; wave < 2; wave++) {
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: CAP }, () => authenticated(node.url, trader.accessToken, '127.0.0.4')),
        )),
      );
    }
    expect(sockets.filter((s) => s.connected)).toHaveLength(2 * CAP);

    for (const s of [other, ...sockets]) s.close();
    for (const m of idle) m.engine.close();
  });

  test('handshakes that fail after being admitted give their slot back', async () => {
    const from = '127.0.0.5';
    for (let i = 0; i < 2 * CAP; i++) {
      // a polling handshake of a protocol version the hub does not speak (refused past allowRequest)
      const old = await raw('GET', `${node.url}/socket.io/?EIO=3&transport=polling`, { localAddress: from });
      expect(old.status).toBe(400);
      // a WebSocket upgrade that ws aborts (bad key) after Engine.IO admitted it
      await badUpgrade(node.port, from);
    }
    await expect
      .poll(
        async () => {
          const all = await Promise.allSettled(Array.from({ length: CAP }, () => engineOnly(node.url, from)));
          for (const r of all) if (r.status === 'fulfilled') r.value.engine.close();
          return all.filter((r) => r.status === 'fulfilled').length;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(CAP);
  });
});

/** A WebSocket upgrade request with an invalid key; resolves once the server has closed it. */
function badUpgrade(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () =>
      s.write(
        'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
          'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n',
      ),
    );
    s.on('data', () => {});
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}
