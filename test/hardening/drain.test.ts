// A node's clients moved in seconds, not in one burst (issue 23): a draining node closes its port
// at once and its sockets a slice at a time; a bundled client whose handshake is refused (too many
// sockets, a node shutting down) tries again by itself, jittered, instead of staying disconnected.
import net from 'node:net';
import type { Socket } from 'socket.io-client';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { connectSocket, PASSWORD, refusedHandshake, uniqueEmail } from '../support/client.js';
import { startBalancer, startNode } from '../support/cluster.js';
import { startHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';

const ready = await postgresAvailable('drain');

/** Whether a new TCP connection to the port is refused. */
const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.once('error', () => resolve(true));
  });

describe.skipIf(!ready)('draining a node', () => {
  test('SIGTERM closes the port at once and the sockets spread over time, then exits 0', async () => {
    const db = await freshDatabase();
    // 40 sockets at 20 a second: about 2 s of closing (the grace allows up to 5 s)
    const node = await startNode({
      ...db.env,
      DRAIN_SOCKETS_PER_SECOND: '20',
      SHUTDOWN_GRACE_MS: '10000',
      MAX_SOCKETS_PER_USER: '100',
    });
    const sockets: Socket[] = [];
    try {
      const trader = await HubClient.register(node.url, {
        email: uniqueEmail('drain'),
        password: PASSWORD,
        displayName: 'drain',
      });
      const auth = { token: trader.session.accessToken };
      for (let i = 0; i < 40; i++) sockets.push(await connectSocket(node.url, auth));
      const closedAt: number[] = [];
      for (const s of sockets) s.once('disconnect', () => closedAt.push(Date.now()));

      const signalled = Date.now();
      const exit = node.kill('SIGTERM');
      await expect.poll(() => refuses(node.port), { timeout: 5_000, interval: 50 }).toBe(true);
      expect(await exit).toBe(0);
      expect(closedAt).toHaveLength(40);
      const first = Math.min(...closedAt);
      const last = Math.max(...closedAt);
      // spread: 40 sockets at 20/s take at least 1.5 s from the first to the last
      expect(last - first).toBeGreaterThan(1_500);
      console.info(
        `drain: port refused, sockets closed from ${first - signalled} to ${last - signalled} ms after SIGTERM`,
      );
    } finally {
      for (const s of sockets) s.close();
      await node.kill('SIGKILL');
      await db.drop();
    }
  }, 60_000);

  test('a client whose reconnection is refused (RATE_LIMITED) tries again by itself and syncs', async () => {
    // behind a balancer: node A first, then only node B, where the trader's sockets are at the cap
    const env = { MAX_SOCKETS_PER_USER: '2', SHUTDOWN_GRACE_MS: '2000' };
    const b = await startHub({ env });
    const a = await startHub({ env, db: b.database });
    const ports = [a.port];
    const lb = await startBalancer(ports);
    const others: Socket[] = [];
    let client: HubClient | undefined;
    try {
      client = await HubClient.register(lb.url, {
        email: uniqueEmail('refused'),
        password: PASSWORD,
        displayName: 'refused',
      });
      await client.connect();
      const syncs: number[] = [];
      client.onSync(() => syncs.push(Date.now()));
      const auth = { token: client.session.accessToken };
      others.push(await connectSocket(b.url, auth), await connectSocket(b.url, auth));
      expect((await refusedHandshake(b.url, auth)).message).toBe('RATE_LIMITED');
      ports.splice(0, ports.length, b.port);
      await a.stop(); // drains: the client is told to go, and its reconnection is refused at B
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(client.connected).toBe(false);
      expect(syncs).toHaveLength(0);
      others.pop()!.close(); // a slot at B frees
      await expect.poll(() => syncs.length, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(client.connected).toBe(true);
    } finally {
      client?.close();
      for (const s of others) s.close();
      await lb.close();
      await a.stop();
      await b.stop();
    }
  }, 90_000);
});
