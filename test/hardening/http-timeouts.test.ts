import net from 'node:net';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { emitAck, newTrader } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

// Slow clients cannot hold the hub's connections. The waits here are the timeouts under test.
const HEADERS_MS = 500;
const REQUEST_MS = 3000;
/** how late a close may come: Node checks the timeouts on an interval (HEADERS_MS / 4 here), plus a loaded box; below REQUEST_MS - HEADERS_MS, so a head cut by the request timeout fails */
const SLACK_MS = 2000;
/** how long a test waits for a close that should have come long before */
const GIVE_UP_MS = REQUEST_MS * 4;

let node: TestHub;
beforeAll(async () => {
  node = await startHub({
    env: { HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS) },
  });
});
afterAll(() => node?.stop());

interface Raw {
  socket: net.Socket;
  opened: number;
  /** resolves with ms from connect to close, or undefined if still open after GIVE_UP_MS */
  closed: Promise<number | undefined>;
  received(): string;
}

async function rawConnection(): Promise<Raw> {
  const socket = net.connect(node.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const opened = performance.now();
  let data = '';
  socket.on('data', (d) => (data += d));
  socket.on('error', () => {});
  const closed = new Promise<number | undefined>((resolve) => {
    const giveUp = setTimeout(() => resolve(undefined), GIVE_UP_MS);
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve(performance.now() - opened);
    });
  });
  return { socket, opened, closed, received: () => data };
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function drip(socket: net.Socket, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

describe('HTTP server timeouts', () => {
  test('the defaults: 10 s for a request head, 30 s for a whole request', () => {
    const config = loadConfig({ JWT_SECRET: 'x'.repeat(32) });
    expect(config.HTTP_HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(config.HTTP_REQUEST_TIMEOUT_MS).toBe(30_000);
  });

  test('a connection that sends nothing is closed within the headers timeout', async () => {
    const c = await rawConnection();
    const ms = await c.closed;
    c.socket.destroy();
    expect(ms).toBeDefined();
    expect(ms!).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(ms!).toBeLessThan(HEADERS_MS + SLACK_MS);
  });

  test('a head sent a byte at a time is cut at the headers timeout with 408', async () => {
    const c = await rawConnection();
    const stop = drip(
      c.socket,
      `GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: ${'a'.repeat(500)}\r\n\r\n`,
      50,
    );
    const ms = await c.closed;
    stop();
    expect(ms).toBeDefined();
    expect(ms!).toBeLessThan(HEADERS_MS + SLACK_MS);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('a head then a body a byte at a time is cut within the request timeout with 408', async () => {
    const c = await rawConnection();
    const body = JSON.stringify({ email: 'slow@test.renex', password: 'x'.repeat(100) });
    c.socket.write(
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const stop = drip(c.socket, body, 100);
    const ms = await c.closed;
    stop();
    expect(ms).toBeDefined();
    // the head came at once: the body is judged by the whole request's timeout, not the head's
    expect(ms!).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(ms!).toBeLessThan(REQUEST_MS + SLACK_MS);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('a Socket.IO long-poll waiting longer than the request timeout is not cut', async () => {
    const t = await newTrader(node.url);
    const socket = io(node.url, {
      auth: { token: t.accessToken },
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      let disconnected: string | undefined;
      socket.on('disconnect', (reason) => (disconnected = reason));
      // a polling GET is held open for answers; only receiving a request is timed, not waiting on one
      await new Promise((r) => setTimeout(r, REQUEST_MS * 2));
      expect(disconnected).toBeUndefined();
      expect(socket.io.engine.transport.name).toBe('polling');
      expect(await emitAck(socket, 'feed:subscribe', {})).toMatchObject({ ok: true });
    } finally {
      socket.close();
    }
  });
});
