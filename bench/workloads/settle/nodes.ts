// Settlement "nodes" in this process: each a pg pool as the hub opens it (openUrl in
// src/store/db/database.ts), the hub's SqlPool and CommandRunner over it (buildCore in
// src/hub-parts.ts), and the hub's own Sweeper, swept until nothing is due. The pool times every
// statement from send to answer; the runner counts the settlement outcomes it carries.
import pg from 'pg';
import pino from 'pino';
import type { MarketProfile } from '../../../src/domain/energy/zones.js';
import { CommandRunner } from '../../../src/store/commands/command-runner.js';
import type { CommandTx } from '../../../src/store/commands/command-tx.js';
import { Sweeper } from '../../../src/store/commands/sweeper.js';
import { type SqlConnection, SqlPool } from '../../../src/store/db/sql-pool.js';
import { dueUnits, type SettleOutcome } from '../../../src/store/settlement/settle-slot.js';
import { histogram, summary } from '../../lib.js';

/** The hub's SqlPool, each statement timed from send to answer (the database's time as the node sees it). */
class TimedSqlPool extends SqlPool {
  statements = 0;
  ms = 0;
  /** the simple-protocol scripts (those carrying START TRANSACTION or COMMIT, values inlined): their text */
  scripts = 0;
  scriptChars = 0;
  maxScriptChars = 0;

  private async timed<T>(run: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await run();
    } finally {
      this.ms += performance.now() - t;
      this.statements++;
    }
  }

  override rows<T extends object>(sql: string, values: unknown[] = []): Promise<T[]> {
    return this.timed(() => super.rows<T>(sql, values));
  }

  override count(sql: string, values: unknown[] = []): Promise<number> {
    return this.timed(() => super.count(sql, values));
  }

  override async connect(): Promise<SqlConnection> {
    const c = await super.connect();
    return {
      rows: <T extends object>(sql: string, values: unknown[]) => this.timed(() => c.rows<T>(sql, values)),
      script: (sql: string) => {
        this.scripts++;
        this.scriptChars += sql.length;
        this.maxScriptChars = Math.max(this.maxScriptChars, sql.length);
        return this.timed(() => c.script(sql));
      },
      release: (broken) => c.release(broken),
    };
  }
}

/** The hub's runner, counting the outcome of each settlement transaction and timing it. */
class CountingRunner extends CommandRunner {
  readonly outcomes: Record<SettleOutcome | 'failed', number> = {
    settled: 0,
    waiting: 0,
    passed: 0,
    failed: 0,
  };
  /** a settled unit's transaction, from begin to commit, in microseconds */
  readonly settledUs = histogram();

  override async transaction<T>(work: (tx: CommandTx) => Promise<T>): Promise<T> {
    const t = performance.now();
    let result: T;
    try {
      result = await super.transaction(work);
    } catch (err) {
      this.outcomes.failed++;
      throw err;
    }
    const outcome = result as unknown;
    if (outcome === 'settled' || outcome === 'waiting' || outcome === 'passed') {
      this.outcomes[outcome]++;
      if (outcome === 'settled')
        this.settledUs.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
    }
    return result;
  }
}

export interface SettleNode {
  name: string;
  pool: TimedSqlPool;
  runner: CountingRunner;
  sweeper: Sweeper;
  /** sweeps until nothing is due (at most `maxPasses`); the passes it took */
  sweepUntilDone(maxPasses?: number): Promise<number>;
  close(): Promise<void>;
}

/** A node over `url` with `poolMax` connections, the hub's session settings and its market `profile`. */
export function settleNode(name: string, url: string, poolMax: number, profile: MarketProfile): SettleNode {
  const raw = new pg.Pool({
    connectionString: url,
    max: poolMax,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    application_name: `renex-bench-settle-${name}/${process.pid}`,
    statement_timeout: 60_000,
  });
  raw.on('error', () => {});
  const pool = new TimedSqlPool(raw);
  const runner = new CountingRunner(
    pool,
    { market: profile, offerTtlMs: 600_000, currency: 'EUR' },
    () => {},
  );
  const log = pino({ level: 'warn' }, pino.destination(2));
  const sweeper = new Sweeper(runner, 1000, log, profile);
  return {
    name,
    pool,
    runner,
    sweeper,
    async sweepUntilDone(maxPasses = 50) {
      for (let pass = 1; pass <= maxPasses; pass++) {
        await sweeper.sweep();
        const due = await runner.transaction((tx) => dueUnits(tx.statements, profile, new Date(), 1));
        if (due.length === 0) return pass;
      }
      throw new Error(`node ${name}: units still due after ${maxPasses} sweeps`);
    },
    async close() {
      await sweeper.stop();
      await raw.end();
    },
  };
}

/** A node's figures after its run. */
export function nodeFigures(node: SettleNode) {
  return {
    node: node.name,
    outcomes: { ...node.runner.outcomes },
    settledUnitTransaction: summary(node.runner.settledUs),
    statements: node.pool.statements,
    statementMs: Math.round(node.pool.ms),
    scripts: node.pool.scripts,
    scriptMeanChars: Math.round(node.pool.scriptChars / Math.max(1, node.pool.scripts)),
    scriptMaxChars: node.pool.maxScriptChars,
  };
}
