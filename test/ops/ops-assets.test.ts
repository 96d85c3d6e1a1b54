// The operator assets in ops/ (Grafana dashboard, Prometheus alert rules) against the hub itself:
// promtool accepts the rules and their unit tests, and every PromQL expression of the rules and the
// dashboard names only series a real hub's GET /metrics exposes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HubMetrics } from '../../src/metrics.js';
import { startHub, type TestHub } from '../support/hub.js';
import { redisAvailable, requireServices } from '../support/services.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ALERTS = 'ops/prometheus/alerts.yml';
const ALERT_TESTS = 'ops/prometheus/alerts.test.yml';
const DASHBOARD = 'ops/grafana/renex-hub.json';
const METRICS_TOKEN = 'ops-assets-metrics-token-0123456789';
/** Series Prometheus makes itself for every target, not the hub. */
const PROMETHEUS_SERIES = new Set(['up']);
/** README metrics that are informational: on the dashboard, without an alert of their own. */
const NO_ALERT = new Set([
  'hub_accept_group_size',
  'hub_sockets_connected',
  'hub_replayed_events_total',
  'hub_stream_filled_events_total',
  'hub_newest_event_lookups_total',
  'hub_login_checks_total',
]);

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// --- PromQL ------------------------------------------------------------------------------------

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names an expression selects. Strings (and the Grafana variables inside them), label
 * matchers, ranges, `offset` durations and the label lists of `by`/`without`/`on`/`ignoring`/
 * `group_left`/`group_right` go first; what is left that is an identifier not called as a function
 * and not a keyword is a metric name.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\boffset\s+-?[\w$]+/gi, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.:$])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g)) {
    if (!KEYWORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/** The series a Prometheus scrape of the hub's exposition holds: histograms as _bucket/_sum/_count. */
function seriesOf(exposition: string): Set<string> {
  const series = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) series.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) series.add(name + s);
    else series.add(name);
  }
  return series;
}

// --- the assets --------------------------------------------------------------------------------

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (): Rule[] =>
  (parseYaml(read(ALERTS)) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: {
      name: string;
      type: string;
      query: string | { query: string };
      datasource?: Target['datasource'];
    }[];
  };
}

const dashboard = (): Dashboard => JSON.parse(read(DASHBOARD)) as Dashboard;

function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: the panels' targets and the query variables' metrics. */
function dashboardExprs(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(d))
    for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.+),\s*\w+\)$/.exec(q.trim());
    out.push({ where: `variable $${v.name}`, expr: m ? m[1]! : q });
  }
  return out;
}

/** The `hub_*` metrics the README's Operations section names. */
function readmeMetrics(): string[] {
  const readme = read('README.md');
  const start = readme.indexOf('## Operations');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...new Set([...section.matchAll(/`(hub_\w+)/g)].map((m) => m[1]!))];
}

// --- the tests ---------------------------------------------------------------------------------

describe('PromQL metric names', () => {
  it('finds selected metrics and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(hub_a_bucket{x=~"a|b", y="$job"}[$__rate_interval])))' +
          ' > 4 * sum without (kind) (rate(hub_b_total[1h] offset 5m)) and on (job) hub_c == bool 1e3 unless up',
      ).sort(),
    ).toEqual(['hub_a_bucket', 'hub_b_total', 'hub_c', 'up']);
  });
});

describe('promtool', () => {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).error === undefined;
  if (!found) {
    const line = 'ops assets: promtool is missing (apt-get install prometheus)';
    if (requireServices) throw new Error(`${line} and REQUIRE_SERVICES=1`);
    console.warn(`skipped: ${line}`);
  }
  const promtool = (...args: string[]) => {
    const r = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  it.runIf(found)(`check rules ${ALERTS}`, () => {
    const r = promtool('check', 'rules', ALERTS);
    expect(r.status, r.output).toBe(0);
  });

  it.runIf(found)(`test rules ${ALERT_TESTS}: the alerts fire when they should, and only then`, () => {
    const r = promtool('test', 'rules', ALERT_TESTS);
    expect(r.status, r.output).toBe(0);
  });
});

describe('the assets against the hub’s metrics', () => {
  let hub: TestHub;
  let series: Set<string>;

  beforeAll(async () => {
    const redis = await redisAvailable('ops assets (hub_redis_up)');
    hub = await startHub({ redis, env: { METRICS_TOKEN } });
    const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    series = seriesOf(await res.text());
    if (!redis) {
      // without Redis the hub registers no hub_redis_up: take it from the same registry with a probe
      const full = new HubMetrics({
        database: async () => true,
        redis: async () => true,
        outboxLag: async () => 0,
      });
      for (const s of seriesOf(await full.registry.metrics())) series.add(s);
    }
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const unknown = (exprs: { where: string; expr: string }[]) =>
    exprs.flatMap(({ where, expr }) => {
      const names = metricNames(expr);
      if (names.length === 0) return [`${where}: no metric in ${expr}`];
      return names
        .filter((n) => !series.has(n) && !PROMETHEUS_SERIES.has(n))
        .map((n) => `${where}: ${n} (in ${expr})`);
    });

  it('the hub exposes the metrics the README lists (with the default metrics prefixed hub_)', () => {
    expect(series.has('hub_nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(series.has('hub_command_duration_seconds_bucket')).toBe(true);
    const missing = readmeMetrics().filter(
      (m) => !series.has(m) && !series.has(`${m}_bucket`) && !PROMETHEUS_SERIES.has(m),
    );
    expect(missing).toEqual([]);
  });

  it('every alert rule names only metrics the hub exposes', () => {
    expect(unknown(rules().map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })))).toEqual(
      [],
    );
  });

  it('the rules’ unit tests feed only series the hub exposes', () => {
    const tests = parseYaml(read(ALERT_TESTS)) as { tests: { input_series?: { series: string }[] }[] };
    const inputs = tests.tests.flatMap((t) => t.input_series ?? []);
    expect(inputs.length).toBeGreaterThan(0);
    expect(unknown(inputs.map((s) => ({ where: 'input series', expr: s.series })))).toEqual([]);
  });

  it('every dashboard query names only metrics the hub exposes', () => {
    const exprs = dashboardExprs(dashboard());
    expect(exprs.length).toBeGreaterThan(20);
    expect(unknown(exprs)).toEqual([]);
  });

  it('the dashboard shows every metric the README lists', () => {
    const used = new Set(
      dashboardExprs(dashboard()).flatMap(({ expr }) =>
        metricNames(expr).map((n) => n.replace(/_(?:bucket|sum|count)$/, '')),
      ),
    );
    expect(readmeMetrics().filter((m) => !used.has(m))).toEqual([]);
  });
});

describe('the alert rules', () => {
  it('has an alert for every README metric that has an alert threshold', () => {
    const used = new Set(
      rules().flatMap((r) => metricNames(r.expr).map((n) => n.replace(/_(?:bucket|sum|count)$/, ''))),
    );
    expect(readmeMetrics().filter((m) => !NO_ALERT.has(m) && !used.has(m))).toEqual([]);
  });

  it('every alert has a unique name, `for`, a severity, a summary and a description', () => {
    const all = rules();
    expect(all.length).toBeGreaterThan(0);
    const bad = all.flatMap((r) => {
      const problems: string[] = [];
      if (!r.alert) problems.push('not an alert');
      if (!r.for) problems.push('no `for`');
      if (!['critical', 'warning', 'info'].includes(r.labels?.severity ?? '')) problems.push('no severity');
      if (!r.annotations?.summary?.trim()) problems.push('no summary');
      if (!r.annotations?.description?.trim()) problems.push('no description');
      return problems.map((p) => `${r.alert ?? r.expr}: ${p}`);
    });
    expect(bad).toEqual([]);
    const names = all.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the dashboard', () => {
  it('is Grafana JSON on a Prometheus data source variable', () => {
    const d = dashboard();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('renex-hub');
    expect(d.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template
    const ds = { type: 'prometheus', uid: '${datasource}' };
    const panels = allPanels(d).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(20);
    const ids = allPanels(d).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual(ds);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource, p.title).toEqual(ds);
        expect(t.expr?.trim(), p.title).toBeTruthy();
      }
    }
    for (const v of d.templating.list.filter((x) => x.type === 'query')) expect(v.datasource).toEqual(ds);
  });
});
