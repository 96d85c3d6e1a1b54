// The requestIds the dashboard sends again: a command whose answer was lost, sent again unchanged,
// repeats its requestId, so the hub answers it once (web/src/command-desk.ts).

/** A payload as a key independent of the order of its fields. */
const keyOf = (payload: unknown): string =>
  JSON.stringify(payload, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

/**
 * The commands sent without an answer (from one form, or any button): the same command with the
 * same payload sent again carries the same requestId, so a command that did take effect is not
 * done twice. A changed payload (or another command) gets a new requestId; an answer forgets it.
 */
export class SendAgain {
  private readonly unanswered = new Map<string, string>();

  /** the requestId for `event` with `payload`: the unanswered one if it is the same command */
  requestIdFor(event: string, payload: unknown): string {
    return this.unanswered.get(`${event} ${keyOf(payload)}`) ?? globalThis.crypto.randomUUID();
  }

  /** after a send: remembered when no answer came, forgotten when the hub answered */
  settle(event: string, payload: unknown, requestId: string, unanswered: boolean): void {
    const key = `${event} ${keyOf(payload)}`;
    if (unanswered) this.unanswered.set(key, requestId);
    else this.unanswered.delete(key);
  }
}
