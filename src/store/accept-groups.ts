import { QueryTypes, type Sequelize } from 'sequelize';
import type { SwapView } from '../domain/swap.js';
import type { UnitOfWork } from '../domain/unit-of-work.js';
import type { CommandRequest, CommandRunner } from './command-runner.js';

interface Waiting {
  req: CommandRequest;
  swapId: string;
  fn: (uow: UnitOfWork) => Promise<SwapView>;
  resolve(view: SwapView): void;
  reject(err: unknown): void;
}

/** Swap → listing pairs kept (they never change); the oldest go first past this many. */
const KNOWN_SWAPS = 100_000;

/**
 * Group commit of the accepts of one listing on this node. An accept whose listing has none
 * running here runs alone, as any command; the accepts that arrive while one runs wait, and then
 * run together in one transaction (CommandRunner.runAccepts): one hold of the listing's row lock
 * and one COMMIT for all of them instead of one each. A hot listing (an auction-like burst of
 * accepts) then commits at the rate of whole groups. If a group fails as a whole, each of its
 * accepts runs again on its own; nothing of the group stayed.
 */
export class AcceptGroups {
  private readonly listingOfSwap = new Map<string, string>();
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(
    private readonly runner: CommandRunner,
    private readonly sequelize: Sequelize,
    private readonly maxGroup = 64,
  ) {}

  /** The listing of a swap this node has seen (proposed or countered here), so accepts skip a look-up. */
  remember(swap: { id: string; listingId: string }): void {
    if (this.listingOfSwap.size >= KNOWN_SWAPS) {
      const oldest = this.listingOfSwap.keys().next().value;
      if (oldest !== undefined) this.listingOfSwap.delete(oldest);
    }
    this.listingOfSwap.set(swap.id, swap.listingId);
  }

  async accept(
    req: CommandRequest,
    swapId: string,
    fn: (uow: UnitOfWork) => Promise<SwapView>,
  ): Promise<SwapView> {
    const listingId = this.listingOfSwap.get(swapId) ?? (await this.lookUp(swapId));
    if (listingId === undefined) return this.runner.run(req, fn); // answers NOT_FOUND
    return new Promise<SwapView>((resolve, reject) => {
      const entry: Waiting = { req, swapId, fn, resolve, reject };
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
    const [row] = await this.sequelize.query<{ listing_id: string }>(
      'SELECT listing_id FROM swaps WHERE id = $1',
      {
        bind: [swapId],
        type: QueryTypes.SELECT,
      },
    );
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
        for (const w of group) w.reject(err); // not expected: both answer every accept themselves
      }
      group = this.waiting.get(listingId)!.splice(0, this.maxGroup);
    }
    this.waiting.delete(listingId);
  }

  private alone(w: Waiting): Promise<void> {
    return this.runner.run(w.req, w.fn).then(w.resolve, w.reject);
  }

  private async together(listingId: string, group: Waiting[]): Promise<void> {
    let outcomes: Awaited<ReturnType<CommandRunner['runAccepts']>>;
    try {
      outcomes = await this.runner.runAccepts(listingId, group);
    } catch {
      // the group as a whole failed and left nothing: each accept on its own
      await Promise.all(group.map((w) => this.alone(w)));
      return;
    }
    await Promise.all(
      group.map((w, i) => {
        const o = outcomes[i]!;
        if (o.ok) return w.resolve(o.value);
        // a refused accept: its key may hold an earlier answer (a retry)
        return this.runner.settle<SwapView>(w.req, o.error).then(w.resolve, w.reject);
      }),
    );
  }
}
