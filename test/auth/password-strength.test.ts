// PROTOCOL v1.1: registration refuses passwords a strength estimator (zxcvbn) scores as guessable,
// with a reason a person can act on, before anything is hashed or stored.
import argon2 from 'argon2';
import { QueryTypes } from 'sequelize';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { api, PASSWORD, uniqueEmail } from '../support/client.js';
import { startHub, type TestHub } from '../support/hub.js';

let node: TestHub;
beforeAll(async () => {
  node = await startHub();
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => node?.stop());

const register = (body: { email: string; password: string; displayName: string }) =>
  api(node.url, 'POST', '/api/v1/auth/register', { body });
const usersWith = async (email: string) =>
  (
    await node.hub.db!.sequelize.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM users WHERE email = $1',
      {
        bind: [email],
        type: QueryTypes.SELECT,
      },
    )
  )[0]?.n;

test.each([
  ['repeated characters', () => 'aaaaaaaaaaaa', 'Grace', /repeated characters like "aaa"/i],
  ['a sequence', () => 'abcdefghijkl', 'Grace', /sequences like "abc"/i],
  ['a common password', () => 'password1234', 'Grace', /commonly used password/i],
  ['a keyboard row', () => 'qwertyuiop12', 'Grace', /commonly used password|keyboard/i],
  ['the email itself', (email: string) => email, 'Grace', /your email address or your name/],
  [
    'the email local part',
    (email: string) => email.split('@')[0]!,
    'Grace',
    /your email address or your name/,
  ],
  [
    'the display name',
    () => 'Margarethe Vanderbilt',
    'Margarethe Vanderbilt',
    /your email address or your name/,
  ],
])(
  '%s is VALIDATION_FAILED at path password, with no hash and no user',
  async (_what, pick, name, reason) => {
    const hash = vi.spyOn(argon2, 'hash');
    const email = uniqueEmail('weakling');
    const res = await register({ email, password: pick(email), displayName: name });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.issues).toEqual([
      { path: 'password', message: expect.stringMatching(reason) },
    ]);
    expect(res.body.error.details.issues[0].message).toMatch(/^This password is easy to guess\. /);
    expect(hash).not.toHaveBeenCalled();
    expect(await usersWith(email)).toBe(0);
  },
);

test('an unguessable password registers, and the length rule still comes first', async () => {
  const email = uniqueEmail('strong');
  expect((await register({ email, password: PASSWORD, displayName: 'Strong' })).status).toBe(201);
  expect(await usersWith(email)).toBe(1);
  const short = await register({ email: uniqueEmail(), password: 'aaaaaaa', displayName: 'S' });
  expect(short.body.error.details.issues).toEqual([
    { path: 'password', message: 'must be at least 10 characters' },
  ]);
});

test('a weak password for a taken email is refused for the password, not as CONFLICT', async () => {
  const email = uniqueEmail('taken');
  expect((await register({ email, password: PASSWORD, displayName: 'Taken' })).status).toBe(201);
  const again = await register({ email, password: '1234567890', displayName: 'Taken' });
  expect(again.status).toBe(400);
  expect(again.body.error.details.issues[0].path).toBe('password');
});
