// One state command over the live socket, tried again with the same requestId until it is
// answered (docs/protocol.md, §8 and §9): after a lost ack, a dropped connection, a draining node.
import type { Socket } from 'socket.io-client';
import type { AckAnswer } from '../gateway/protocol.js';
import { HubClientError } from './errors.js';
import type { CommandArgs, CommandData, CommandName, StateCommand } from './types.js';

export interface SendOptions {
  requestId: string;
  /** tries, the first included */
  attempts: number;
  /** how long each try waits for its ack */
  ackTimeoutMs: number;
}

/**
 * Sends `event` with `payload` and `requestId`, and resolves with the data of the hub's answer.
 * No ack (a timeout, a dropped connection) sends the same request again, on the next connection
 * after a drop; `UNAVAILABLE` with `reason: "draining"` (nothing was done, this node is closing the
 * connection) waits for the next connection without spending a try; any other `UNAVAILABLE` tries
 * again shortly. When every try went unanswered the error is UNAVAILABLE with
 * `details: { reason: 'no_answer', requestId }`: the command may or may not have committed. So it
 * is when a try was unanswered, or answered `outcome: "unknown"` (the hub lost its database
 * connection as the command committed), and a later try was refused before the hub looked up its
 * requestId (UNAVAILABLE, RATE_LIMITED, INTERNAL, UNAUTHENTICATED): that answer is about the later
 * try, not the one that may have committed. Any other refusal comes after the lookup, which would
 * have answered a committed try with its stored answer: nothing was committed.
 */
export async function sendCommand<K extends StateCommand>(
  socket: Socket,
  event: K,
  payload: CommandArgs<K>,
  { requestId, attempts, ackTimeoutMs }: SendOptions,
): Promise<CommandData<K>> {
  const message = { ...payload, requestId };
  // the waits for a draining node's next connection stop there: the tries' ack timeouts in all
  const deadline = Date.now() + attempts * ackTimeoutMs;
  /** a try may have committed: unanswered, or answered outcome "unknown" */
  let uncertain: string | undefined;
  for (let attempt = 1; ; attempt++) {
    let answer: AckAnswer<CommandData<K>>;
    try {
      answer = await socket.timeout(ackTimeoutMs).emitWithAck<CommandName>(event, message);
    } catch (err) {
      uncertain = `no answer to ${event}: ${(err as Error).message}`;
      if (attempt >= attempts) throw noAnswer(uncertain, requestId);
      // no ack: the same request again, after a timeout at once, after a dropped connection on the
      // next one (sent meanwhile, it would only wait in the client's buffer)
      if (!socket.connected) await reconnected(socket, deadline);
      continue;
    }
    if (answer.ok) return answer.data;
    if (
      answer.error.code === 'UNAVAILABLE' &&
      answer.error.details?.reason === 'draining' &&
      Date.now() < deadline
    ) {
      // nothing was done and this node is closing this connection: the same request on the next one
      await reconnected(socket, deadline, true);
      attempt--;
      continue;
    }
    if (answer.error.code === 'UNAVAILABLE' && answer.error.details?.outcome === 'unknown')
      uncertain = answer.error.message;
    if (answer.error.code === 'UNAVAILABLE' && attempt < attempts) {
      // nothing was done (the database away): the same request again, shortly
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      continue;
    }
    if (uncertain !== undefined && SAYS_NOTHING_OF_EARLIER.has(answer.error.code))
      throw noAnswer(uncertain, requestId);
    throw new HubClientError(answer.error.code, answer.error.message, answer.error.details);
  }
}

/** Refusals that can come before the hub looks up a requestId (docs/protocol.md §9). */
const SAYS_NOTHING_OF_EARLIER = new Set(['UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL', 'UNAUTHENTICATED']);

/** A command that may or may not have committed: sent again with `requestId`, the hub says which. */
const noAnswer = (message: string, requestId: string) =>
  new HubClientError('UNAVAILABLE', message, { reason: 'no_answer', requestId });

/**
 * Resolves once `socket` is connected (at once if it is, unless `next`: then on its next connection),
 * or at `deadline`, whichever comes first.
 */
function reconnected(socket: Socket, deadline: number, next = false): Promise<void> {
  if (socket.connected && !next) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('connect', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
    socket.on('connect', done);
  });
}
