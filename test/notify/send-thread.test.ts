// The sender's thread against real sockets on loopback: requests leave from a thread of its own at
// the configured nice value, answers and failures come back as postOutbound's, and the main
// thread's own deadline ends a request the thread does not answer in time; a request the thread
// comes to after its deadline is not sent at all.
import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SendThread } from '../../src/notify/send-thread.js';
import { failure, receiver } from '../support/http-receiver.js';

const log = pino({ level: 'silent' });
const threads: SendThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
});

function sendThread(nice: number): SendThread {
  const t = new SendThread(nice, log);
  threads.push(t);
  return t;
}

/** The nice value of each of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function niceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count from after it
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  });
}

const opts = { allowPrivate: true, timeoutMs: 5_000, headers: { 'x-test': 'yes' }, body: '{"a":1}' };

describe.runIf(process.platform === 'linux')('the sender thread', () => {
  it('sends the request from a thread at the nice value asked, and returns the answer', async () => {
    const before = niceValues().filter((n) => n === 7).length;
    const r = await receiver((_req, res) => res.writeHead(202, { 'x-seen': '1' }).end('taken'));
    const t = sendThread(7);
    const res = await t.post(`http://127.0.0.1:${r.port}/hook`, opts);
    expect(res).toMatchObject({ status: 202, body: 'taken' });
    expect(res.headers['x-seen']).toBe('1');
    expect(r.requests).toMatchObject([{ method: 'POST', url: '/hook', body: '{"a":1}' }]);
    expect(r.requests[0]!.headers['x-test']).toBe('yes');
    // one thread more runs at nice 7; the test's own thread is untouched
    expect(niceValues().filter((n) => n === 7).length).toBe(before + 1);
    expect(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16])).not.toBe(7);
  });

  it('gives postOutbound errors back as OutboundError with their code, and sends nothing refused', async () => {
    const r = await receiver((_req, res) => res.end());
    const t = sendThread(5);
    const err = await failure(t.post(`http://127.0.0.1:${r.port}/`, { ...opts, allowPrivate: false }));
    expect(err.code).toBe('refused_url');
    expect(r.connections).toBe(0);
  });

  it('ends a hanging request at its deadline and closes its connection', async () => {
    let closed = false;
    const r = await receiver((req) => {
      req.socket.on('close', () => {
        closed = true;
      });
    });
    const t = sendThread(5);
    // the thread up first, and a deadline a busy box leaves it time to start the request by (one it
    // comes to after its deadline is not sent at all: the next test)
    await t.ready();
    const err = await failure(t.post(`http://127.0.0.1:${r.port}/`, { ...opts, timeoutMs: 1500 }));
    expect(err.code).toBe('timeout');
    expect(r.requests).toHaveLength(1);
    await expect.poll(() => closed, { timeout: 5_000 }).toBe(true);
  });

  it('a request the thread comes to after its deadline is not sent (a thread starved of CPU)', async () => {
    const r = await receiver((_req, res) => res.end('late'));
    const t = sendThread(5);
    await t.ready();
    // the deadline as the thread sees it when it comes to the request: already past
    const err = await failure(t.post(`http://127.0.0.1:${r.port}/`, { ...opts, notAfter: Date.now() - 1 }));
    expect(err.code).toBe('timeout');
    // a request in time still goes, and nothing of the late one followed it
    expect((await t.post(`http://127.0.0.1:${r.port}/`, opts)).body).toBe('late');
    expect(r.requests).toHaveLength(1);
  });

  it('ready() starts the thread and resolves once it runs (at its priority); closed, it rejects', async () => {
    const before = niceValues().filter((n) => n === 9).length;
    const t = sendThread(9);
    const [a, b] = [t.ready(), t.ready()];
    await Promise.all([a, b]);
    // one thread, already lowered: a send's deadline starts with the thread up
    expect(niceValues().filter((n) => n === 9).length).toBe(before + 1);
    const r = await receiver((_req, res) => res.end('ok'));
    expect((await t.post(`http://127.0.0.1:${r.port}/`, opts)).body).toBe('ok');
    await t.close();
    await expect(t.ready()).rejects.toMatchObject({ code: 'network' });
  });

  it('fails what is in flight when it closes, and refuses new requests', async () => {
    const r = await receiver(() => {});
    const t = sendThread(5);
    const inFlight = failure(t.post(`http://127.0.0.1:${r.port}/`, opts));
    await expect.poll(() => r.requests.length, { timeout: 5_000 }).toBe(1);
    await t.close();
    expect((await inFlight).code).toBe('network');
    expect((await failure(t.post(`http://127.0.0.1:${r.port}/`, opts))).code).toBe('network');
  });
});
