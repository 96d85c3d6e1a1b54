// Every state command of the dashboard goes through here, so that a command whose answer was lost
// (the connection dropped after it was sent) is said to be pending, not failed, and is sent again
// with the same requestId once the connection is back: the hub answers a repeated requestId with
// its first answer, so the command takes effect once whatever happened to the first answer.
//
// The bundled client already resends with the same requestId inside one call (a lost ack, a
// reconnect within its attempts); the dashboard chooses the requestId itself (the client's
// `options.requestId`) so that it survives the client giving up.
import type { CommandArgs, CommandData, StateCommand } from '../../src/client/index.js';
import { HubClientError } from '../../src/client/index.js';
import { gate } from './entry-gate.js';
import { SendAgain } from './send-again.js';
import type { DashboardClient } from './session.js';

/** Where a command's progress is told: the line under its button or form. */
export type Say = (text: string) => void;

/** The client's answer when no ack came (timeout, or the connection dropped with the command out). */
const lostAnswer = (err: unknown): boolean =>
  err instanceof HubClientError && err.code === 'UNAVAILABLE' && err.details?.reason === 'no_answer';

/** How many times the dashboard sends a command again after the client gave up on it. */
const RESENDS = 5;

export class CommandDesk {
  private readonly pending = new Set<string>();
  /** for the buttons (accept, reject, withdraw, cancel): a click again after no answer repeats it */
  private readonly again = new SendAgain();
  private readonly listeners = new Set<(n: number) => void>();

  constructor(private readonly client: DashboardClient) {}

  /** Commands sent and not answered yet (shown in the connection banner). */
  get waiting(): number {
    return this.pending.size;
  }

  onWaiting(fn: (n: number) => void): void {
    this.listeners.add(fn);
  }

  /**
   * Sends `event` and resolves with its ack data. While the answer is outstanding and the
   * connection is down, `say` tells the trader it will be retried with the same request id.
   */
  async send<K extends StateCommand>(
    event: K,
    payload: CommandArgs<K>,
    say: Say,
    again: SendAgain = this.again,
  ): Promise<CommandData<K>> {
    const requestId = again.requestIdFor(event, payload);
    try {
      const data = await this.sendOnce(event, payload, say, requestId);
      again.settle(event, payload, requestId, false);
      return data;
    } catch (err) {
      again.settle(event, payload, requestId, lostAnswer(err));
      throw err;
    }
  }

  private async sendOnce<K extends StateCommand>(
    event: K,
    payload: CommandArgs<K>,
    say: Say,
    requestId: string,
  ): Promise<CommandData<K>> {
    const note = `Connection lost before the hub answered. It will be sent again with the same request id (${requestId.slice(0, 8)}) when the connection is back, and takes effect only once.`;
    let told = false;
    const tell = () => {
      told = true;
      say(note);
    };
    const stop = gate.onChange((online) => {
      if (!online) tell();
    });
    if (!gate.online) tell();
    this.pending.add(requestId);
    this.changed();
    try {
      for (let resend = 0; ; resend++) {
        const wasOnline = gate.online;
        try {
          const data = await this.client.command(event, payload, { requestId });
          if (told) say('');
          return data;
        } catch (err) {
          if (!lostAnswer(err)) throw err;
          // online all along and still no answer: the hub is slow (an unknown command is refused at once);
          // one more try with the same id, then the trader is told (nothing is known to be done)
          const stillOnline = wasOnline && gate.online;
          if (resend >= (stillOnline ? 1 : RESENDS)) throw err;
          if (stillOnline) {
            told = true;
            say(
              `The hub has not answered yet: sending again with the same request id (${requestId.slice(0, 8)}).`,
            );
          } else tell();
          await gate.whenOnline();
        }
      }
    } finally {
      stop();
      this.pending.delete(requestId);
      this.changed();
    }
  }

  private changed(): void {
    for (const fn of this.listeners) fn(this.pending.size);
  }
}
