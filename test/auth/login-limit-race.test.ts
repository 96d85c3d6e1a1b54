import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, newTrader, PASSWORD } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';
import { freshDatabase, postgresAvailable, redisAvailable, type TestDatabase } from '../support/services.js';

// Failed logins per email are counted before the password is checked: guesses sent at once cannot all
// pass a count that none of them has raised yet.
const LIMIT = 5;
const GUESSES = LIMIT * 3;
const env = { AUTH_RATE_EMAIL_PER_15MIN: String(LIMIT), AUTH_RATE_IP_PER_MINUTE: '1000000' };

const login = (node: TestHub, email: string, password: string) =>
  api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password } });

/** GUESSES wrong passwords for one email, all sent at once, spread over `nodes`. */
async function parallelGuesses(nodes: TestHub[], email: string): Promise<Record<number, number>> {
  const statuses = await Promise.all(
    Array.from({ length: GUESSES }, (_, i) => login(nodes[i % nodes.length]!, email, `wrong guess ${i}`)),
  );
  const counts: Record<number, number> = {};
  for (const s of statuses.map((r) => r.status)) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

describe('one hub: parallel guesses against one email', () => {
  let node: TestHub;
  beforeAll(async () => {
    node = await startHub({ env });
  });
  afterAll(() => node?.stop());

  test(`${GUESSES} wrong passwords at once: ${LIMIT} are checked (401), the rest refused (429); then the right one is 429`, async () => {
    const t = await newTrader(node.url);
    expect(await parallelGuesses([node], t.user.email)).toEqual({ 401: LIMIT, 429: GUESSES - LIMIT });
    const right = await login(node, t.user.email, PASSWORD);
    expect(right.status).toBe(429);
    expect(right.body.error).toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfterMs: expect.any(Number) },
    });
  });
});

const cluster =
  (await postgresAvailable('login limit across nodes')) && (await redisAvailable('login limit across nodes'));

describe.skipIf(!cluster)('two hubs on one database sharing Redis', () => {
  let db: TestDatabase;
  let a: TestHub;
  let b: TestHub;
  beforeAll(async () => {
    db = await freshDatabase();
    a = await startHub({ db, redis: true, env });
    b = await startHub({ db, redis: true, env });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  test(`${GUESSES} wrong passwords at once over both nodes: ${LIMIT} checked in all, the right one then 429 on either`, async () => {
    const t = await newTrader(a.url);
    expect(await parallelGuesses([a, b], t.user.email)).toEqual({ 401: LIMIT, 429: GUESSES - LIMIT });
    expect((await login(a, t.user.email, PASSWORD)).status).toBe(429);
    expect((await login(b, t.user.email, PASSWORD)).status).toBe(429);
  });
});
