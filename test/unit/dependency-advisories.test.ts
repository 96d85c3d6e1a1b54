// Dependency advisories without network: every package version installed by package-lock.json is
// checked against security/advisories.json (known-bad versions), so a vulnerable version fails
// the tests wherever they run. See docs/decisions.md, "Dependency advisories".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

interface Advisory {
  package: string;
  /** a semver range; prereleases inside it count */
  vulnerable: string;
  id: string;
  cve?: string;
  summary: string;
}

interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  link?: boolean;
}

interface Lock {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

interface Installed {
  name: string;
  version: string;
  /** where npm puts it: "node_modules/a/node_modules/b" */
  path: string;
}

/** The packages a lock installs (lockfileVersion 2 or 3: the flat `packages` map). */
function installed(lock: Lock): Installed[] {
  if (!(lock.lockfileVersion >= 2) || typeof lock.packages !== 'object') {
    throw new Error('package-lock.json must be lockfileVersion 2 or 3 (npm 7 or later)');
  }
  return Object.entries(lock.packages).flatMap(([path, entry]) => {
    if (path === '' || entry.link || !entry.version) return [];
    // an alias (`"x": "npm:y@1"`) keeps the real name in `name`
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    return [{ name, version: entry.version, path }];
  });
}

/** Every installed package whose version lies in an advisory's range. */
function vulnerable(lock: Lock, advisories: Advisory[]): (Installed & { advisory: Advisory })[] {
  return installed(lock).flatMap((p) =>
    advisories
      .filter(
        (a) => a.package === p.name && semver.satisfies(p.version, a.vulnerable, { includePrerelease: true }),
      )
      .map((advisory) => ({ ...p, advisory })),
  );
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;
const ADVISORIES = readJson<{ advisories: Advisory[] }>('security/advisories.json').advisories;
const LOCK = readJson<Lock>('package-lock.json');

/** A lock of the given packages, as npm writes it. */
const syntheticLock = (packages: Record<string, string>): Lock => ({
  lockfileVersion: 3,
  packages: {
    '': { name: 'app', version: '1.0.0' } as LockEntry,
    ...Object.fromEntries(
      Object.entries(packages).map(([path, version]) => [path, { version, integrity: 'sha512-x' }]),
    ),
  },
});

describe('the matcher', () => {
  test('jsonwebtoken 8.5.1 is found, by each of its advisories', () => {
    const found = vulnerable(syntheticLock({ 'node_modules/jsonwebtoken': '8.5.1' }), ADVISORIES);
    expect(found.map((f) => f.advisory.id).sort()).toEqual([
      'GHSA-8cf7-32gw-wr33',
      'GHSA-hjrf-2m68-5959',
      'GHSA-qwph-4952-7xr6',
    ]);
    expect(found[0]).toMatchObject({
      name: 'jsonwebtoken',
      version: '8.5.1',
      path: 'node_modules/jsonwebtoken',
    });
  });

  test('a nested copy is found by its own version; a fixed one is not', () => {
    const lock = syntheticLock({
      'node_modules/ws': '8.21.3',
      'node_modules/engine.io/node_modules/ws': '8.2.3',
      'node_modules/socket.io-parser': '4.2.7',
      'node_modules/@scope/tool/node_modules/socket.io-parser': '4.2.0',
      'node_modules/semver': '7.5.4',
    });
    expect(vulnerable(lock, ADVISORIES).map((f) => `${f.path}@${f.version} ${f.advisory.id}`)).toEqual([
      'node_modules/engine.io/node_modules/ws@8.2.3 GHSA-3h5v-q93c-6h6q',
      'node_modules/@scope/tool/node_modules/socket.io-parser@4.2.0 GHSA-qm95-pgcg-qqfq',
      'node_modules/@scope/tool/node_modules/socket.io-parser@4.2.0 GHSA-cqmj-92xf-r6r9',
    ]);
  });

  test('an alias is checked under its real name, and a prerelease inside a range counts', () => {
    const lock = syntheticLock({
      'node_modules/cookie-old': '0.6.0',
      'node_modules/jsonwebtoken': '9.0.0-beta.1',
    });
    (lock.packages['node_modules/cookie-old'] as LockEntry).name = 'cookie';
    expect(vulnerable(lock, ADVISORIES).map((f) => `${f.name}@${f.version}`)).toEqual([
      'cookie@0.6.0',
      'jsonwebtoken@9.0.0-beta.1',
      'jsonwebtoken@9.0.0-beta.1',
      'jsonwebtoken@9.0.0-beta.1',
    ]);
  });

  test('an old lock format is refused rather than read as clean', () => {
    expect(() => vulnerable({ lockfileVersion: 1 } as Lock, ADVISORIES)).toThrow(/lockfileVersion/);
  });
});

describe('security/advisories.json', () => {
  test('every entry names a package, a valid range, an advisory id and a summary', () => {
    expect(ADVISORIES.length).toBeGreaterThan(0);
    for (const a of ADVISORIES) {
      expect(a.package, JSON.stringify(a)).toMatch(/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+$/);
      expect(semver.validRange(a.vulnerable), `${a.id}: ${a.vulnerable}`).not.toBeNull();
      expect(a.id).toMatch(/^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|CVE-\d{4}-\d{4,})$/);
      if (a.cve) expect(a.cve).toMatch(/^CVE-\d{4}-\d{4,}$/);
      expect(a.summary.length).toBeGreaterThan(10);
    }
  });
});

describe('package-lock.json', () => {
  test('no installed package version has a known advisory', () => {
    const found = vulnerable(LOCK, ADVISORIES).map(
      (f) => `${f.path}@${f.version}: ${f.advisory.id} (${f.advisory.vulnerable}) ${f.advisory.summary}`,
    );
    expect(found).toEqual([]);
  });

  test('pins one exact version with an integrity hash for every package', () => {
    const loose = Object.entries(LOCK.packages)
      .filter(([path, e]) => path !== '' && !e.link)
      .filter(
        ([, e]) => !e.version || !semver.valid(e.version) || !/^sha(256|384|512)-/.test(e.integrity ?? ''),
      )
      .map(([path]) => path);
    expect(installed(LOCK).length).toBeGreaterThan(100);
    expect(loose).toEqual([]);
  });

  test('CI and the image install from it with npm ci', () => {
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm ci\b/m);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^RUN npm ci\b/m);
  });
});
