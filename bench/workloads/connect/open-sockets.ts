// Opening and closing the sockets of a phase over the swarms, with merged figures.
import * as hdr from 'hdr-histogram-js';
import { progress, type Swarm, split, tcpCounters } from '../../harness.js';
import { histogram, summary } from '../../lib.js';
import { TCP_COUNTERS, TIMEOUT_MS } from './settings.js';

export interface Opened {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  handshake: string;
  ready: string;
  firstDue: number;
  elapsedSeconds: number;
}

/** Opens `auths.length` sockets at `rate` spread over the swarms; merged figures. */
export async function openAll(
  swarms: Swarm[],
  url: string,
  auths: Record<string, unknown>[],
  pace: { rate: number; maxInFlight?: number },
  readyOn: 'connect' | 'sync' | 'subscribe',
  label: string,
) {
  const line = progress(label);
  const tcp0 = await tcpCounters(TCP_COUNTERS);
  const parts = split(auths, swarms.length);
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  timer = setInterval(() => line.update(`${((performance.now() - t0) / 1000).toFixed(0)} s`), 1000);
  let opened: Opened[];
  try {
    opened = await Promise.all(
      swarms.map((s, k) =>
        s.call<Opened>('open', {
          url,
          auths: parts[k],
          rate: pace.rate / swarms.length,
          ...(pace.maxInFlight
            ? { maxInFlight: Math.max(1, Math.round(pace.maxInFlight / swarms.length)) }
            : {}),
          readyOn,
          timeoutMs: TIMEOUT_MS,
        }),
      ),
    );
  } finally {
    clearInterval(timer);
    timer = undefined;
  }
  const handshake = histogram();
  const ready = histogram();
  const errors: Record<string, number> = {};
  for (const o of opened) {
    if (o.connected) {
      handshake.add(hdr.decodeFromCompressedBase64(o.handshake));
      ready.add(hdr.decodeFromCompressedBase64(o.ready));
    }
    for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const connected = opened.reduce((a, o) => a + o.connected, 0);
  const failed = opened.reduce((a, o) => a + o.failed, 0);
  // first due time and last ready time over all swarms, in this process's clock (syncClocks)
  const first = Math.min(...opened.map((o) => o.firstDue));
  const last = Math.max(...opened.map((o) => o.firstDue + o.elapsedSeconds * 1000));
  const seconds = (last - first) / 1000;
  const tcp1 = await tcpCounters(TCP_COUNTERS);
  const figures = {
    offeredPerSecond: pace.maxInFlight ? null : pace.rate,
    maxInFlight: pace.maxInFlight ?? null,
    sockets: auths.length,
    connected,
    failed,
    errors,
    seconds: Number(seconds.toFixed(3)),
    handshakesPerSecond: Math.round(connected / seconds),
    /** from each socket's scheduled time to `connect` */
    handshake: summary(handshake),
    /** from each socket's scheduled time to ready (the hub: `sync`) */
    ready: summary(ready),
    /** kernel counters over the phase (the whole machine's namespace) */
    tcp: Object.fromEntries(TCP_COUNTERS.map((n) => [n, (tcp1[n] ?? 0) - (tcp0[n] ?? 0)])),
  };
  line.done(
    `${connected}/${auths.length} ready, ${failed} failed, ${figures.handshakesPerSecond}/s, ` +
      `ready p50 ${figures.ready.p50ms} ms, p99 ${figures.ready.p99ms} ms`,
  );
  return figures;
}

export async function closeAll(swarms: Swarm[]) {
  await Promise.all(swarms.map((s) => s.call('close')));
}
