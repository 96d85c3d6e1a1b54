// Webhooks (PROTOCOL-PUSH.md, "Webhooks") when a hub node dies: two hub child processes on one
// PostgreSQL database and Redis send a stream of events to slow receivers (each answers after a
// delay, so a request is nearly always open); the node that holds the lease of an endpoint whose
// request is open is killed with SIGKILL. The survivor takes its targets over once the lease ran
// out: every event arrives (signed), first attempts in event-id order, again only for what the dead
// node had sent but not recorded, never two requests open at once on one endpoint, and the survivor's
// delivery log has one 'delivered' attempt per event.
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { HubClient } from '../../src/client/index.js';
import { PASSWORD, uniqueEmail } from '../support/client.js';
import { type NodeProcess, startNode, TestRedis, until } from '../support/cluster.js';
import { freshDatabase, postgresAvailable } from '../support/services.js';
import { listingInput, type TestTrader, withMeter } from '../support/traders.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const ready = await postgresAvailable('webhooks with a node killed');

const ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '1000',
  PUSH_TIMEOUT_MS: '1000',
  WEBHOOK_RETRY_SCHEDULE_MS: '200,400,800,1600,3200',
  NOTIFY_POLL_MS: '100',
};
/** traders with a webhook each */
const OWNERS = 3;
/** proposal + withdrawal rounds per owner (2 events each) before the kill, and after it */
const BEFORE = 12;
const AFTER = 8;
/** a pause between an owner's rounds: the stream outpaces the deliveries, but not by far */
const PACE_MS = 100;
/** each receiver answers after this long: a delivery is nearly always open */
const DELAY_MS = 150;
/** the most first attempts a node sends before it records them (src/notify/target-worker.ts, EVENTS_PER_ROUND) */
const EVENTS_PER_ROUND = 20;

interface Owner {
  trader: TestTrader;
  receiver: Receiver;
  hook: { id: string; events: string[]; secret: string };
  listingId: string;
  /** the owner's newest event before the webhook existed */
  since: bigint;
}

interface LogItem {
  eventId: string;
  type: string;
  attempt: number;
  status: 'delivered' | 'retrying' | 'failed';
  error: string | null;
}

/** The whole delivery log of a webhook, from `base`, in pages. */
async function deliveryLog(base: string, owner: Owner): Promise<LogItem[]> {
  const client = new HubClient(base, owner.trader.session);
  const items: LogItem[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: LogItem[]; nextCursor: string | null } = await client.rest(
      'GET',
      `/api/v1/webhooks/${owner.hook.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Ids in first-arrival order. */
const firstArrivals = (r: Receiver) => [...new Set(r.requests.map((d) => d.id))];

describe.skipIf(!ready)('webhooks: a node killed with SIGKILL while it sends', () => {
  test('the survivor takes its endpoints over: every event at least once, in order, one request at a time', async () => {
    const started = Date.now();
    const redis = await TestRedis.start();
    const db = await freshDatabase();
    const env = { ...db.env, ...ENV, REDIS_URL: redis.url, REDIS_PREFIX: `t-${db.id}` };
    const sql = new pg.Pool({ connectionString: db.url, max: 4 });
    // pool.end() resolves before its sessions have closed: the database's drop may force one out
    sql.on('error', () => {});
    const nodes: NodeProcess[] = await Promise.all([startNode(env), startNode(env)]);
    const clients: HubClient[] = [];
    const receivers: Receiver[] = [];
    let load: Promise<void>[] = [];
    let stopped = false;
    try {
      const make = async (node: NodeProcess, name: string) => {
        const c = await HubClient.register(
          node.url,
          { email: uniqueEmail(name), password: PASSWORD, displayName: name },
          { ackTimeoutMs: 5000, attempts: 2 },
        );
        const t = await withMeter(c);
        await c.connect();
        clients.push(c);
        return t;
      };
      const newestEvent = async (userId: string) => {
        const { rows } = await sql.query<{ id: string }>(
          'SELECT coalesce(max(id), 0)::text AS id FROM events WHERE user_a = $1 OR user_b = $1',
          [userId],
        );
        return BigInt(rows[0]!.id);
      };

      // each owner: a receiver of its own, a webhook to it, a listing for the others to propose on
      const owners: Owner[] = await Promise.all(
        Array.from({ length: OWNERS }, async (_, i) => {
          const trader = await make(nodes[i % 2]!, `kill-owner-${i}`);
          const receiver = await startReceiver();
          receivers.push(receiver);
          receiver.delayMs = DELAY_MS;
          const since = await newestEvent(trader.user.id);
          const hook = await trader.rest<Owner['hook']>('POST', '/api/v1/webhooks', { url: receiver.url });
          receiver.secrets.push(hook.secret);
          const listing = await trader.createListing(listingInput({ volumeKwh: '1000' }));
          return { trader, receiver, hook, listingId: listing.id, since };
        }),
      );
      // proposers on each node, one per owner and node
      const proposers = new Map<NodeProcess, TestTrader[]>();
      for (const [n, node] of nodes.entries()) {
        proposers.set(node, await Promise.all(owners.map((_, i) => make(node, `kill-proposer-${n}-${i}`))));
      }

      // the stream: per owner, proposals withdrawn at once, through both nodes in turn (the survivor
      // alone once one is dead); 2 events for the owner each round, up to `budget` rounds
      const rounds = owners.map(() => 0);
      const budget = owners.map(() => BEFORE);
      let failures = 0;
      let victim: NodeProcess | undefined;
      load = owners.map(async (o, i) => {
        for (let k = 0; !stopped; k++) {
          await new Promise((r) => setTimeout(r, PACE_MS));
          if (rounds[i]! >= budget[i]!) continue;
          const alive = nodes.filter((n) => n !== victim);
          const p = proposers.get(alive[k % alive.length]!)![i]!;
          try {
            const s = await p.propose({ listingId: o.listingId, volumeKwh: '1', pricePerKwh: '0.1' });
            await p.withdraw(s.id);
            rounds[i]!++;
          } catch {
            failures++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      });

      await until(
        () => rounds.every((n) => n >= BEFORE) && receivers.every((r) => r.requests.length >= 3),
        60_000,
        () => `rounds ${rounds}, requests ${receivers.map((r) => r.requests.length)}`,
      );

      // the node holding the lease of an endpoint with a request open: killed in that very moment
      const leases = async () => {
        const { rows } = await sql.query<{ id: string; claimed_by: string | null }>(
          'SELECT id::text AS id, claimed_by FROM notify_targets WHERE id = ANY($1::uuid[])',
          [owners.map((o) => o.hook.id)],
        );
        return new Map(rows.map((r) => [r.id, r.claimed_by]));
      };
      const pidOf = (claimedBy: string | null | undefined) => Number(claimedBy?.split(':').at(-2));
      type Strike = {
        node: NodeProcess;
        claimedBy: string;
        held: Owner[];
        /** the endpoints with a request open at the kill, and its event id */
        open: { owner: Owner; id: string }[];
        at: number;
      };
      /** the request open on an endpoint, arrived a moment ago (so that its answer is far off) */
      const fresh = (r: Receiver) => {
        const d = r.requests.at(-1);
        return r.inFlight > 0 &&
          d &&
          d.answeredAt === undefined &&
          !r.aborted.includes(d) &&
          Date.now() - d.at < DELAY_MS / 2
          ? d.id
          : undefined;
      };
      let strike: Strike | undefined;
      const strikeDeadline = Date.now() + 30_000;
      while (!strike) {
        if (Date.now() > strikeDeadline) throw new Error('no leased endpoint with a request open in 30 s');
        const held = await leases();
        const candidates = nodes
          .map((node) => {
            const mine = owners.filter((o) => pidOf(held.get(o.hook.id)) === node.pid);
            return { node, claimedBy: mine.length ? held.get(mine[0]!.hook.id)! : '', held: mine };
          })
          .filter((c) => c.held.length > 0);
        // look for an open request for a moment; the leases may have moved meanwhile: read them again
        strike = await new Promise<Strike | undefined>((resolve) => {
          const until = Date.now() + 1000;
          const timer = setInterval(() => {
            for (const c of candidates) {
              const open = c.held
                .map((owner) => ({ owner, id: fresh(owner.receiver) }))
                .filter((x): x is { owner: Owner; id: string } => x.id !== undefined);
              if (!open.length) continue;
              void c.node.kill('SIGKILL'); // the signal leaves now, in this very tick
              clearInterval(timer);
              return resolve({ ...c, open, at: Date.now() });
            }
            if (Date.now() > until) {
              clearInterval(timer);
              resolve(undefined);
            }
          }, 1);
        });
        // the endpoints caught up: a few more events for each
        if (!strike) for (const [i, n] of rounds.entries()) budget[i] = Math.max(budget[i]!, n + 2);
      }
      victim = strike.node;
      const survivor = nodes.find((n) => n !== victim)!;
      const roundsAtKill = [...rounds];
      for (const [i, n] of roundsAtKill.entries()) budget[i] = n + AFTER;
      // its leases are still the dead node's (nobody may take them before they run out): the
      // endpoints the dead node was sending to (it may have leased one more since the read above)
      const after = await leases();
      const deadHeld = owners.filter((o) => after.get(o.hook.id) === strike!.claimedBy);
      for (const { owner } of strike.open) expect(deadHeld).toContain(owner);
      // the open requests end; the receiver may still answer them (a killed process closes its
      // sockets only once its memory is torn down), but the dead node never read that answer
      await until(
        () => strike!.open.every((o) => o.owner.receiver.inFlight === 0),
        30_000,
        () => `open requests ${strike!.open.map((o) => o.owner.receiver.inFlight)}`,
      );
      const interrupted = strike.open.map((o) => o.id);
      const aborted = strike.open.flatMap((o) => o.owner.receiver.aborted.map((d) => d.id));

      // the survivor takes the dead node's endpoints over once its leases ran out (3 s here:
      // 3 x max(WEBHOOK_TIMEOUT_MS, PUSH_TIMEOUT_MS)) and sends the interrupted events again
      await until(
        () =>
          strike!.open.every(({ owner, id }) =>
            owner.receiver.delivered.some((d) => d.id === id && d.at > strike!.at),
          ),
        60_000,
        () => `interrupted ${interrupted} not delivered again since the kill`,
      );
      const takeoverMs =
        Math.min(
          ...strike.open.map((o) => o.owner.receiver.requests.find((d) => d.at > strike!.at)?.at ?? Infinity),
        ) - strike.at;

      // more events, through the survivor alone
      await until(
        () => rounds.every((n, i) => n >= roundsAtKill[i]! + AFTER),
        60_000,
        () => `rounds ${rounds} (at the kill ${roundsAtKill})`,
      );
      stopped = true;
      await Promise.all(load);

      // every event of each owner since its webhook exists, from the database
      const expected = await Promise.all(
        owners.map(async (o) => {
          const { rows } = await sql.query<{ id: string; type: string }>(
            `SELECT id::text AS id, type FROM events WHERE (user_a = $1 OR user_b = $1) AND id > $2 ORDER BY events.id`,
            [o.trader.user.id, o.since.toString()],
          );
          return rows.filter((e) => o.hook.events.includes(e.type)).map((e) => e.id);
        }),
      );
      for (const ids of expected) expect(ids.length).toBeGreaterThanOrEqual(2 * (BEFORE + AFTER) + 1);
      await until(
        () =>
          owners.every((o, i) => {
            const got = new Set(o.receiver.delivered.map((d) => d.id));
            return expected[i]!.every((id) => got.has(id));
          }),
        90_000,
        () =>
          `delivered ${owners.map((o, i) => `${new Set(o.receiver.delivered.map((d) => d.id)).size}/${expected[i]!.length}`)}`,
      );
      await until(
        () => receivers.every((r) => r.inFlight === 0),
        30_000,
        () => `open ${receivers.map((r) => r.inFlight)}`,
      );

      // a round's attempts are written once its requests have ended: the last round's record
      // follows its receipts by a moment
      let logs: LogItem[][] = [];
      await until(
        async () => {
          logs = await Promise.all(owners.map((o) => deliveryLog(survivor.url, o)));
          return logs.every((l, i) => {
            const done = new Set(l.filter((a) => a.status === 'delivered').map((a) => a.eventId));
            return expected[i]!.every((id) => done.has(id));
          });
        },
        30_000,
        () =>
          `delivered in the log ${logs.map((l, i) => `${l.filter((a) => a.status === 'delivered').length}/${expected[i]!.length}`)}`,
      );
      const report: string[] = [];
      for (const [i, o] of owners.entries()) {
        const r = o.receiver;
        const ids = expected[i]!;
        // never two requests open at once on one endpoint
        expect(r.maxInFlight).toBe(1);
        // each signed with the webhook's secret
        expect(r.requests.every((d) => d.verified)).toBe(true);
        // first arrivals: exactly the owner's events (nothing else, nothing missing), ascending but
        // for those whose first attempt failed (a request that timed out on a loaded box): their
        // retry comes after later events' first attempts, as the contract allows
        const log = logs[i]!;
        const firsts = firstArrivals(r);
        const retriedIds = new Set(log.filter((a) => a.status !== 'delivered').map((a) => a.eventId));
        expect([...firsts].sort()).toEqual([...ids].sort());
        expect(firsts.filter((id) => !retriedIds.has(id))).toEqual(ids.filter((id) => !retriedIds.has(id)));
        // again only what the dead node had sent without recording it, at most one round: the
        // arrivals are distinct up to the survivor's first resend; from there come the tail of what
        // had arrived, in order, then new events only (a retry would repeat one too: then the bound)
        const again = r.requests.length - firsts.length;
        // (each failed attempt in the log is one request more: its retry)
        const failedAttempts = log.filter((a) => a.status !== 'delivered').length;
        expect(again).toBeLessThanOrEqual(EVENTS_PER_ROUND + failedAttempts);
        const retried = retriedIds.size > 0;
        if (!retried && again > 0) {
          expect(deadHeld).toContain(o);
          const seq = r.requests.map((d) => d.id);
          const cut = seq.findIndex((id, k) => seq.indexOf(id) < k);
          const head = seq.slice(0, cut);
          expect(r.requests[cut]!.at).toBeGreaterThan(strike.at);
          expect(seq.slice(cut, cut + again)).toEqual(head.slice(head.length - again));
          const rest = seq.slice(cut + again);
          expect(new Set([...head, ...rest]).size).toBe(head.length + rest.length);
        }
        // the survivor's log: one 'delivered' attempt per event, none for anything else
        const delivered = log.filter((a) => a.status === 'delivered').map((a) => a.eventId);
        expect(delivered.sort()).toEqual([...ids].sort());
        expect(new Set(log.map((a) => a.eventId)).size).toBe(ids.length);
        report.push(
          `${o.hook.id.slice(0, 8)}${deadHeld.includes(o) ? ' (dead node)' : ''}: ${ids.length} events, ` +
            `${r.requests.length} requests, ${again} again, ${log.length - delivered.length} retries`,
        );
      }

      // the killed node again, a fresh process: it sends too
      const restarted = await startNode(env);
      nodes.push(restarted);
      const o = owners[0]!;
      const p = new HubClient(restarted.url, proposers.get(survivor)![0]!.session, { ackTimeoutMs: 5000 });
      clients.push(p);
      await p.connect();
      const s = await p.propose({
        listingId: o.listingId,
        meterId: proposers.get(survivor)![0]!.meterId,
        volumeKwh: '1',
        pricePerKwh: '0.1',
      });
      await p.withdraw(s.id);
      const last = await sql.query<{ id: string }>(
        'SELECT max(id)::text AS id FROM events WHERE user_a = $1 OR user_b = $1',
        [o.trader.user.id],
      );
      await o.receiver.waitFor((x) => x.delivered.some((d) => d.id === last.rows[0]!.id), 30_000);
      expect(o.receiver.maxInFlight).toBe(1);

      console.info(
        `notify kill: killed pid ${strike.node.pid} holding ${deadHeld.length}/${OWNERS} endpoints ` +
          `(${strike.open.length} with a request open: ${interrupted}; ${aborted.length} seen aborted); takeover after ${takeoverMs} ms; ` +
          `rounds ${rounds}, ${failures} commands refused; ${report.join('; ')}; ${Date.now() - started} ms in all`,
      );
    } finally {
      stopped = true;
      await Promise.allSettled(load);
      for (const c of clients) c.close();
      await Promise.all(receivers.map((r) => r.close()));
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await sql.end();
      await redis.stop();
      await db.drop();
    }
  }, 300_000);
});
