// A replay ("send again from event X") that comes while a node works on the webhook must reach the
// receiver, whatever the worker is doing: in the middle of a round whose claim the node takes up
// again (a lease that ran out while its send waited), or idle between rounds. The worker
// (src/notify/target-worker.ts) runs here on the real database against a real local receiver; the
// hub's own dispatcher leaves the target alone (it is not active), and the test takes the claim
// up as the dispatcher's run() does.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import pLimit from 'p-limit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NotifyTarget } from '../../src/domain/notify.js';
import type { Channel } from '../../src/notify/attempts.js';
import { postOutbound } from '../../src/notify/outbound-http.js';
import { type Worker, type WorkerContext, work } from '../../src/notify/target-worker.js';
import { webhookChannel } from '../../src/notify/webhook-channel.js';
import { createDispatchStore } from '../../src/store/notify/dispatch-store.js';
import { until } from '../support/cluster.js';
import { receiver } from '../support/http-receiver.js';
import { startHub, type TestHub } from '../support/hub.js';
import { postgresAvailable } from '../support/services.js';
import { trader } from '../support/traders.js';

const ready = await postgresAvailable('a replay during a webhook round');

/** the user's events, ascending; the webhook's position starts after the third */
const IDS = [11n, 12n, 13n, 14n, 15n];

describe.skipIf(!ready)('a replay while a node sends to the webhook', () => {
  let node: TestHub;
  let userId: string;
  const db = () => node.hub.db!;
  const sql = (text: string, values: unknown[] = []) =>
    db().notifySql.rows<Record<string, string>>(text, values);

  beforeAll(async () => {
    node = await startHub();
    const t = await trader(node.url, 'replay-round', false);
    userId = t.user.id;
    t.close();
    for (const id of IDS) {
      await sql(
        `INSERT INTO events (id, type, at, user_a, data) VALUES ($1, 'swap.proposed', now(), $2, '{}'::jsonb)`,
        [id.toString(), userId],
      );
    }
  });
  afterAll(() => node?.stop());

  /** A webhook at `port`, not active (the hub's dispatcher leaves it), claimed by the test. */
  async function claimedWebhook(port: number, cursor: bigint) {
    const [row] = await sql(
      `INSERT INTO notify_targets (id, kind, user_id, events, status, url, secret, cursor, created_at, updated_at,
         claimed_by, claim_token, claim_until)
       VALUES (gen_random_uuid(), 'webhook', $1, '{swap.proposed}', 'disabled', $2, $3, $4, now(), now(),
         'test', gen_random_uuid(), now() + interval '1 minute')
       RETURNING id::text AS id, claim_token::text AS token`,
      [
        userId,
        `http://127.0.0.1:${port}/hook`,
        `whsec_${randomBytes(32).toString('base64')}`,
        cursor.toString(),
      ],
    );
    return { id: row!.id!, token: row!.token! };
  }

  /** The worker's context: the hub's store and pool, the real webhook channel, a long lease. */
  function context(stopped: () => boolean): WorkerContext {
    const webhook = webhookChannel({
      allowPrivate: true,
      timeoutMs: 10_000,
      retrySchedule: [1000],
      disableAfterMs: 3 * 86_400_000,
      post: postOutbound,
    });
    return {
      sql: db().notifySql,
      store: createDispatchStore(db().notifySql),
      channels: { webhook, push: webhook as Channel },
      log: pino({ level: 'silent' }),
      onDisable: async () => {},
      leaseMs: 60_000,
      sendTimeoutMs: 10_000,
      idleMs: 300,
      random: Math.random,
      sends: pLimit(4),
      senderReady: async () => {},
      stopped,
      requeue: () => {},
    };
  }

  /** The event ids the receiver got, in order of arrival. */
  const received = (r: { requests: { headers: http.IncomingHttpHeaders }[] }) =>
    r.requests.map((q) => BigInt(String(q.headers['webhook-id'])));

  /** The replay's statement as the API's (target-store.ts), without making the webhook active. */
  const replay = (id: string, after: bigint) =>
    sql(
      'UPDATE notify_targets SET cursor = LEAST(cursor, $2::bigint), cursor_version = cursor_version + 1 WHERE id = $1',
      [id, after.toString()],
    );

  async function startWorker(id: string, token: string) {
    let stopped = false;
    const c = context(() => stopped);
    const target = (await c.store.reload(id, token)) as NotifyTarget;
    const worker: Worker = { target, token, leaseEnds: Date.now() + c.leaseMs, woken: false };
    const done = work(c, worker);
    return {
      c,
      worker,
      async stop() {
        stopped = true;
        worker.wake?.();
        await done;
      },
    };
  }

  test('in the middle of a round whose claim the node takes up again: the replayed events are sent', async () => {
    let hold: (() => void) | undefined;
    const r = await receiver((_req: http.IncomingMessage, res: http.ServerResponse) => {
      if (r.requests.length === 1) hold = () => res.end();
      else res.end();
    });
    const { id, token } = await claimedWebhook(r.port, IDS[2]!);
    const w = await startWorker(id, token);
    try {
      // the round's first send (14) waits at the receiver
      await until(() => hold !== undefined, 15_000, 'the first send');
      expect(received(r)).toEqual([IDS[3]]);
      await replay(id, 10n);
      // the lease ran out and the node claimed the target again, as the dispatcher's run() takes
      // the new claim up into the worker that is still busy with the old one
      const [row] = await sql(
        `UPDATE notify_targets SET claim_token = gen_random_uuid(), claim_until = now() + interval '1 minute'
         WHERE id = $1 RETURNING claim_token::text AS token`,
        [id],
      );
      w.worker.token = row!.token!;
      w.worker.target = (await w.c.store.reload(id, row!.token!))!;
      w.worker.leaseEnds = Date.now() + w.c.leaseMs;
      w.worker.woken = true;
      hold!();
      // everything after 10 goes again: 11, 12 and 13 included, which the old round never had
      await until(
        () => IDS.slice(0, 3).every((e) => received(r).includes(e)),
        20_000,
        () => `the replayed events; received ${received(r).join(', ')}`,
      );
    } finally {
      await w.stop();
    }
  });

  test('idle between rounds: the replayed events are sent without waiting for the lease to run out', async () => {
    const r = await receiver((_req: http.IncomingMessage, res: http.ServerResponse) => res.end());
    const { id, token } = await claimedWebhook(r.port, IDS[4]!);
    const w = await startWorker(id, token);
    try {
      // the worker has looked and found nothing past 15: it waits for more
      await until(async () => w.worker.wake !== undefined, 15_000, 'the worker waiting');
      await replay(id, 10n);
      // a lease of a minute: what arrives within 20 s was not waiting for it to run out
      await until(
        () => IDS.every((e) => received(r).includes(e)),
        20_000,
        () => `the replayed events; received ${received(r).join(', ')}`,
      );
    } finally {
      await w.stop();
    }
  });
});
