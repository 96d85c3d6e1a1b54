// A connection that closes while its token is still being checked must not keep one of the user's
// MAX_SOCKETS_PER_USER slots: the cap's count is taken after the check, on a connection that may
// already be gone, and nothing would ever give that slot back.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectSocket, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

const CAP = 3;

let node: TestHub;
let me: Session;
beforeAll(async () => {
  node = await startHub({ env: { MAX_SOCKETS_PER_USER: String(CAP) } });
  me = await newTrader(node.url, 'vanishing');
});
afterAll(() => node?.stop());

function raw(method: 'GET' | 'POST', url: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const engineUrl = (sid?: string) =>
  `${node.url}/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;

/** Opens an engine connection, sends CONNECT with the token and closes the connection in the same breath. */
async function connectAndVanish(token: string) {
  const open = await raw('GET', engineUrl());
  expect(open.status).toBe(200);
  const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
  // one payload: the namespace CONNECT, then the engine's own close packet
  const sent = await raw('POST', engineUrl(sid), `40${JSON.stringify({ token })}\x1e1`);
  expect(sent.body).toBe('ok');
}

describe('the per-user socket cap when a connection closes mid-handshake', () => {
  test('connections closed while their token is checked give back their slot', async () => {
    for (let i = 0; i < CAP * 2; i++) await connectAndVanish(me.accessToken);
    // the server has finished with those handshakes a moment later: every slot is free again
    await expect
      .poll(
        async () => {
          const got = await Promise.allSettled(
            Array.from({ length: CAP }, () => connectSocket(node.url, { token: me.accessToken })),
          );
          const sockets = got.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
          for (const s of sockets) s.close();
          return sockets.length;
        },
        { timeout: 5000, interval: 200 },
      )
      .toBe(CAP);
  });
});
