// The hub's own origin is scheme plus host: a page at http://hub is another site than https://hub,
// and may not open a socket on it (nor the other way round). Behind a trusted proxy the scheme is
// the one the proxy names in X-Forwarded-Proto.
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

function handshake(base: string, token: string, headers: Record<string, string>) {
  return new Promise<string>((resolve) => {
    const s = io(base, {
      auth: { token },
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
      extraHeaders: headers,
    });
    s.once('connect', () => {
      s.close();
      resolve('connected');
    });
    s.once('connect_error', () => {
      s.close();
      resolve('refused');
    });
  });
}

const hostOf = (node: TestHub) => new URL(node.url).host;

describe('origin scheme, hub reached directly', () => {
  let node: TestHub;
  let trader: Session;
  beforeAll(async () => {
    node = await startHub();
    trader = await newTrader(node.url);
  });
  afterAll(() => node?.stop());

  test('a page of the same host over another scheme is refused; X-Forwarded-Proto is ignored', async () => {
    const host = hostOf(node);
    const go = (headers: Record<string, string>) => handshake(node.url, trader.accessToken, headers);
    expect(await go({ origin: `http://${host}` })).toBe('connected');
    expect(await go({ origin: `https://${host}` })).toBe('refused');
    expect(await go({ origin: `HTTP://${host.toUpperCase()}` })).toBe('connected');
    // no proxy is trusted: a client cannot name the scheme itself
    expect(await go({ origin: `https://${host}`, 'x-forwarded-proto': 'https' })).toBe('refused');
    expect(await go({ origin: 'null' })).toBe('refused');
  });
});

describe('origin scheme behind a trusted proxy', () => {
  let node: TestHub;
  let trader: Session;
  beforeAll(async () => {
    node = await startHub({ env: { TRUST_PROXY: 'loopback' } });
    trader = await newTrader(node.url);
  });
  afterAll(() => node?.stop());

  test('the scheme is the one X-Forwarded-Proto names', async () => {
    const host = hostOf(node);
    const go = (headers: Record<string, string>) => handshake(node.url, trader.accessToken, headers);
    expect(await go({ origin: `https://${host}`, 'x-forwarded-proto': 'https' })).toBe('connected');
    expect(await go({ origin: `http://${host}`, 'x-forwarded-proto': 'https' })).toBe('refused');
    expect(await go({ origin: `https://${host}`, 'x-forwarded-proto': 'https, http' })).toBe('connected');
    expect(await go({ origin: `http://${host}` })).toBe('connected');
    expect(await go({ origin: `https://${host}` })).toBe('refused');
  });
});
