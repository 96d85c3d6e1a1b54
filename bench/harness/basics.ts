// Small helpers every workload uses: env settings, sleeps, error codes, bounded concurrency.
import { HubClientError } from '../../src/client/index.js';

export const PASSWORD = 'bench password 123';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${raw})`);
  return n;
}

/** The benchmarks drive services on this machine only. */
export function assertLocal(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(
      `${what} must point at 127.0.0.1 (got host ${host}); the benchmarks target this machine only`,
    );
  }
}

/** The code of a failed command, for error counts. */
export function errorCode(err: unknown): string {
  if (err instanceof HubClientError) return err.code;
  return (err as Error)?.message?.slice(0, 60) ?? String(err);
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Splits `items` into `n` nearly equal consecutive parts. */
export function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
  }
  return out;
}
