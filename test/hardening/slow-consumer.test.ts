// A client that stops reading while the market goes on would have the node keep a copy of every
// event for it without end: past SOCKET_MAX_QUEUED messages waiting, the node closes its socket
// (its client reconnects and is replayed what it missed). Real hub, real socket.io-client over
// long-polling, whose polls the test stops.
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { until } from '../support/cluster.js';
import { startHub, type TestHub } from '../support/hub.js';
import { listingInput, trader } from '../support/traders.js';

const METRICS_TOKEN = 'metrics-token-of-the-slow-consumer-test';

let node: TestHub;
beforeAll(async () => {
  node = await startHub({ env: { SOCKET_MAX_QUEUED: '20', METRICS_TOKEN } });
});
afterAll(() => node?.stop());

async function socketsConnected(): Promise<number> {
  const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('hub_sockets_connected '));
  return Number(line?.split(' ')[1]);
}

describe('a client that stops reading', () => {
  test('is closed once more than SOCKET_MAX_QUEUED messages wait for it; one that reads is not', async () => {
    const seller = await trader(node.url, 'busy-seller');
    const reader = await trader(node.url, 'reader');
    await reader.subscribeFeed({});
    const watcher = await trader(node.url, 'stalled-watcher', false);
    const stalled: Socket = io(node.url, {
      auth: { token: watcher.session.accessToken },
      transports: ['polling'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      stalled.once('connect', resolve);
      stalled.once('connect_error', reject);
    });
    expect(await stalled.timeout(10_000).emitWithAck('feed:subscribe', {})).toMatchObject({ ok: true });
    await until(async () => (await socketsConnected()) === 3, 10_000, 'three sockets');
    // it asks for nothing more: what the node sends it waits in the node
    await new Promise<void>((resolve) => {
      (stalled.io.engine.transport as unknown as { pause(done: () => void): void }).pause(resolve);
    });

    // the market goes on: every new listing is a message for every feed
    for (let i = 0; i < 30; i++) await seller.createListing(listingInput({ volumeKwh: String(i + 1) }));
    await until(async () => (await socketsConnected()) === 2, 15_000, 'the stalled socket closed');
    // the others go on
    expect(seller.connected && reader.connected).toBe(true);
    stalled.close();
    for (const t of [seller, reader, watcher]) t.close();
  });
});
