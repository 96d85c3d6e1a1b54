// pgbench runs: the SQL baseline of one command, replayed at the hub's concurrency.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../lib.js';

export interface PgbenchResult {
  command: string;
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
  /** per-statement average latency (ms) from `-r`, in script order */
  statements: { ms: number; sql: string }[];
  error?: string;
}

/**
 * Runs `pgbench -n -M extended -r -f script -c clients -j threads -T seconds` against `url`.
 * Extended protocol because the hub (node-postgres with bind parameters) sends every statement
 * as parse/bind/execute of an unnamed statement; pgbench -M extended does the same.
 */
export async function runPgbench(opts: {
  url: string;
  script: string;
  clients: number;
  threads: number;
  seconds: number;
  defines?: Record<string, string | number>;
}): Promise<PgbenchResult> {
  const args = ['-n', '-M', 'simple', '-r', '-f', opts.script];
  args.push('-c', String(opts.clients), '-j', String(opts.threads), '-T', String(opts.seconds));
  for (const [k, v] of Object.entries(opts.defines ?? {})) args.push('-D', `${k}=${v}`);
  const shown = `pgbench ${args.map((a) => (a === opts.script ? path.relative(ROOT, a) : a)).join(' ')}`;
  args.push(opts.url);
  const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(-1));
  });
  const num = (re: RegExp) => {
    const m = out.match(re);
    return m ? Number(m[1]) : Number.NaN;
  };
  const statements: { ms: number; sql: string }[] = [];
  const at = out.indexOf('statement latencies');
  if (at >= 0) {
    for (const line of out.slice(at).split('\n').slice(1)) {
      // "         0.123           0  SELECT ..." (latency ms, failures, statement)
      const m = line.match(/^\s+([\d.]+)\s+(?:\d+\s+)?(.*)$/);
      if (m && !m[2]!.startsWith('\\')) statements.push({ ms: Number(m[1]), sql: m[2]!.trim() });
    }
  }
  const result: PgbenchResult = {
    command: shown,
    tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
    transactions: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/) || 0,
    latencyAvgMs: num(/latency average = ([\d.]+) ms/),
    statements,
  };
  if (code !== 0 || Number.isNaN(result.tps)) {
    result.error = `pgbench exited ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}`;
  }
  return result;
}
