// negotiate's baseline: the bare relay with the same clients, closed loop and the hub's rates, propose only.
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { countInto, errorCode, mapLimit, sleep, startBareRelay, stopAll } from '../../harness.js';
import { closedLoop, openLoop } from './loops.js';
import { phaseFigures, Recorder } from './recorder.js';
import {
  ACK_TIMEOUT_MS,
  DELIVERY_GRACE_MS,
  NEGOTIATE_DEFAULTS,
  type NegotiateSettings,
  us,
} from './settings.js';

interface RelayClient {
  id: string;
  socket: Socket;
}

interface RelayLane {
  a: RelayClient;
  b: RelayClient;
  listingId: string;
  /** stands for the proposer's meter, so the payload is the hub's size */
  meterId: string;
  turn: boolean;
}

async function relaySend(
  lane: RelayLane,
  rec: Recorder,
  waiting: Map<string, { sentAt: number; rec: Recorder }>,
  dueAt?: number,
) {
  const [from, to] = lane.turn ? [lane.b, lane.a] : [lane.a, lane.b];
  lane.turn = !lane.turn;
  const sentAt = performance.now();
  // the hub's swap:propose payload, plus the relay's routing fields
  const payload = {
    requestId: randomUUID(),
    listingId: lane.listingId,
    meterId: lane.meterId,
    volumeKwh: '5',
    pricePerKwh: '0.1',
    to: to.id,
    sentAt,
  };
  rec.expected++;
  waiting.set(payload.requestId, { sentAt, rec });
  try {
    const answer = (await from.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('swap:propose', payload)) as {
      ok: boolean;
    };
    if (!answer.ok) throw new Error('not ok');
    rec.committed(sentAt, dueAt ?? sentAt, 'propose');
  } catch (err) {
    if (waiting.delete(payload.requestId)) rec.expected--;
    countInto(rec.errors, `propose: ${errorCode(err)}`);
  }
}

export async function runRelay(rates: number[]) {
  const relay = await startBareRelay();
  try {
    return await negotiateOnRelay([relay.url], rates);
  } finally {
    await stopAll([relay]);
  }
}

/**
 * The relay's side of the comparison against relays already running at `urls`: the same number
 * of clients, round-robin over the relays (pairs split over two nodes as on the hub), closed loop
 * and the hub's fixed rates, propose only.
 */
export async function negotiateOnRelay(
  urls: string[],
  rates: number[],
  s: NegotiateSettings = NEGOTIATE_DEFAULTS,
  name = 'relay',
) {
  const sockets: Socket[] = [];
  try {
    const waiting = new Map<string, { sentAt: number; rec: Recorder }>();
    const clients: RelayClient[] = Array.from({ length: s.clients }, (_, i) => {
      const id = randomUUID();
      const socket = io(urls[i % urls.length]!, {
        transports: ['websocket'],
        auth: { userId: id },
        reconnectionDelay: 250,
      });
      sockets.push(socket);
      socket.on('event', (e: { data: { requestId: string; to: string } }) => {
        if (e.data.to !== id) return;
        const w = waiting.get(e.data.requestId);
        if (!w) return;
        waiting.delete(e.data.requestId);
        w.rec.delivery.recordValue(us(performance.now() - w.sentAt));
      });
      return { id, socket };
    });
    await mapLimit(sockets, 20, (s) =>
      s.connected ? Promise.resolve() : new Promise<void>((resolve) => s.once('connect', () => resolve())),
    );
    const settle = async (rec: Recorder) => {
      const end = performance.now() + DELIVERY_GRACE_MS;
      const pending = () => [...waiting.values()].filter((w) => w.rec === rec).length;
      while (pending() > 0 && performance.now() < end) await sleep(20);
      const lost = pending();
      for (const [k, w] of waiting) if (w.rec === rec) waiting.delete(k);
      return lost;
    };
    const lanesOf = (n: number) => {
      const lanes: RelayLane[] = [];
      for (let i = 0; i < clients.length; i += 2)
        for (let j = 0; j < n; j++)
          lanes.push({
            a: clients[i]!,
            b: clients[i + 1]!,
            listingId: randomUUID(),
            meterId: randomUUID(),
            turn: false,
          });
      return lanes;
    };
    const closedLanes = lanesOf(s.closedLanes);
    const warm = new Recorder();
    await closedLoop(`${name} warm-up`, closedLanes, s.warmup, warm, (l) => relaySend(l, warm, waiting));
    await settle(warm);
    const a = new Recorder();
    const aElapsed = await closedLoop(
      `${name} closed loop, ${closedLanes.length} pairs`,
      closedLanes,
      s.seconds,
      a,
      (l) => relaySend(l, a, waiting),
    );
    const aLost = await settle(a);
    const figures = (rec: Recorder, elapsed: number, lost: number) => {
      const { ackByCommand: _, ...rest } = phaseFigures(rec, elapsed, lost);
      return rest;
    };
    const fixed = [];
    for (const rate of rates) {
      const openLanes = lanesOf(s.lanes);
      const b = new Recorder();
      const bOut = await openLoop(
        `${name}: ${rate} msgs/s`,
        rate,
        openLanes,
        b,
        (l, due) => relaySend(l, b, waiting, due),
        s.seconds,
      );
      const bLost = await settle(b);
      fixed.push({
        offeredPerSecond: rate,
        lanes: openLanes.length,
        ...bOut,
        achievedPerSecond: Math.round(b.ok / bOut.elapsed),
        ...figures(b, bOut.elapsed, bLost),
      });
    }
    return { closedLoop: { seconds: aElapsed, ...figures(a, aElapsed, aLost) }, fixedRate: fixed };
  } finally {
    for (const socket of sockets) socket.close();
  }
}
