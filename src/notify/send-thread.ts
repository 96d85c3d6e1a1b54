import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  OutboundError,
  type OutboundErrorCode,
  type OutboundOptions,
  type OutboundResponse,
  postOutbound,
} from './outbound-http.js';

/** What the main thread asks of the sender's thread: one postOutbound. */
export interface SendRequest {
  id: number;
  url: string;
  opts: Omit<OutboundOptions, 'signal'>;
}

/** Its answer: the response, or the OutboundError it ended with. */
export type SendReply =
  | { id: number; value: OutboundResponse }
  | { id: number; error: { code: OutboundErrorCode; message: string } };

/** postOutbound's signature: the channels send through one of these. */
export type Post = (url: string, opts: OutboundOptions) => Promise<OutboundResponse>;

interface Pending {
  resolve(r: OutboundResponse): void;
  reject(e: OutboundError): void;
  timer: NodeJS.Timeout;
}

/** How long past the request's own deadline the main thread waits for the thread's answer. */
const GRACE_MS = 1000;

/** The channels' sender: `ready` resolves once a request can leave at once. */
export interface Sender {
  post: Post;
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The webhook and push requests, sent from a thread of their own (docs/notifications.md, "The
 * sender's thread"): the HTTP client's work (connections, writes, parsing answers) leaves the main
 * thread, which runs commands and sockets, and on Linux the thread runs at a lower priority
 * (`NOTIFY_SEND_NICE`), so a box short of CPU serves commands first and notifications from what is
 * left. The dispatcher's leases, rounds and saves stay on the main thread; only the exchange moves.
 *
 * The main thread keeps its own deadline on every request (the request's plus a second), and the
 * request carries the latest time it may end (`notAfter`, a little past its deadline): a thread
 * starved of CPU that comes to a request after that does not send it, and one it started ends by
 * then, so no send outlasts the lease it was started under; past the main thread's deadline the
 * thread is also told to drop it. A thread that dies fails its requests (they are retried) and the next request starts
 * another. The thread starts with the first send; its start (loading the HTTP client, seconds on a
 * busy box) is waited for with `ready()` before a send's lease and deadline begin.
 */
export class SendThread implements Sender {
  private worker: Worker | undefined;
  /** settles when `worker` has started (or failed to) */
  private started: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly nice: number,
    private readonly log: Logger,
  ) {}

  readonly post: Post = (url, opts) => {
    if (this.closed) return Promise.reject(new OutboundError('network', 'the hub is stopping'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // the thread may come to the request late (starved of CPU): it then runs it only until a little
    // past its deadline (half the grace, at most half the request's time: a send's lease has two
    // request times left when it starts, src/notify/target-worker.ts), and past that not at all; the
    // main thread stops waiting only later, so nothing leaves after it stopped waiting
    const slack = Math.min(GRACE_MS / 2, opts.timeoutMs / 2);
    const notAfter = Math.min(opts.notAfter ?? Number.POSITIVE_INFINITY, Date.now() + opts.timeoutMs + slack);
    const { signal: _signal, ...rest } = opts;
    return new Promise<OutboundResponse>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.settle(id, {
            id,
            error: { code: 'timeout', message: `${url} gave no complete answer in time` },
          });
          worker.postMessage({ cancel: id });
        },
        Math.max(0, notAfter - Date.now()) + GRACE_MS - slack,
      );
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, url, opts: { ...rest, notAfter } } satisfies SendRequest);
    });
  };

  /** Resolves once the thread runs (starting it if needed); rejects when it could not start. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new OutboundError('network', 'the hub is stopping'));
    if (!this.worker) this.start();
    return this.started!;
  }

  /** Ends the thread; requests still open fail (the dispatcher's stop has waited for its sends). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.started = undefined;
    this.failAll('the hub is stopping');
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = spawnSendThread(this.nice);
    this.worker = worker;
    worker.unref();
    let up: () => void = () => {};
    let down: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      up = resolve;
      down = reject;
    });
    this.started.catch(() => {}); // a start nobody waited for
    worker.on('message', (m: SendReply | { ready: true; priorityError?: string }) => {
      if ('ready' in m) {
        if (m.priorityError)
          this.log.warn({ reason: m.priorityError }, 'notify: the sender thread keeps its priority');
        up();
        return;
      }
      this.settle(m.id, m);
    });
    const gone = (err?: Error) => {
      down(new OutboundError('network', 'the sender thread stopped'));
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.started = undefined;
      if (err) this.log.error({ err }, 'notify: the sender thread failed; its requests are retried');
      this.failAll('the sender thread stopped');
    };
    worker.on('error', gone);
    worker.on('exit', () => gone());
    return worker;
  }

  private settle(id: number, r: SendReply): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('value' in r) p.resolve(r.value);
    else p.reject(new OutboundError(r.error.code, r.error.message));
  }

  private failAll(message: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { id, error: { code: 'network', message } });
  }
}

/**
 * The sender's thread. Run from TypeScript sources (tests, benchmarks under tsx), the worker first
 * registers tsx's loader: Node 20 loads a worker's entry before `--import` hooks would apply.
 */
function spawnSendThread(nice: number): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./send-thread-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData: { nice } });
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: { nice } });
}

/** The sender: a thread of its own at `nice` (0 to 19), or this thread. */
export function createSender(thread: boolean, nice: number, log: Logger): Sender {
  if (!thread) return { post: postOutbound, ready: async () => {}, close: async () => {} };
  return new SendThread(nice, log);
}
