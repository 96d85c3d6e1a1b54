// Where a hub's database time goes, by kind of statement: load it into the hub nodes with
//   BENCH_HUB_NODE_OPTIONS="--import=./bench/workloads/webhooks/count-sql.mjs" npm run bench -- webhooks
// and each node writes bench/profiles/sql-<pid>.json when it exits: per kind, the statements sent
// (pg Client.query), their time on the connection (send to result) and, for autocommitted ones
// (pg Pool.query: the dispatcher's, the relay's), the time waiting for a connection of the pool;
// and the waits of Pool.connect (the commands' transactions). Kinds: the dispatcher's statements
// by name, the rest by their first words. A diagnostic, not part of the figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const dir = path.resolve(process.env.BENCH_PROFILE_DIR ?? 'bench/profiles');
const stats = new Map();
const add = (kind, field, ms) => {
  const s = stats.get(kind) ?? { n: 0, execMs: 0, pooled: 0, poolWaitMs: 0 };
  stats.set(kind, s);
  if (field === 'exec') {
    s.n++;
    s.execMs += ms;
  } else {
    s.pooled++;
    s.poolWaitMs += ms;
  }
};

// the dispatcher's statements (src/store/notify/target-store.ts), most specific first
const KINDS = [
  [/SET claimed_by = \$1[\s\S]*user_id = ANY/, 'notify claimForUsers'],
  [/SET claimed_by = \$1[\s\S]*claimed_by IS NOT NULL AND claim_until < now\(\)/, 'notify claimDue (poll)'],
  [/SET claimed_by = \$1[\s\S]*c\.id <= \$3::uuid/, 'notify sweep claim (poll)'],
  [/^SELECT max\(id::text\) AS id FROM \(SELECT id FROM notify_targets/, 'notify sweep chunk (poll)'],
  [/^SELECT id, user_id, created_at FROM notify_targets/, 'notify targetsSince (poll)'],
  [/t AS \(SELECT \(SELECT row_to_json\(c\)[\s\S]*claim_token = \$5/, 'notify round (target + events)'],
  [/^WITH u AS \(UPDATE notify_targets SET/, 'notify save'],
  [/SET claimed_by = NULL/, 'notify releaseIfIdle'],
  [/^UPDATE notify_targets SET claim_until = now\(\) \+/, 'notify renew'],
  [/^UPDATE notify_targets SET claim_until = now\(\) -/, 'notify expire'],
  [/FROM notify_retries\s+WHERE target_id = \$1 AND due_at/, 'notify dueRetries'],
  [/FROM notify_targets WHERE id = \$1 AND claim_token = \$2/, 'notify reload'],
  [/notify_/, 'notify (other)'],
];
const classify = (text) => {
  const sql = String(text ?? '').trim();
  for (const [re, k] of KINDS) if (re.test(sql)) return k;
  return sql
    .replace(/\s+/g, ' ')
    .replace(/'[^']*'/g, "'?'")
    .slice(0, 48);
};
// the statements are a few hundred texts: matching each once keeps the regexes off the hub's CPU
const kinds = new Map();
const kindOf = (text) => {
  let k = kinds.get(text);
  if (k === undefined) {
    k = classify(text);
    if (kinds.size < 10_000) kinds.set(text, k);
  }
  return k;
};
const textOf = (a) => (typeof a === 'string' ? a : a?.text);

const timed = (kind, field, args, call) => {
  const t = performance.now();
  const done = () => add(kind, field, performance.now() - t);
  const last = args.length - 1;
  if (typeof args[last] === 'function') {
    const cb = args[last];
    args[last] = (...r) => {
      done();
      return cb(...r);
    };
    return call(args);
  }
  const out = call(args);
  if (out && typeof out.then === 'function') out.then(done, done);
  return out;
};

const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  return timed(kindOf(textOf(args[0])), 'exec', args, (a) => clientQuery.apply(this, a));
};
// Pool.query's time is the wait for a connection plus the statement's: the wait is what is left
const poolQuery = pg.Pool.prototype.query;
pg.Pool.prototype.query = function (...args) {
  return timed(kindOf(textOf(args[0])), 'pool', args, (a) => poolQuery.apply(this, a));
};
const poolConnect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (...args) {
  return timed('(Pool.connect)', 'pool', args, (a) => poolConnect.apply(this, a));
};

process.on('exit', () => {
  mkdirSync(dir, { recursive: true });
  const out = [...stats].map(([kind, s]) => ({
    kind,
    statements: s.n,
    execMs: Math.round(s.execMs),
    meanExecMs: s.n ? Number((s.execMs / s.n).toFixed(2)) : null,
    pooled: s.pooled,
    // Pool.query total minus the statement's own time; Pool.connect: the whole wait
    poolWaitMs: Math.round(s.poolWaitMs - (s.pooled && kind !== '(Pool.connect)' ? s.execMs : 0)),
  }));
  out.sort((a, b) => b.statements - a.statements);
  writeFileSync(path.join(dir, `sql-${process.pid}.json`), `${JSON.stringify(out, null, 2)}\n`);
});
