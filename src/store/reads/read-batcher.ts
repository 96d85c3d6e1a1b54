/**
 * Coalesces point reads that arrive together into one statement. A read always joins a statement
 * sent after it was asked for, never one already running, so it sees at least what a statement
 * of its own would have seen (a revocation committed before the read was asked for, an event
 * below the horizon at that moment). While a statement runs, the reads asked for meanwhile
 * gather and go together in the next: under load one round trip serves many handshakes.
 */
export class ReadBatcher<K, V> {
  private pending = new Map<K, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
  private running = 0;
  private scheduled = false;

  /**
   * @param load reads the values of `keys` in one statement; a key missing from the answer gets `absent`
   * @param absent the value of a key the statement did not return
   */
  constructor(
    private readonly load: (keys: K[]) => Promise<Map<K, V>>,
    private readonly absent: V,
    private readonly opts: {
      maxBatch: number;
      maxRunning: number;
      /** how long a first ask waits for others before its statement goes (0: the same turn only) */
      gatherMs?: number;
    } = { maxBatch: 500, maxRunning: 1 },
  ) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.running >= this.opts.maxRunning || this.pending.size === 0) return;
    this.scheduled = true;
    // the reads asked for in the same turn of the event loop (or within gatherMs) go together
    const go = () => {
      this.scheduled = false;
      this.flush();
    };
    if (this.opts.gatherMs) setTimeout(go, this.opts.gatherMs);
    else setImmediate(go);
  }

  private flush() {
    while (this.running < this.opts.maxRunning && this.pending.size > 0) {
      const batch = new Map<K, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
      for (const [k, w] of this.pending) {
        if (batch.size >= this.opts.maxBatch) break;
        batch.set(k, w);
      }
      for (const k of batch.keys()) this.pending.delete(k);
      this.running++;
      this.load([...batch.keys()])
        .then(
          (values) => {
            for (const [k, ws] of batch) {
              const v = values.has(k) ? (values.get(k) as V) : this.absent;
              for (const w of ws) w.resolve(v);
            }
          },
          (err) => {
            for (const ws of batch.values()) for (const w of ws) w.reject(err);
          },
        )
        .finally(() => {
          this.running--;
          this.flush();
        });
    }
  }
}

/** A uuid's text form: anything else names no row, and must not reach (and fail) a batch's ::uuid cast. */
export const isUuidText = (s: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
