// The two ways a phase drives its lanes: a closed loop, and commands at a fixed offered rate.
import { type FixedRateOutcome, fixedRate, progress } from '../../harness.js';
import type { Recorder } from './recorder.js';
import { SECONDS } from './settings.js';

/** Runs every lane in a closed loop for `seconds`, with a progress line. */
export async function closedLoop<L>(
  label: string,
  lanes: L[],
  seconds: number,
  rec: Recorder,
  one: (lane: L) => Promise<void>,
): Promise<number> {
  const line = progress(label);
  rec.start();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const timer = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    line.update(`${s.toFixed(0)}/${seconds} s, ${Math.round(rec.ok / s)}/s, ${rec.failed} failed`);
  }, 250);
  try {
    await Promise.all(
      lanes.map(async (lane) => {
        while (performance.now() < deadline) await one(lane);
      }),
    );
  } finally {
    clearInterval(timer);
  }
  const elapsed = (performance.now() - t0) / 1000;
  line.done(`${Math.round(rec.ok / elapsed)}/s, ${rec.failed} failed`);
  return elapsed;
}

export async function openLoop<L>(
  label: string,
  rate: number,
  lanes: L[],
  rec: Recorder,
  one: (lane: L, dueAt: number) => Promise<void>,
  seconds = SECONDS,
): Promise<FixedRateOutcome> {
  const line = progress(label);
  rec.start();
  const out = await fixedRate({
    rate,
    seconds,
    workers: lanes,
    run: one,
    drainMs: 5_000,
    onTick: (s, backlog) =>
      line.update(`${s.toFixed(0)}/${seconds} s, ${rec.ok} acked, ${rec.failed} failed, backlog ${backlog}`),
  });
  line.done(
    `${out.dispatched}/${out.scheduled} sent, ${rec.ok} acked, ${rec.failed} failed, ${out.unserved} unserved`,
  );
  return out;
}
