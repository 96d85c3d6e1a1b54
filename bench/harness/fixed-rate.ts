// The open-loop driver: offered load at a fixed rate (no coordinated omission).
import { sleep } from './basics.js';

export interface FixedRateOutcome {
  /** slots due during the run */
  scheduled: number;
  /** slots handed to a worker */
  dispatched: number;
  /** slots still waiting for a free worker when the drain time ran out */
  unserved: number;
  /** seconds from the first slot to the last completion */
  elapsed: number;
}

/**
 * Open-loop load: slot i is due at t0 + i/rate whatever happened before. A due slot goes to the
 * next free worker (a worker holds one command in flight); `run` gets the slot's due time, so
 * latency measured from it includes any wait for a worker (no coordinated omission). New slots
 * stop after `seconds`; waiting slots get `drainMs` more to find a worker, the rest are counted
 * as unserved.
 */
export async function fixedRate<W>(opts: {
  rate: number;
  seconds: number;
  workers: W[];
  run(worker: W, dueAt: number): Promise<void>;
  drainMs: number;
  onTick?: (elapsedSeconds: number, backlog: number) => void;
}): Promise<FixedRateOutcome> {
  const interval = 1000 / opts.rate;
  const free = [...opts.workers];
  const due: number[] = [];
  let dueHead = 0;
  let dispatched = 0;
  let inFlight = 0;
  let allIdle: (() => void) | undefined;
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  let issued = 0;
  let lastDone = t0;
  const dispatch = () => {
    while (dueHead < due.length && free.length) {
      const w = free.shift()!; // the longest idle first: every worker takes its turn
      const at = due[dueHead++]!;
      dispatched++;
      inFlight++;
      void opts.run(w, at).finally(() => {
        inFlight--;
        lastDone = performance.now();
        free.push(w);
        dispatch();
        if (inFlight === 0) allIdle?.();
      });
    }
    if (dueHead > 4096 && dueHead * 2 > due.length) {
      due.splice(0, dueHead);
      dueHead = 0;
    }
  };
  let lastTick = t0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const shouldHave = Math.floor((now - t0) / interval) + 1;
    while (issued < shouldHave) due.push(t0 + issued++ * interval);
    dispatch();
    if (opts.onTick && now - lastTick >= 1000) {
      lastTick = now;
      opts.onTick((now - t0) / 1000, due.length - dueHead);
    }
    await sleep(1);
  }
  const drainEnd = performance.now() + opts.drainMs;
  while (dueHead < due.length && performance.now() < drainEnd) await sleep(5);
  const unserved = due.length - dueHead;
  due.length = 0;
  dueHead = 0;
  if (inFlight > 0) await new Promise<void>((r) => (allIdle = r));
  return { scheduled: issued, dispatched, unserved, elapsed: (lastDone - t0) / 1000 };
}
