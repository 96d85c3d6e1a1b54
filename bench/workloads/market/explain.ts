// The plans of the SQL behind the market routes, on the seeded database: each statement built by
// the hub's own read functions (src/store/reads/tape-queries.ts, and findMatchCandidates of
// src/store/reads/listing-queries.ts for a listing's matches), captured from Sequelize's logging
// hook with its bind parameters, as bench/explain-listings.ts does for the listings, then run under
// EXPLAIN (ANALYZE, BUFFERS) a few times: the last plan kept, the execution times summarised.
import { QueryTypes, Sequelize } from 'sequelize';
// The deep import of this workload, kept on purpose (as in bench/explain-listings.ts): SQL written
// here would show the plans of a copy.
import { loadMarketProfile } from '../../../src/domain/energy/market-config.js';
import { tradableZones } from '../../../src/domain/energy/matching.js';
import { findListing, findMatchCandidates } from '../../../src/store/reads/listing-queries.js';
import { findCandles, findSummary, findTape } from '../../../src/store/reads/tape-queries.js';

const EXPLAIN = 'EXPLAIN (ANALYZE, BUFFERS)';
const RUNS = 5;

export interface PlanCase {
  key: string;
  title: string;
  /** calls the hub's read function; the statement it sends is the one explained */
  call(sequelize: Sequelize): Promise<unknown>;
}

export interface Plan {
  key: string;
  title: string;
  sql: string;
  bind: unknown[];
  plan: string[];
  executionMs: { min: number; median: number; max: number };
}

/** The statement the last call sent: 'Executing (conn): <sql>' and its options' bind. */
let capturing = false;
let last: { sql: string; bind: unknown[] } | undefined;
function capture(msg: string, options?: unknown): void {
  if (!capturing) return;
  const bind = (options as { bind?: unknown } | undefined)?.bind;
  last = { sql: msg.replace(/^Executing \([^)]*\): /, ''), bind: Array.isArray(bind) ? [...bind] : [] };
}

export function candleCase(key: string, title: string, q: Parameters<typeof findCandles>[1]): PlanCase {
  return { key, title, call: (s) => findCandles(s, q) };
}

export function tapeCase(key: string, title: string, q: Parameters<typeof findTape>[1]): PlanCase {
  return { key, title, call: (s) => findTape(s, q) };
}

export function summaryCase(
  key: string,
  title: string,
  markets: Parameters<typeof findSummary>[1],
  since: Date,
): PlanCase {
  return { key, title, call: (s) => findSummary(s, markets, since) };
}

/**
 * The candidates statement of GET /listings/:id/matches for `listingId`, as the route builds it:
 * the listing read, the zones it may trade with (the built-in market's, tradableZones), `limit`
 * per zone. The listing's read goes first, so the candidates statement is the one captured.
 */
export function matchesCase(
  key: string,
  title: string,
  listingId: string,
  now: Date,
  limit: number,
): PlanCase {
  return {
    key,
    title,
    async call(s) {
      const listing = await findListing(s, listingId);
      if (!listing) throw new Error(`(${key}) no listing ${listingId}`);
      const zones = tradableZones(await loadMarketProfile(), listing.zone, listing.side);
      return findMatchCandidates(s, listing, zones, now, limit);
    },
  };
}

/** Explains each case on `url`. */
export async function explainAll(url: string, cases: PlanCase[]): Promise<Plan[]> {
  const sequelize = new Sequelize(url, {
    dialect: 'postgres',
    logging: capture,
    pool: { max: 1, min: 0 },
    define: { underscored: true },
  });
  try {
    const out: Plan[] = [];
    for (const c of cases) {
      last = undefined;
      capturing = true;
      try {
        await c.call(sequelize);
      } finally {
        capturing = false;
      }
      const captured = last as { sql: string; bind: unknown[] } | undefined;
      if (!captured) throw new Error(`(${c.key}) sent no statement`);
      let plan: string[] = [];
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const rows = await sequelize.query<{ 'QUERY PLAN': string }>(`${EXPLAIN} ${captured.sql}`, {
          bind: captured.bind,
          type: QueryTypes.SELECT,
          logging: false,
        });
        plan = rows.map((r) => r['QUERY PLAN']);
        const exec = plan.find((l) => l.startsWith('Execution Time'));
        times.push(Number(exec?.match(/([\d.]+) ms/)?.[1] ?? Number.NaN));
      }
      times.sort((x, y) => x - y);
      out.push({
        key: c.key,
        title: c.title,
        sql: captured.sql.replace(/\s+/g, ' ').trim(),
        bind: captured.bind.map((v) => (v instanceof Date ? v.toISOString() : v)),
        plan,
        executionMs: { min: times[0]!, median: times[Math.floor(RUNS / 2)]!, max: times[RUNS - 1]! },
      });
    }
    return out;
  } finally {
    await sequelize.close();
  }
}

/** The plans as markdown: statement, bind, plan, execution times. */
export function plansMarkdown(plans: Plan[]): string {
  const out: string[] = [];
  for (const p of plans) {
    out.push(`### (${p.key}) ${p.title}`, '', '```sql', p.sql, '```', '');
    out.push(`Bind: \`${JSON.stringify(p.bind)}\``, '', '```text', ...p.plan, '```', '');
    out.push(
      `Execution time over ${RUNS} runs: min ${p.executionMs.min} ms, median ${p.executionMs.median} ms, max ${p.executionMs.max} ms`,
      '',
    );
  }
  return out.join('\n');
}
