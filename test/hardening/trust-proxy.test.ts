import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { clientAddress, limitKey, type TrustProxy } from '../../src/http/client-address.js';
import { api, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

// Behind a reverse proxy every request comes from the proxy: with TRUST_PROXY the hub takes the client
// from X-Forwarded-For, so each client has a rate-limit bucket of its own; without it nobody may claim
// an address by sending the header.

const LIMITS = { AUTH_RATE_IP_PER_MINUTE: '2', AUTH_REGISTER_PER_IP_PER_HOUR: '1' };

const login = (node: TestHub, from: string) =>
  api(node.url, 'POST', '/api/v1/auth/login', {
    body: { email: uniqueEmail(), password: PASSWORD },
    headers: { 'x-forwarded-for': from },
  });
const register = (node: TestHub, from: string) =>
  api(node.url, 'POST', '/api/v1/auth/register', {
    body: { email: uniqueEmail(), password: PASSWORD, displayName: 'P' },
    headers: { 'x-forwarded-for': from },
  });

async function withHub(env: Record<string, string>, run: (node: TestHub) => Promise<void>) {
  const node = await startHub({ env: { ...LIMITS, ...env } });
  try {
    await run(node);
  } finally {
    await node.stop();
  }
}

describe('rate-limit buckets behind a proxy', () => {
  test('TRUST_PROXY=1: two forwarded addresses have separate login buckets', () =>
    withHub({ TRUST_PROXY: '1' }, async (node) => {
      expect([(await login(node, '203.0.113.1')).status, (await login(node, '203.0.113.1')).status]).toEqual([
        401, 401,
      ]);
      expect((await login(node, '203.0.113.1')).status).toBe(429);
      expect((await login(node, '203.0.113.2')).status).toBe(401);
      // the proxy appends the address it saw: the client's own entries before it are not believed
      expect((await login(node, '198.51.100.7, 203.0.113.1')).status).toBe(429);
    }));

  test('TRUST_PROXY=1: two forwarded addresses have separate register buckets', () =>
    withHub({ TRUST_PROXY: '1' }, async (node) => {
      expect((await register(node, '203.0.113.3')).status).toBe(201);
      expect((await register(node, '203.0.113.3')).status).toBe(429);
      expect((await register(node, '203.0.113.4')).status).toBe(201);
    }));

  test('an IPv6 client is counted by its /64: another address of its network shares its bucket', () =>
    withHub({ TRUST_PROXY: '1' }, async (node) => {
      expect((await register(node, '2001:db8:1:2::1')).status).toBe(201);
      expect((await register(node, '2001:db8:1:2:ffff:ffff:ffff:fffe')).status).toBe(429);
      expect((await register(node, '2001:db8:1:3::1')).status).toBe(201);
      // an IPv4 client written as IPv4-mapped IPv6 is that IPv4 address
      expect((await register(node, '203.0.113.9')).status).toBe(201);
      expect((await register(node, '::ffff:203.0.113.9')).status).toBe(429);
    }));

  test('TRUST_PROXY as the proxy address (127.0.0.1): the same', () =>
    withHub({ TRUST_PROXY: '127.0.0.1' }, async (node) => {
      expect((await register(node, '203.0.113.5')).status).toBe(201);
      expect((await register(node, '203.0.113.5')).status).toBe(429);
      expect((await register(node, '203.0.113.6')).status).toBe(201);
    }));

  test('without TRUST_PROXY: X-Forwarded-For is ignored, one login bucket for the connection’s address', () =>
    withHub({}, async (node) => {
      expect((await login(node, '203.0.113.1')).status).toBe(401);
      expect((await login(node, '203.0.113.2')).status).toBe(401);
      expect((await login(node, '203.0.113.3')).status).toBe(429);
    }));

  test('without TRUST_PROXY: one register bucket for the connection’s address', () =>
    withHub({}, async (node) => {
      expect((await register(node, '203.0.113.3')).status).toBe(201);
      expect((await register(node, '203.0.113.4')).status).toBe(429);
    }));

  test('a TRUST_PROXY list that does not hold the peer: its X-Forwarded-For is not believed', () =>
    withHub({ TRUST_PROXY: '10.0.0.0/8,192.168.0.0/16' }, async (node) => {
      expect((await register(node, '203.0.113.7')).status).toBe(201);
      expect((await register(node, '203.0.113.8')).status).toBe(429);
    }));
});

describe('clientAddress (for the Socket.IO handshake): the same rule on a plain Node request', () => {
  let seen: (trust: TrustProxy) => Promise<string>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    let last: IncomingMessage | undefined;
    const server = createServer((req, res) => {
      last = req;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    seen = async (trust) => {
      await (
        await fetch(`http://127.0.0.1:${port}/`, {
          headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
        })
      ).arrayBuffer();
      return clientAddress(last!, trust);
    };
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(() => close?.());

  test.each<[string, TrustProxy, string]>([
    ['nobody trusted', false, '127.0.0.1'],
    ['one hop', 1, '203.0.113.9'],
    ['two hops', 2, '198.51.100.1'],
    ['more hops than there are', 5, '198.51.100.1'],
    ['the peer by address', ['127.0.0.1'], '203.0.113.9'],
    ['the peer by name', ['loopback'], '203.0.113.9'],
    ['the peer and the next proxy', ['loopback', '203.0.113.0/24'], '198.51.100.1'],
    ['another network only', ['10.0.0.0/8'], '127.0.0.1'],
  ])('%s', async (_name, trust, expected) => {
    expect((await seen(trust)).replace(/^::ffff:/, '')).toBe(expected);
  });
});

test('TRUST_PROXY: a hop count or addresses and ranges; anything else is refused at start-up', () => {
  const parse = (v: string) => loadConfig({ JWT_SECRET: 'x'.repeat(32), TRUST_PROXY: v }).TRUST_PROXY;
  expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).TRUST_PROXY).toBe(false);
  expect(parse('2')).toBe(2);
  expect(parse('0')).toBe(false);
  expect(parse('10.0.0.1, 172.16.0.0/12,::1,loopback')).toEqual([
    '10.0.0.1',
    '172.16.0.0/12',
    '::1',
    'loopback',
  ]);
  for (const bad of ['true', '10.0.0', '10.0.0.0/33', 'proxy.example', '99'])
    expect(() => parse(bad)).toThrow(ConfigError);
});

describe('limitKey', () => {
  test('IPv4 as itself, IPv4-mapped IPv6 as its IPv4, IPv6 as its /64, anything else as given', () => {
    expect(limitKey('203.0.113.1')).toBe('203.0.113.1');
    expect(limitKey('::ffff:203.0.113.1')).toBe('203.0.113.1');
    expect(limitKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:0db8:0001:0002:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('unknown')).toBe('unknown');
  });
});
