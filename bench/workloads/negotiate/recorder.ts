// What a negotiate phase measures: acks per command, deliveries to the counterparty, errors.
import type * as hdr from 'hdr-histogram-js';
import { sleep } from '../../harness.js';
import { histogram, summary } from '../../lib.js';
import { us } from './settings.js';

export type Step = 'create' | 'propose' | 'counter' | 'accept';
export const STEPS: Step[] = ['create', 'propose', 'counter', 'accept'];

/** What one phase measures. */
export class Recorder {
  /** ack latency from the scheduled send (closed loop: from the send) */
  readonly ack = histogram();
  /** ack latency from the actual send (the service time) */
  readonly service = histogram();
  readonly byStep = Object.fromEntries(STEPS.map((s) => [s, histogram()])) as Record<Step, hdr.Histogram>;
  readonly delivery = histogram();
  readonly errors: Record<string, number> = {};
  /** committed commands per whole second of the phase */
  readonly perSecond: number[] = [];
  ok = 0;
  expected = 0;
  private t0 = performance.now();

  start() {
    this.t0 = performance.now();
  }

  committed(sentAt: number, dueAt: number, step: Step) {
    const now = performance.now();
    this.ok++;
    this.ack.recordValue(us(now - dueAt));
    this.service.recordValue(us(now - sentAt));
    this.byStep[step].recordValue(us(now - sentAt));
    const sec = Math.floor((now - this.t0) / 1000);
    this.perSecond[sec] = (this.perSecond[sec] ?? 0) + 1;
  }

  get failed() {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }
}

/** Sends waiting for their counterparty's event: key -> send time and phase. */
export class DeliveryWatch {
  private readonly waiting = new Map<string, { sentAt: number; rec: Recorder }>();

  expect(key: string, rec: Recorder, sentAt: number) {
    rec.expected++;
    this.waiting.set(key, { sentAt, rec });
  }

  cancel(key: string) {
    const w = this.waiting.get(key);
    if (w) {
      w.rec.expected--;
      this.waiting.delete(key);
    }
  }

  arrived(key: string) {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    w.rec.delivery.recordValue(us(performance.now() - w.sentAt));
  }

  /** Waits up to `ms` for the phase's deliveries; returns how many never came (and forgets them). */
  async settle(rec: Recorder, ms: number): Promise<number> {
    const end = performance.now() + ms;
    const pending = () => [...this.waiting.values()].filter((w) => w.rec === rec).length;
    while (pending() > 0 && performance.now() < end) await sleep(20);
    let lost = 0;
    for (const [k, w] of this.waiting) {
      if (w.rec === rec) {
        this.waiting.delete(k);
        lost++;
      }
    }
    return lost;
  }
}

export function phaseFigures(rec: Recorder, elapsed: number, lost: number) {
  return {
    committed: rec.ok,
    failed: rec.failed,
    errors: rec.errors,
    perSecond: rec.perSecond,
    commandsPerSecond: Math.round(rec.ok / elapsed),
    ack: summary(rec.ack),
    service: summary(rec.service),
    ackByCommand: Object.fromEntries(STEPS.map((s) => [s, summary(rec.byStep[s])])) as Record<
      Step,
      ReturnType<typeof summary>
    >,
    delivery: summary(rec.delivery),
    deliveriesExpected: rec.expected,
    deliveriesLost: lost,
  };
}
