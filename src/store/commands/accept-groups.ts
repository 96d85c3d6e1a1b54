import { HubError } from '../../domain/errors.js';
import type { EventDraft } from '../../domain/events.js';
import type { CommandPort, CommandRequest } from '../../domain/market.js';
import type { Swap } from '../../domain/swap.js';
import type { SwapRepo, UnitOfWork } from '../../domain/unit-of-work.js';
import { activeContext, type Context, withContext } from '../../telemetry/trace-context.js';
import type { SqlPool } from '../db/sql-pool.js';
import type { CommandTx } from './command-tx.js';
import { GroupListingRepo, GroupMeterRepo, GroupSwapRepo, LockedListing } from './group-repos.js';
import { tradeRepo } from './trade-repo.js';

/** What group commit needs of the runner it wraps (CommandRunner). */
export interface TransactionRunner extends CommandPort {
  /** `work` in one transaction, committed when it returns, rolled back if it throws */
  transaction<T>(work: (tx: CommandTx) => Promise<T>): Promise<T>;
  /** the answer to a command refused without changes: a stored answer to its key, or the error */
  settle<R>(req: CommandRequest, err: unknown): Promise<R>;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Waiting {
  req: CommandRequest;
  swapId: string;
  fn: (uow: UnitOfWork) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** the command's trace context while tracing is on: its events carry it, not the group's first */
  context: Context | undefined;
}

/** Swap → listing pairs kept (they never change); the oldest go first past this many. */
const KNOWN_SWAPS = 100_000;

/**
 * Group commit of the commands confined to one listing (accepts; `CommandRequest.confinedTo`), on
 * this node, around the runner: every other command goes straight to it. A confined command whose
 * listing has none running here runs alone, as any command; those that arrive while one runs
 * wait, and then run together in one transaction: one hold of the listing's row lock and one
 * COMMIT for all of them instead of one each. A hot listing (an auction-like burst of accepts)
 * then commits at the rate of whole groups. If a group fails as a whole, each of its commands
 * runs again on its own; nothing of the group stayed.
 */
export class AcceptGroups implements CommandPort {
  private readonly listingOfSwap = new Map<string, string>();
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(
    private readonly runner: TransactionRunner,
    private readonly sql: SqlPool,
    private readonly maxGroup = 64,
  ) {}

  run<R>(req: CommandRequest, fn: (uow: UnitOfWork) => Promise<R>): Promise<R> {
    const swapId = req.confinedTo?.swapId;
    if (swapId === undefined) return this.runner.run(req, (uow) => fn(this.learning(uow)));
    return this.grouped(req, swapId, fn) as Promise<R>;
  }

  /** `uow` telling this node the listing of each swap its commands touch, so their accepts skip a look-up. */
  private learning(uow: UnitOfWork): UnitOfWork {
    const swaps = uow.swaps;
    const learn = <T extends Swap | undefined>(s: T): T => {
      if (s) this.remember(s);
      return s;
    };
    const learningSwaps: SwapRepo = {
      insert: (swap, offer) => swaps.insert(learn(swap), offer),
      lock: (id) => swaps.lock(id).then(learn),
      lockWithListing: (id) => swaps.lockWithListing(id).then((l) => l && { ...l, swap: learn(l.swap) }),
      update: (swap) => swaps.update(swap),
      addOffer: (offer) => swaps.addOffer(offer),
      lockOpenOfListing: (listingId, overWh, exceptId) =>
        swaps.lockOpenOfListing(listingId, overWh, exceptId),
      lockExpired: (now, limit) => swaps.lockExpired(now, limit),
    };
    return { ...uow, swaps: learningSwaps };
  }

  private remember(swap: { id: string; listingId: string }): void {
    if (this.listingOfSwap.has(swap.id)) return;
    if (this.listingOfSwap.size >= KNOWN_SWAPS) {
      const oldest = this.listingOfSwap.keys().next().value;
      if (oldest !== undefined) this.listingOfSwap.delete(oldest);
    }
    this.listingOfSwap.set(swap.id, swap.listingId);
  }

  private async grouped(
    req: CommandRequest,
    swapId: string,
    fn: (uow: UnitOfWork) => Promise<unknown>,
  ): Promise<unknown> {
    const listingId = this.listingOfSwap.get(swapId) ?? (await this.lookUp(swapId));
    if (listingId === undefined) return this.runner.run(req, fn); // answers NOT_FOUND
    return new Promise<unknown>((resolve, reject) => {
      const entry: Waiting = { req, swapId, fn, resolve, reject, context: activeContext() };
      const queue = this.waiting.get(listingId);
      if (queue) {
        queue.push(entry);
        return;
      }
      this.waiting.set(listingId, []);
      void this.drain(listingId, [entry]);
    });
  }

  private async lookUp(swapId: string): Promise<string | undefined> {
    const [row] = await this.sql.rows<{ listing_id: string }>('SELECT listing_id FROM swaps WHERE id = $1', [
      swapId,
    ]);
    if (row) this.remember({ id: swapId, listingId: row.listing_id });
    return row?.listing_id;
  }

  private async drain(listingId: string, first: Waiting[]): Promise<void> {
    let group = first;
    while (group.length > 0) {
      try {
        if (group.length === 1) await this.alone(group[0]!);
        else await this.together(listingId, group);
      } catch (err) {
        for (const w of group) w.reject(err); // not expected: both answer every command themselves
      }
      group = this.waiting.get(listingId)!.splice(0, this.maxGroup);
    }
    this.waiting.delete(listingId);
  }

  private alone(w: Waiting): Promise<void> {
    return this.runner.run(w.req, w.fn).then(w.resolve, w.reject);
  }

  private async together(listingId: string, group: Waiting[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.runner.transaction((tx) => this.inOneTransaction(tx, listingId, group));
    } catch {
      // the group as a whole failed and left nothing: each command on its own
      await Promise.all(group.map((w) => this.alone(w)));
      return;
    }
    await Promise.all(
      group.map((w, i) => {
        const o = outcomes[i]!;
        if (o.ok) return w.resolve(o.value);
        // a refused command: its key may hold an earlier answer (a retry)
        return this.runner.settle(w.req, o.error).then(w.resolve, w.reject);
      }),
    );
  }

  /**
   * The group's commands in `tx`, in arrival order, each against the rows the ones before it left
   * (LockedListing, through GroupListingRepo and GroupSwapRepo). A command refused before any of
   * its writes was sent is taken back and answered its error after the commit; anything else
   * fails the whole group.
   */
  private async inOneTransaction(tx: CommandTx, listingId: string, group: Waiting[]): Promise<Outcome[]> {
    const { statements } = tx;
    const rows = await LockedListing.lock(
      statements,
      listingId,
      group.map((w) => w.swapId),
    );
    if (!rows) throw new Error('none of the grouped swaps is on the listing');
    const repos = {
      listings: new GroupListingRepo(rows, statements),
      swaps: new GroupSwapRepo(rows, statements),
      meters: new GroupMeterRepo(rows, statements),
      trades: tradeRepo(statements),
    };
    tx.commands = group.length;
    const outcomes: Outcome[] = [];
    for (const w of group) {
      const writes = statements.mark();
      const flushes = statements.flushes;
      const before = rows.mark();
      const own: EventDraft[] = [];
      try {
        const value = await w.fn(tx.uow(repos, (e) => void own.push(e)));
        withContext(w.context, () => tx.emit(...own)); // with the trace context of its own command
        tx.answer(w.req, value);
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (!(error instanceof HubError) || statements.flushes !== flushes) throw error;
        statements.reset(writes);
        rows.reset(before);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}
