// What a fanout target is, and what the swarms received of a phase's events.
import * as hdr from 'hdr-histogram-js';
import { type CpuSplit, type Swarm, sleep } from '../../harness.js';
import { histogram, summary } from '../../lib.js';

export const epoch = () => performance.timeOrigin + performance.now();

/** What the measurement needs from a server: where subscribers connect, and how to publish. */
export interface FanoutTarget {
  name: string;
  urls: string[];
  /** server processes, for CPU accounting */
  pids: number[];
  /** handshake auth of subscriber socket i */
  auth(i: number): Record<string, unknown>;
  /** publishes one event whose description is `fanout <seq> <stamp>`; resolves on the ack */
  publish(seq: number, stampEpochMs: number): Promise<void>;
}

interface Collected {
  delivery: string;
  delivered: number;
  firstRecv: number | null;
  lastRecv: number | null;
  sampleBytes: number;
  unparsed: number;
  subscribed: number;
  disconnects: number;
}

/** What the swarms received of `expected` deliveries of events published from `t0`. */
export function deliveryFigures(
  c: Awaited<ReturnType<typeof collect>>,
  expected: number,
  t0: number,
  cpu: CpuSplit,
) {
  const elapsed = Math.max(0.001, (c.lastRecv - t0) / 1000);
  return {
    deliveriesExpected: expected,
    delivered: c.delivered,
    lost: Math.max(0, expected - c.delivered),
    deliveriesPerSecond: Math.round(c.delivered / elapsed),
    seconds: Number(elapsed.toFixed(3)),
    latency: summary(c.h),
    eventBytes: c.sampleBytes,
    unparsed: c.unparsed,
    disconnects: c.disconnects,
    cpu,
  };
}

export async function collect(swarms: Swarm[]) {
  const parts = await Promise.all(swarms.map((s) => s.call<Collected>('collect')));
  const h = histogram();
  let delivered = 0;
  let lastRecv = 0;
  let unparsed = 0;
  let disconnects = 0;
  let sampleBytes = 0;
  for (const p of parts) {
    if (p.delivered) h.add(hdr.decodeFromCompressedBase64(p.delivery));
    delivered += p.delivered;
    lastRecv = Math.max(lastRecv, p.lastRecv ?? 0);
    unparsed += p.unparsed;
    disconnects += p.disconnects;
    sampleBytes ||= p.sampleBytes;
  }
  return { h, delivered, lastRecv, unparsed, disconnects, sampleBytes };
}

async function deliveredSoFar(swarms: Swarm[]) {
  const parts = await Promise.all(swarms.map((s) => s.call<{ delivered: number }>('delivered')));
  return parts.reduce((a, p) => a + p.delivered, 0);
}

export async function waitDelivered(swarms: Swarm[], expected: number, ms: number) {
  const end = performance.now() + ms;
  while ((await deliveredSoFar(swarms)) < expected && performance.now() < end) await sleep(50);
}
