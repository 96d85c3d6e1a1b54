// The notification sender's thread (src/notify/send-thread.ts): runs postOutbound for the main
// thread, at a lower scheduling priority, so a box short of CPU runs commands first.
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { OutboundError, type OutboundOptions, postOutbound } from './outbound-http.js';
import type { SendReply, SendRequest } from './send-thread.js';

const port = parentPort!;
const { nice } = workerData as { nice: number };

/**
 * Linux schedules threads, and setpriority(2) on a thread's id sets that thread's nice value alone:
 * this thread's id is the last part of /proc/thread-self. Elsewhere (or refused) it stays as it is.
 */
function lowerPriority(): string | undefined {
  if (nice <= 0) return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return 'no thread id';
    os.setPriority(tid, nice);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const inFlight = new Map<number, AbortController>();

port.on('message', (msg: SendRequest | { cancel: number }) => {
  if ('cancel' in msg) {
    inFlight.get(msg.cancel)?.abort();
    return;
  }
  const abort = new AbortController();
  inFlight.set(msg.id, abort);
  const opts: OutboundOptions = { ...msg.opts, signal: abort.signal };
  postOutbound(msg.url, opts).then(
    (value) => reply({ id: msg.id, value }),
    (err: unknown) =>
      reply(
        err instanceof OutboundError
          ? { id: msg.id, error: { code: err.code, message: err.message } }
          : { id: msg.id, error: { code: 'network', message: 'the request failed' } },
      ),
  );
});

function reply(r: SendReply): void {
  inFlight.delete(r.id);
  port.postMessage(r);
}

port.postMessage({ ready: true, priorityError: lowerPriority() });
