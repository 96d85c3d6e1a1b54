// What the relay workload drives: hub commands (create listing) closed loop or at a fixed rate, and
// events written straight into the log with SQL at a fixed rate with the relay kicked after each
// insert, as a command's commit kicks it; and how one phase is measured at the swarm's sockets.
import { createShardedAdapter } from '@socket.io/redis-adapter';
import * as hdr from 'hdr-histogram-js';
import pg from 'pg';
import { Server } from 'socket.io';
import type { Listing } from '../../../src/client/index.js';
import { adapterClients } from '../../harness/redis-cluster.js';
import {
  type BenchTrader,
  type CpuSplit,
  countInto,
  cpuMeter,
  cpuSeconds,
  errorCode,
  fixedRate,
  listingInput,
  progress,
  type Swarm,
  sleep,
} from '../../harness.js';
import { histogram, summary } from '../../lib.js';
import { collect, deliveryFigures, epoch, waitDelivered } from '../fanout/deliveries.js';

/** how long a phase waits for its last deliveries */
const SETTLE_MS = 5_000;

export interface Driven<E extends Record<string, unknown> = Record<string, unknown>> {
  /** events committed (each reaches every subscriber) */
  events: number;
  /** seconds from the first send to the last commit */
  seconds: number;
  /** per-driver figures: acks, insert lag, errors */
  extra: E;
}

/** Runs `drive` with the swarms counting; delivery latency is from each event's stamp to receipt. */
export async function measure<E extends Record<string, unknown>>(
  label: string,
  swarms: Swarm[],
  subscribers: number,
  pids: number[],
  drive: () => Promise<Driven<E>>,
) {
  await Promise.all(swarms.map((s) => s.call('reset', { watch: false })));
  const cpu = await cpuMeter(pids, swarms);
  const perNode = () => Promise.all(pids.map((p) => cpuSeconds(p).catch(() => 0)));
  const node0 = await perNode();
  const t0 = epoch();
  const d = await drive();
  const node1 = await perNode();
  const busy = (epoch() - t0) / 1000;
  const expected = d.events * subscribers;
  await waitDelivered(swarms, expected, SETTLE_MS);
  const split: CpuSplit = await cpu();
  const c = await collect(swarms);
  // one swarm per node (relay.ts), so each swarm's histogram is one node's sockets
  const perSwarm = await Promise.all(
    swarms.map((s) => s.call<{ delivery: string; delivered: number }>('collect')),
  );
  const latencyPerNode = perSwarm.map((p) =>
    p.delivered ? summary(hdr.decodeFromCompressedBase64(p.delivery)) : null,
  );
  const figures = {
    events: d.events,
    eventsPerSecond: Math.round(d.events / d.seconds),
    ...d.extra,
    ...deliveryFigures(c, expected, t0, split),
    /** each server process's cores while the load ran (the relay's node is the workload's relayNode) */
    coresPerNode: node1.map((x, i) => Number(((x - node0[i]!) / busy).toFixed(2))),
    latencyPerNode,
  };
  console.log(
    `${label}: ${figures.eventsPerSecond} events/s, ${c.delivered}/${expected} delivered, p50 ${figures.latency.p50ms} ms, ` +
      `p99 ${figures.latency.p99ms} ms; cores hubs ${split.server}, postgres ${split.postgres}, redis ${split.redis}, ` +
      `swarm ${split.swarms}, bench ${split.bench}, machine ${split.machine}`,
  );
  return figures;
}

let nextSeq = 1;

/** Creates one listing on `trader` whose description carries the swarm's stamp. */
async function createStamped(trader: BenchTrader, stampEpochMs: number) {
  return trader.createListing({
    ...listingInput('10', trader.meterId),
    description: `fanout ${nextSeq++} ${stampEpochMs.toFixed(3)}`,
  });
}

/** Commands: `lanes` lanes per publisher in a closed loop for `seconds` (stamp: the send). */
export async function commandsClosed(
  publishers: BenchTrader[],
  lanes: number,
  seconds: number,
): Promise<
  Driven<{ ack: ReturnType<typeof summary>; errors: Record<string, number> }> & {
    template: Listing | undefined;
  }
> {
  const ack = histogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let template: Listing | undefined;
  const line = progress(`closed loop, ${publishers.length} x ${lanes} lanes`);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let last = t0;
  await Promise.all(
    publishers.flatMap((p) =>
      Array.from({ length: lanes }, async () => {
        while (performance.now() < end) {
          const sent = performance.now();
          try {
            const listing = await createStamped(p, performance.timeOrigin + sent);
            template ??= listing;
            ok++;
            last = performance.now();
            ack.recordValue(Math.max(1, Math.round((last - sent) * 1000)));
            line.update(`${ok} committed`);
          } catch (err) {
            countInto(errors, errorCode(err));
          }
        }
      }),
    ),
  );
  line.done(`${ok} committed`);
  return { events: ok, seconds: (last - t0) / 1000, extra: { ack: summary(ack), errors }, template };
}

/** Commands at `rate`/s over the publishers (stamp: the slot's due time, so queueing counts). */
export async function commandsAt(publishers: BenchTrader[], rate: number, seconds: number) {
  const ack = histogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let turn = 0;
  const out = await fixedRate({
    rate,
    seconds,
    workers: Array.from({ length: 64 * publishers.length }, (_, i) => i),
    drainMs: SETTLE_MS,
    run: async (_w, dueAt) => {
      try {
        await createStamped(publishers[turn++ % publishers.length]!, performance.timeOrigin + dueAt);
        ok++;
        ack.recordValue(Math.max(1, Math.round((performance.now() - dueAt) * 1000)));
      } catch (err) {
        countInto(errors, errorCode(err));
      }
    },
  });
  return { events: ok, seconds: out.elapsed, extra: { unserved: out.unserved, ack: summary(ack), errors } };
}

/** The hub's event insert (src/store/outbox/event-log.ts): ids from the writing transaction. */
const INSERT_SQL = `INSERT INTO events (id, type, at, user_a, user_b, data)
  SELECT (pg_current_xact_id()::text::bigint << 16) + x.o - 1, 'listing.created', now(), NULL, NULL,
    $1::jsonb || jsonb_build_object('id', gen_random_uuid(), 'description', 'fanout ' || x.s || ' ' || x.t)
  FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS x(s, t, o)`;

/**
 * Kicks the relay of the hub nodes under `env`'s Redis and prefix as a commit does: a Socket.IO
 * server of the bench's own on the hub's adapter channels, `serverSideEmit('outbox:kick')`.
 */
export async function relayKicker(env: Record<string, string>) {
  const clients = adapterClients(env);
  await Promise.all(clients.map((c) => c.connect()));
  const io = new Server({
    adapter: createShardedAdapter(clients[0]!, clients[1]!, {
      channelPrefix: `${env.REDIS_PREFIX}#io`,
      subscriptionMode: 'static',
    }),
  });
  return {
    kick: () => io.serverSideEmit('outbox:kick'),
    // the server has no engine (it serves no socket): close its adapter and its Redis clients only
    stop: async () => {
      io.of('/').adapter.close();
      for (const c of clients) c.disconnect();
    },
  };
}

/**
 * Events straight into the log at `rate`/s for `seconds`: whatever is due goes in one INSERT (one
 * transaction), then the relay is kicked. Stamps are the due times, so a late insert counts.
 */
export async function insertsAt(
  databaseUrl: string,
  kick: () => void,
  listing: Listing,
  rate: number,
  seconds: number,
) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { id: _, description: __, ...fields } = listing;
  const lag = histogram();
  let inserts = 0;
  let issued = 0;
  try {
    const t0 = performance.now();
    const total = Math.round(rate * seconds);
    while (issued < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      if (due <= issued) {
        await sleep(1);
        continue;
      }
      const seqs: number[] = [];
      const stamps: string[] = [];
      for (let i = issued; i < due; i++) {
        seqs.push(nextSeq++);
        stamps.push((performance.timeOrigin + t0 + (i * 1000) / rate).toFixed(3));
      }
      await client.query(INSERT_SQL, [JSON.stringify(fields), seqs, stamps]);
      inserts++;
      kick();
      lag.recordValue(Math.max(1, Math.round((performance.now() - (t0 + (issued * 1000) / rate)) * 1000)));
      issued = due;
    }
    return {
      events: issued,
      seconds: (performance.now() - t0) / 1000,
      extra: { inserts, eventsPerInsert: Number((issued / inserts).toFixed(1)), insertLag: summary(lag) },
    };
  } finally {
    await client.end();
  }
}
