// MAX_SOCKETS_PER_USER holds under concurrency: the slot is taken when the handshake is decided,
// not when the socket later joins its rooms, and given back when the socket goes.
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectSocket, newTrader, type Session } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

const CAP = 20;

let node: TestHub;
let me: Session;
beforeAll(async () => {
  node = await startHub({ env: { MAX_SOCKETS_PER_USER: String(CAP) } });
  me = await newTrader(node.url, 'many');
});
afterAll(() => node?.stop());

/** `n` handshakes of this user at once: the sockets that connected and the codes of the refusals */
async function handshakes(n: number) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, () => connectSocket(node.url, { token: me.accessToken })),
  );
  const open: Socket[] = [];
  const refused: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') open.push(r.value);
    else refused.push((r.reason as Error).message);
  }
  return { open, refused };
}

describe('sockets per user under concurrent handshakes', () => {
  test('100 parallel handshakes: exactly MAX_SOCKETS_PER_USER connect, the rest are RATE_LIMITED; closing frees slots', async () => {
    const first = await handshakes(100);
    expect(first.open).toHaveLength(CAP);
    expect(first.refused).toHaveLength(100 - CAP);
    expect(new Set(first.refused)).toEqual(new Set(['RATE_LIMITED']));

    // five go away: their slots come back (the server learns of the close a moment later)
    const open = first.open;
    for (const s of open.splice(0, 5)) s.close();
    await expect
      .poll(
        async () => {
          const more = await handshakes(10);
          open.push(...more.open);
          return open.length;
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(CAP);

    // full again: another parallel wave gets nothing
    const last = await handshakes(30);
    expect(last.open).toHaveLength(0);
    expect(new Set(last.refused)).toEqual(new Set(['RATE_LIMITED']));
    for (const s of open) s.close();
  });
});
