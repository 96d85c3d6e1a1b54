// A webhook receiver for tests: a local HTTP server that checks each delivery's Standard Webhooks
// signature with the `standardwebhooks` package (as a receiver would), records what arrived, and
// answers as the test says (a status, a hang, a delay), and counts the requests open at once.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  /** webhook-id: the event id */
  id: string;
  type: string;
  body: { id: string; type: string; at: string; data: unknown };
  headers: http.IncomingHttpHeaders;
  /** whether the signature verified with the secret(s) the test gave */
  verified: boolean;
  at: number;
  /** when it was answered (not when it hangs, nor when its sender went away first) */
  answeredAt?: number;
}

export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  /** deliveries answered 2xx, in arrival order */
  delivered: Delivery[];
  /** every request, whatever its answer */
  requests: Delivery[];
  /** requests whose sender went away (closed or half-closed its connection) before the answer */
  aborted: Delivery[];
  /** how long to wait before answering each request (not a hang); 0: at once */
  delayMs: number;
  /** requests open now: arrived, not yet answered, their connection still there */
  inFlight: number;
  /** the most requests open at once so far */
  maxInFlight: number;
  /** the secrets a signature may verify with (a rotation adds one) */
  secrets: string[];
  /** how to answer the next requests: a status, or 'hang' (never answer); per request when a function */
  answer: Answer | ((d: Delivery) => Answer);
  /** ends every hanging request with `status` */
  releaseHung(status?: number): void;
  waitFor(pred: (r: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hung = new Map<http.ServerResponse, Delivery>();
  const waiters = new Set<() => void>();
  const r: Receiver = {
    url: '',
    delivered: [],
    requests: [],
    aborted: [],
    delayMs: 0,
    inFlight: 0,
    maxInFlight: 0,
    secrets: [],
    answer: 200,
    releaseHung(status = 200) {
      for (const [res, d] of hung) {
        if (status >= 200 && status < 300) r.delivered.push(d);
        res.writeHead(status).end();
      }
      hung.clear();
    },
    waitFor(pred, timeoutMs = 20_000) {
      if (pred(r)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(r)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `receiver: not there after ${timeoutMs} ms (${r.requests.length} requests, ${r.delivered.length} delivered)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      r.releaseHung(503);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const server = http.createServer(async (req, res) => {
    // open from its arrival until it is answered or its sender goes away
    r.inFlight++;
    r.maxInFlight = Math.max(r.maxInFlight, r.inFlight);
    let open = true;
    let gone = false;
    const closed = () => {
      if (!open) return;
      open = false;
      r.inFlight--;
      notify();
    };
    res.once('close', closed);
    // a sender that died (SIGKILL) half-closes: its request is no longer open
    const ended = () => {
      gone = true;
      closed();
    };
    req.socket.once('end', ended);
    res.once('close', () => req.socket.off('end', ended));
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } catch {
      return closed(); // the sender went away mid-request
    }
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    const verified = r.secrets.some((s) => {
      try {
        new Webhook(s).verify(text, headers);
        return true;
      } catch {
        return false;
      }
    });
    const body = JSON.parse(text) as Delivery['body'];
    const d: Delivery = {
      id: headers['webhook-id'],
      type: body.type,
      body,
      headers: req.headers,
      verified,
      at: Date.now(),
    };
    r.requests.push(d);
    const answer = typeof r.answer === 'function' ? r.answer(d) : r.answer;
    const reply = (status: number) => {
      if (gone || res.destroyed) {
        r.aborted.push(d);
        closed();
      } else {
        if (status >= 200 && status < 300) r.delivered.push(d);
        d.answeredAt = Date.now();
        res.writeHead(status).end();
      }
      notify();
    };
    if (answer === 'hang') hung.set(res, d);
    else if (r.delayMs > 0) setTimeout(() => reply(answer), r.delayMs);
    else reply(answer);
    notify();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}
