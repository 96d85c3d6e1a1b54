import type { DispatchStore } from '../store/notify/dispatch-store.js';

/** Stands for a target of a user that this node was told of but has not read yet. */
const UNKNOWN_TARGET = '?';
/** Targets learned per statement. */
const BATCH = 10_000;
/** How far apart the nodes' clocks may be (the creation times of targets are theirs). */
const CLOCK_SKEW_MS = 60_000;

/**
 * The targets of each user that has (or had) one, by id, as a node knows them: only their users'
 * events need a lease, and only when the node does not hold them all. Learned from the targets'
 * creation times at each poll; a target deleted stays (a claim that finds nothing).
 */
export class KnownTargets {
  private readonly byUser = new Map<string, Set<string>>();
  private since: Date | null = null;

  /** This node gave `userId` a target: until the next look finds which, every event of theirs claims. */
  told(userId: string): void {
    this.add(userId, UNKNOWN_TARGET);
  }

  /** Whether `userId` has a target that `held` says this node does not hold. */
  hasUnheld(userId: string, held: (id: string) => boolean): boolean {
    for (const id of this.byUser.get(userId) ?? []) if (!held(id)) return true;
    return false;
  }

  /**
   * Reads the targets created since the last look, and answers the users of those new to this
   * node. The look goes back a minute before the newest creation seen: a creation on a node whose
   * clock is behind is not missed.
   */
  async update(store: Pick<DispatchStore, 'targetsSince'>): Promise<Set<string>> {
    const learned = new Set<string>();
    for (;;) {
      const { targets, newest } = await store.targetsSince(this.since, BATCH);
      for (const { userId, id } of targets) {
        if (!this.byUser.get(userId)?.has(id)) learned.add(userId);
        this.byUser.get(userId)?.delete(UNKNOWN_TARGET);
        this.add(userId, id);
      }
      if (newest) {
        const back = new Date(newest.getTime() - CLOCK_SKEW_MS);
        this.since = this.since && this.since > back ? this.since : back;
      }
      if (targets.length < BATCH) return learned;
      // a whole batch: go on after it (a millisecond back: targets created in its last one)
      this.since = newest && new Date(newest.getTime() - 1);
    }
  }

  private add(userId: string, id: string): void {
    const ids = this.byUser.get(userId) ?? new Set<string>();
    ids.add(id);
    this.byUser.set(userId, ids);
  }
}
