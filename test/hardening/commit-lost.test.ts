// A connection lost with the COMMIT on its way (src/store/commands/command-runner.ts, settleUnknown):
// PostgreSQL received the COMMIT and carried it out, but the hub never heard back. The hub runs on
// a TCP proxy to the real PostgreSQL that, once armed, forwards the next command's commit and cuts
// the hub's side of that connection before any answer. The command's ack must tell the truth: the
// stored answer (it was committed), not UNAVAILABLE ("nothing was committed"), which would make a
// client that trusts it create the listing a second time.
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HubClientError } from '../../src/client/index.js';
import { startHub, type TestHub } from '../support/hub.js';
import { freshServerDatabase, postgresAvailable, type TestDatabase } from '../support/services.js';
import { listingInput, trader } from '../support/traders.js';

const ready = await postgresAvailable('commit lost');

/**
 * A TCP proxy to `target` that, armed, cuts the connection of the next commit of a command: after
 * forwarding it ('after': PostgreSQL commits) or instead of it ('before': it never arrives);
 * 'after-down' also cuts every other connection and refuses new ones until `up()`, so the hub
 * cannot ask whether it committed.
 */
function cuttingProxy(target: URL) {
  let armed: 'before' | 'after' | 'after-down' | undefined;
  let down = false;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    let cutting = false;
    client.on('data', (chunk: Buffer) => {
      // a command's commit: its writes, its answer's row and the COMMIT in one message
      if (armed && chunk.includes('idempotency_keys') && chunk.includes('COMMIT')) {
        const when = armed;
        armed = undefined;
        cutting = true;
        cuts++;
        client.destroy(); // the hub hears nothing more on this connection
        if (when === 'before') {
          upstream.destroy(); // PostgreSQL sees the session end with the transaction open
          return;
        }
        upstream.write(chunk);
        setTimeout(() => upstream.end(), 2000); // PostgreSQL gets the whole message first
        if (when === 'after-down') {
          down = true;
          for (const s of sockets) if (s !== upstream) s.destroy();
        }
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => {
      if (!cutting) upstream.end();
    });
  });
  return {
    arm: (when: 'before' | 'after' | 'after-down') => {
      armed = when;
    },
    up: () => {
      down = false;
    },
    get cuts() {
      return cuts;
    },
    async listen(): Promise<number> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return (server.address() as net.AddressInfo).port;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(!ready)('a connection lost as a command commits', () => {
  let db: TestDatabase;
  let node: TestHub;
  let proxy: ReturnType<typeof cuttingProxy>;
  beforeAll(async () => {
    db = await freshServerDatabase(process.env.DATABASE_URL!);
    const direct = new URL(db.url!);
    proxy = cuttingProxy(direct);
    const viaProxy = new URL(db.url!);
    viaProxy.host = `127.0.0.1:${await proxy.listen()}`;
    node = await startHub({
      db: { id: db.id, env: { DATABASE_URL: viaProxy.toString() }, url: db.url, drop: async () => {} },
      env: { SWEEP_INTERVAL_MS: '600000' },
    });
  });
  afterAll(async () => {
    await node?.stop();
    await proxy?.close();
    await db?.drop();
  });

  const listingsOf = async (ownerId: string, description: string) => {
    const direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    try {
      const { rows } = await direct.query(
        'SELECT id FROM listings WHERE owner_id = $1 AND description = $2',
        [ownerId, description],
      );
      return rows.map((r) => r.id as string);
    } finally {
      await direct.end();
    }
  };

  test('the command committed: its ack is the stored answer, and the listing exists once', async () => {
    // one attempt: the client must not hide the first answer behind a retry of its own
    const seller = await trader(node.url, 'cut-seller', true, {}, { attempts: 1 });
    proxy.arm('after');
    const result = await seller.createListing(listingInput({ description: 'across a cut' })).then(
      (l) => ({ ok: true as const, listing: l }),
      (e: HubClientError) => ({ ok: false as const, code: e.code, details: e.details }),
    );
    expect(proxy.cuts).toBe(1);
    expect(result).toMatchObject({ ok: true });
    expect(await listingsOf(seller.user.id, 'across a cut')).toEqual([
      result.ok ? result.listing.id : undefined,
    ]);
    seller.close();
  });

  test('the commit never arrived: UNAVAILABLE, nothing was committed, and nothing is', async () => {
    const seller = await trader(node.url, 'cut-early', true, {}, { attempts: 1 });
    proxy.arm('before');
    const err = (await seller
      .createListing(listingInput({ description: 'never sent' }))
      .catch((e) => e)) as HubClientError;
    expect(proxy.cuts).toBe(2);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details?.outcome).toBeUndefined();
    expect(await listingsOf(seller.user.id, 'never sent')).toEqual([]);
    seller.close();
  });

  test('the hub cannot tell (the database gone with the commit): the client says "no answer", and the same requestId finds it', async () => {
    // the client's own tries: the first answered outcome "unknown", the next ones UNAVAILABLE
    // (the database unreachable), which says nothing of the first
    const seller = await trader(node.url, 'cut-down');
    const input = { ...listingInput({ description: 'across an outage' }), meterId: seller.meterId };
    proxy.arm('after-down');
    const err = (await seller.command('listing:create', input).catch((e) => e)) as HubClientError;
    expect(proxy.cuts).toBe(3);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details).toMatchObject({ reason: 'no_answer' });
    proxy.up();
    // sent again with its requestId once the database is back: the listing it did commit
    const again = await seller.command('listing:create', input, {
      requestId: err.details!.requestId as string,
    });
    expect(await listingsOf(seller.user.id, 'across an outage')).toEqual([again.id]);
    seller.close();
  });
});
