// The outbound door against real sockets on loopback: what reaches a receiver, what never
// leaves the hub, and how a slow or absent receiver ends. No internet is needed: every refusal
// happens before a connection, and public addresses are only classified, never dialled.
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress } from '../../src/notify/outbound-address.js';
import { checkOutboundUrl, type OutboundError, postOutbound } from '../../src/notify/outbound-http.js';
import { failure, receiver } from '../support/http-receiver.js';

const lenient = { allowPrivate: true, timeoutMs: 5_000, headers: {}, body: '' };
const strict = { allowPrivate: false, timeoutMs: 2_000, headers: {}, body: '{}' };

describe('with allowPrivate', () => {
  it('delivers headers and body and returns status, headers and body', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-seen': 'yes' }).end('ok thanks');
    });
    const body = JSON.stringify({ id: 'evt_1', type: 'swap.accepted', note: 'kWh ☀' });
    const answer = await postOutbound(`http://127.0.0.1:${r.port}/hook?x=1`, {
      ...lenient,
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1', 'Content-Length': '1' },
      body,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('ok thanks');
    expect(answer.headers['x-seen']).toBe('yes');
    expect(r.requests).toHaveLength(1);
    const seen = r.requests[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/hook?x=1');
    expect(seen?.headers['webhook-id']).toBe('evt_1');
    expect(seen?.headers['content-type']).toBe('application/json');
    // the caller's wrong Content-Length is replaced by the body's byte length
    expect(seen?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen?.body).toBe(body);
  });

  it('returns a 500 as a status, not an error', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(500).end('boom');
    });
    const answer = await postOutbound(`http://127.0.0.1:${r.port}/`, lenient);
    expect(answer).toMatchObject({ status: 500, body: 'boom' });
  });

  it('does not follow a redirect', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    const answer = await postOutbound(`http://127.0.0.1:${r.port}/`, lenient);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/elsewhere');
    expect(r.requests.map((q) => q.url)).toEqual(['/']);
  });

  it('reads at most maxResponseBytes of the answer', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200).end('x'.repeat(10_000));
    });
    const answer = await postOutbound(`http://127.0.0.1:${r.port}/`, { ...lenient, maxResponseBytes: 100 });
    expect(answer.body).toBe('x'.repeat(100));
  });

  it('still refuses credentials and other schemes', async () => {
    expect((await failure(postOutbound('http://u:p@127.0.0.1/', lenient))).code).toBe('refused_url');
    expect((await failure(postOutbound('ftp://127.0.0.1/', lenient))).code).toBe('refused_url');
  });
});

describe('without allowPrivate', () => {
  // [url, expected code, a fragment of checkOutboundUrl's message]; PORT is the receiver's
  const refused: [string, 'refused_url' | 'refused_address', string][] = [
    ['http://127.0.0.1:PORT/', 'refused_url', 'must be an https: URL'],
    ['https://127.0.0.1:PORT/', 'refused_address', 'loopback address (127.0.0.1)'],
    // a name's refusal at registration says nothing of what it resolves to
    ['https://localhost:PORT/', 'refused_address', 'resolves to public addresses only'],
    ['https://[::1]:PORT/', 'refused_address', 'loopback address (::1)'],
    ['https://[::ffff:127.0.0.1]:PORT/', 'refused_address', 'IPv4-mapped address embedding a loopback'],
    ['https://10.1.2.3/', 'refused_address', 'private address (10.1.2.3)'],
    ['https://192.168.0.1/', 'refused_address', 'private address (192.168.0.1)'],
    ['https://172.16.0.1/', 'refused_address', 'private address (172.16.0.1)'],
    ['https://169.254.169.254/latest/meta-data/', 'refused_address', 'cloud metadata'],
    ['https://[fe80::1]/', 'refused_address', 'link-local address (fe80::1)'],
    ['https://[fd00::1]/', 'refused_address', 'unique local'],
    ['https://0.0.0.0:PORT/', 'refused_address', 'unspecified address (0.0.0.0)'],
    ['https://2130706433:PORT/', 'refused_address', 'loopback address (127.0.0.1)'],
    ['https://0x7f000001:PORT/', 'refused_address', 'loopback address (127.0.0.1)'],
    ['https://127.1:PORT/', 'refused_address', 'loopback address (127.0.0.1)'],
    ['https://0x7f.1:PORT/', 'refused_address', 'loopback address (127.0.0.1)'],
    ['https://100.64.0.1/', 'refused_address', 'carrier-grade NAT'],
    ['https://[2002:7f00:1::]:PORT/', 'refused_address', '6to4 address embedding a loopback'],
    ['https://user:pass@example.com/', 'refused_url', 'must not contain credentials'],
    ['ftp://x/', 'refused_url', 'must be an https: URL'],
    ['not a url', 'refused_url', 'is not a valid URL'],
  ];

  it.each(refused)('postOutbound refuses %s (%s) before any connection', async (template, code) => {
    const r = await receiver((_req, res) => {
      res.end('should never be reached');
    });
    const url = template.replace('PORT', String(r.port));
    const err = await failure(postOutbound(url, strict));
    expect(err.code).toBe(code);
    expect(r.connections).toBe(0);
    expect(r.requests).toHaveLength(0);
  });

  it.each(refused)('checkOutboundUrl explains %s', async (template, _code, fragment) => {
    const message = await checkOutboundUrl(template.replace('PORT', '8443'), { allowPrivate: false });
    expect(message).toContain(fragment);
  });

  it('checkOutboundUrl answers one message for a name that does not resolve or resolves inside', async () => {
    const unknown = await checkOutboundUrl('https://no-such-host.invalid/', { allowPrivate: false });
    const inside = await checkOutboundUrl('https://localhost/', { allowPrivate: false });
    expect(unknown).toBe(inside);
    expect(inside).not.toMatch(/127|::1|loopback|ENOTFOUND/);
  });

  it('a name refused at connection does not tell what it resolves to either (the delivery log shows it)', async () => {
    const r = await receiver((_req, res) => res.end());
    const err = await failure(postOutbound(`https://localhost:${r.port}/`, strict));
    expect(err.code).toBe('refused_address');
    expect(err.message).toContain('localhost');
    expect(err.message).not.toMatch(/127|::1|loopback/);
  });

  it('one name of an owner is looked up at a time: another meanwhile is RATE_LIMITED, others go on', async () => {
    const first = checkOutboundUrl('https://no-such-host-1.invalid/', { allowPrivate: false, owner: 'a' });
    const second = checkOutboundUrl('https://no-such-host-2.invalid/', { allowPrivate: false, owner: 'a' });
    const otherOwner = checkOutboundUrl('https://no-such-host-3.invalid/', {
      allowPrivate: false,
      owner: 'b',
    });
    await expect(second).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 1000 } });
    expect(await first).toMatch(/public addresses only/);
    expect(await otherOwner).toMatch(/public addresses only/);
    // the owner's turn is over: its next name is looked up
    expect(
      await checkOutboundUrl('https://no-such-host-4.invalid/', { allowPrivate: false, owner: 'a' }),
    ).toMatch(/public addresses only/);
  });

  it('checkOutboundUrl accepts public literals without any network use', async () => {
    expect(await checkOutboundUrl('https://93.184.215.14/', { allowPrivate: false })).toBeUndefined();
    expect(
      await checkOutboundUrl('https://[2606:4700::1111]:8443/x', { allowPrivate: false }),
    ).toBeUndefined();
  });

  it('checkOutboundUrl with allowPrivate accepts http: and loopback', async () => {
    expect(await checkOutboundUrl('http://127.0.0.1:1/', { allowPrivate: true })).toBeUndefined();
    expect(await checkOutboundUrl('http://localhost/', { allowPrivate: true })).toBeUndefined();
  });
});

describe('isForbiddenAddress', () => {
  const forbidden = [
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '240.0.0.1',
    '198.18.0.1',
    '192.0.2.1',
    '198.51.100.1',
    '203.0.113.1',
    '192.0.0.8',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd00::1',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    '2002:7f00:1::',
    '2002:a00:1::1',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::808:808',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo, client 192.0.2.45 (documentation)
    '2001:0:7f00:1::', // Teredo via a loopback server
    '100::1',
    '3fff::1',
    '5f00::1',
    'not-an-ip',
    '0x7f.1',
    '',
  ];
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '2002:808:808::1',
    '64:ff9b::808:808',
  ];
  it.each(forbidden)('forbids %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });
  it.each(allowed)('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('failures that are not answers', () => {
  const timeoutMs = 500;

  async function timed(promise: Promise<unknown>): Promise<{ err: OutboundError; ms: number }> {
    const start = performance.now();
    const err = await failure(promise);
    return { err, ms: performance.now() - start };
  }

  it('a receiver that accepts and never answers ends in timeout', async () => {
    const r = await receiver(() => {
      // holds the request open
    });
    const { err, ms } = await timed(postOutbound(`http://127.0.0.1:${r.port}/`, { ...lenient, timeoutMs }));
    expect(err.code).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(timeoutMs * 0.9);
    expect(ms).toBeLessThan(timeoutMs * 5);
    expect(r.requests).toHaveLength(1);
  });

  it('a receiver that trickles the body and never ends it ends in timeout', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(drip));
    });
    const { err, ms } = await timed(postOutbound(`http://127.0.0.1:${r.port}/`, { ...lenient, timeoutMs }));
    expect(err.code).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(timeoutMs * 0.9);
    expect(ms).toBeLessThan(timeoutMs * 5);
  });

  it('the socket is destroyed on timeout', async () => {
    let closed: Promise<void> = Promise.resolve();
    const r = await receiver((req) => {
      closed = new Promise((done) => req.socket.on('close', () => done()));
    });
    const err = await failure(postOutbound(`http://127.0.0.1:${r.port}/`, { ...lenient, timeoutMs: 200 }));
    expect(err.code).toBe('timeout');
    await closed; // the receiver sees the hub hang up
  });

  it('a closed port is a network error', async () => {
    const r = await receiver(() => {});
    const port = r.port;
    await r.close();
    const err = await failure(postOutbound(`http://127.0.0.1:${port}/`, lenient));
    expect(err.code).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('a receiver that hangs up mid-answer is a network error', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    const err = await failure(postOutbound(`http://127.0.0.1:${r.port}/`, lenient));
    expect(err.code).toBe('network');
  });
});
