import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { api, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

// A taken email answers 409 at registration (PROTOCOL.md), so registering probes which emails have
// accounts: registrations have a budget per address of their own, apart from logins.
const BUDGET = 3;

let node: TestHub;
beforeAll(async () => {
  node = await startHub({
    env: { AUTH_REGISTER_PER_IP_PER_HOUR: String(BUDGET), AUTH_RATE_IP_PER_MINUTE: '1000' },
  });
});
afterAll(() => node?.stop());

const register = (email: string) =>
  api(node.url, 'POST', '/api/v1/auth/register', { body: { email, password: PASSWORD, displayName: 'R' } });

describe('registrations per address', () => {
  test(`${BUDGET} per hour, taken emails counted too; then 429 with retryAfterMs; logins go on`, async () => {
    const taken = uniqueEmail('taken');
    expect((await register(taken)).status).toBe(201);
    expect((await register(taken)).status).toBe(409);
    expect((await register(uniqueEmail())).status).toBe(201);
    // the budget is spent: a new email and a taken one get the same answer, which tells nothing
    for (const email of [uniqueEmail(), taken]) {
      const res = await register(email);
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('RATE_LIMITED');
      expect(res.body.error.details.retryAfterMs).toBeGreaterThan(3_000_000);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(3000);
    }
    const login = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: taken, password: PASSWORD },
    });
    expect(login.status).toBe(200);
  });

  test('the default is 20 per hour', () => {
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).AUTH_REGISTER_PER_IP_PER_HOUR).toBe(20);
  });
});
