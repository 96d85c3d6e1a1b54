// Three hub nodes on a Redis Cluster of three masters and three replicas (REDIS_CLUSTER_NODES),
// over one PostgreSQL: negotiation across nodes, replay, limits shared by every node, and where the
// hub's channels live.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HubClient, type Swap } from '../../src/client/index.js';
import { api, connectSocket, newTrader, PASSWORD, uniqueEmail } from '../support/client.js';
import { type NodeProcess, startNode } from '../support/cluster.js';
import { redisClusterAvailable, TestRedisCluster } from '../support/redis-cluster.js';
import { freshDatabase, postgresAvailable, type TestDatabase } from '../support/services.js';
import { listingInput, recorder, trader } from '../support/traders.js';

const ready =
  (await postgresAvailable('hub on Redis Cluster')) && (await redisClusterAvailable('hub on Redis Cluster'));

const FAILED_LOGINS = 3;
const METRICS_TOKEN = 'metrics-token-for-the-cluster-test';

describe.skipIf(!ready)('three nodes on a Redis Cluster', () => {
  let redis: TestRedisCluster;
  let db: TestDatabase;
  let prefix: string;
  let a: NodeProcess;
  let b: NodeProcess;
  let c: NodeProcess;

  beforeAll(async () => {
    redis = await TestRedisCluster.start();
    db = await freshDatabase();
    prefix = `t-${db.id}`;
    const env = {
      ...db.env,
      REDIS_CLUSTER_NODES: redis.nodes.join(','),
      REDIS_PREFIX: prefix,
      AUTH_RATE_EMAIL_PER_15MIN: String(FAILED_LOGINS),
      METRICS_TOKEN,
    };
    [a, b, c] = await Promise.all([startNode(env), startNode(env), startNode(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill(), c?.kill()]);
    await redis?.stop();
    await db?.drop();
  });

  test('/readyz, the metrics and the start-up log name the cluster', async () => {
    for (const node of [a, b, c]) {
      const res = await fetch(`${node.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: 'ok',
        checks: { database: true, redis: true, serving: true },
      });
      const metrics = await fetch(`${node.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(await metrics.text()).toMatch(/^hub_redis_up 1$/m);
    }
    expect(a.output()).toContain(`"redis":"cluster ${redis.nodes.join(',')}"`);
  });

  test('propose on node A, the seller sees it on node B, accepts on node C; everyone sees it live', async () => {
    const seller = await trader(b.url, 'seller');
    const buyer = await trader(a.url, 'buyer');
    const watcher = await trader(c.url, 'watcher');
    await watcher.subscribeFeed({ energyTypes: ['wind'] });
    // the seller again, on node C (another login)
    const sellerOnC = await HubClient.login(c.url, seller.user.email, PASSWORD);
    await sellerOnC.connect();
    const sellerLog = recorder(seller);
    const sellerOnCLog = recorder(sellerOnC);
    const buyerLog = recorder(buyer);
    const watcherLog = recorder(watcher);

    const listing = await seller.createListing(listingInput({ energyType: 'wind', volumeKwh: '10' }));
    expect((await watcherLog.next('listing.created')).data).toMatchObject({ id: listing.id });
    const proposed = await buyer.propose({ listingId: listing.id, volumeKwh: '10', pricePerKwh: '0.1' });
    expect((await sellerLog.next('swap.proposed')).data).toEqual(proposed);
    expect((await sellerOnCLog.next('swap.proposed')).data).toEqual(proposed);

    const accepted = (await sellerOnC.accept(proposed.id, 1)) as Swap;
    expect(accepted.status).toBe('accepted');
    expect((await buyerLog.next('swap.accepted')).data).toEqual(accepted);
    expect((await sellerLog.next('swap.accepted')).data).toEqual(accepted);
    expect((await watcherLog.next('listing.closed')).data).toMatchObject({
      id: listing.id,
      status: 'filled',
    });

    // each connection got its events once, ascending
    for (const log of [sellerLog, sellerOnCLog, buyerLog, watcherLog]) {
      const ids = log.seen.map((e) => BigInt(e.id));
      expect(ids).toEqual([...new Set(ids)].sort((x, y) => (x < y ? -1 : 1)));
    }
    for (const t of [seller, sellerOnC, buyer, watcher]) t.close();
  });

  test('a trader who reconnects to another node gets what it missed, then sync, then live', async () => {
    const seller = await trader(a.url, 'replayed');
    const buyer = await trader(b.url, 'buyer');
    const log = recorder(seller);
    const listing = await seller.createListing(listingInput());
    const first = await buyer.propose({ listingId: listing.id, volumeKwh: '1', pricePerKwh: '0.1' });
    await log.next('swap.proposed');
    const resumeFrom = seller.lastEventId!;
    seller.close();

    await buyer.withdraw(first.id);
    const second = await buyer.propose({ listingId: listing.id, volumeKwh: '2', pricePerKwh: '0.1' });

    const back = new HubClient(c.url, seller.session);
    back.lastEventId = resumeFrom;
    const order: string[] = [];
    back.onEvent((e) => order.push(`${e.type}:${(e.data as { id: string }).id}`));
    back.onSync((m) => order.push(`sync:${m.replayed}`));
    // the missed events may still be on their way past the delivery horizon: reconnect until both
    // are replayed (a replay is never wrong, only possibly short)
    await expect
      .poll(
        async () => {
          order.length = 0;
          back.lastEventId = resumeFrom;
          await back.connect();
          back.close();
          return order;
        },
        { timeout: 15_000 },
      )
      .toEqual([`swap.withdrawn:${first.id}`, `swap.proposed:${second.id}`, 'sync:2']);

    await back.connect();
    const live = recorder(back);
    await buyer.withdraw(second.id);
    expect((await live.next('swap.withdrawn')).data).toMatchObject({ id: second.id });
    for (const t of [back, buyer]) t.close();
  });

  test('a failed-login budget is shared by the three nodes', async () => {
    const email = uniqueEmail('guessed');
    await api(a.url, 'POST', '/api/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: 'guessed' },
    });
    const nodes = [a, b, c];
    const statuses: number[] = [];
    for (let i = 0; i < FAILED_LOGINS + 3; i++) {
      const res = await api(nodes[i % 3]!.url, 'POST', '/api/v1/auth/login', {
        body: { email, password: 'wrong horse battery staple' },
      });
      statuses.push(res.status);
    }
    // one node alone would allow FAILED_LOGINS on each: 9 wrong answers before the first refusal
    expect(statuses).toEqual([...Array(FAILED_LOGINS).fill(401), ...Array(3).fill(429)]);
    // the right password too, on any node, until the window ends
    expect(
      (await api(c.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })).status,
    ).toBe(429);
  });

  test("a logout on node A closes that login's socket on node B (the adapter's broadcast)", async () => {
    const t = await newTrader(a.url, 'leaving');
    const socket = await connectSocket(b.url, { token: t.accessToken });
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const out = await api(a.url, 'POST', '/api/v1/auth/logout', {
      body: { refreshToken: t.refreshToken },
      token: t.accessToken,
    });
    expect(out.status).toBe(204);
    expect(await closed).toBe('io server disconnect');
    socket.close();
  });

  test("the hub's channels are sharded channels, each on the master of its slot", async () => {
    const perMaster = await redis.shardChannels(`${prefix}#*`);
    const all = perMaster.flat().sort();
    expect(all.filter((ch) => ch === `${prefix}#events`)).toHaveLength(1);
    expect(all.filter((ch) => ch === `${prefix}#io#/#`)).toHaveLength(1);
    // one answer channel per node (the adapter's uid), and nothing per room (`static` mode)
    expect(all.filter((ch) => /#io#\/#[^#]+#$/.test(ch))).toHaveLength(3);
    expect(all).toHaveLength(5);
    for (const [i, channels] of perMaster.entries()) {
      for (const ch of channels) expect(await redis.masterOf(ch)).toBe(i);
    }
  });

  test('a node stops cleanly on SIGTERM (its cluster clients closed)', async () => {
    expect(await c.kill('SIGTERM')).toBe(0);
    expect(c.output()).toContain('hub stopped');
  });
});
