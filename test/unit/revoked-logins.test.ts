// The node's memory of recent access changes (src/domain/auth/revoked-logins.ts): pure logic.
import { describe, expect, test } from 'vitest';
import type { AccessChange } from '../../src/domain/auth/revoked-logins.js';
import { RevokedLogins } from '../../src/domain/auth/revoked-logins.js';
import type { StoredEvent } from '../../src/domain/events.js';

const U = 'u1';
const F = 'f1';
let nextId = 1n;
const event = (data: AccessChange, at = 0): StoredEvent => ({
  id: nextId++,
  type: 'access.changed',
  at: new Date(at),
  users: [],
  data,
});

function memory(opts: { current?: boolean; keepMs?: number } = {}) {
  const clock = { now: 0 };
  const closed: unknown[] = [];
  const counted: string[] = [];
  let current = opts.current ?? true;
  const m = new RevokedLogins({
    keepMs: opts.keepMs ?? 1000,
    current: () => current,
    closed: (room) => closed.push(room),
    counted: (from) => counted.push(from),
    now: () => clock.now,
  });
  return { m, clock, closed, counted, setCurrent: (c: boolean) => (current = c) };
}

describe('RevokedLogins', () => {
  test('answers from the database until loaded, and while its stream is not current', async () => {
    const { m, counted, setCurrent } = memory();
    const read = async () => 'revoked' as const;
    expect(await m.loginState(U, F, read)).toBe('revoked');
    m.load([]);
    expect(await m.loginState(U, F, read)).toBe('live');
    setCurrent(false);
    expect(await m.loginState(U, F, read)).toBe('revoked');
    expect(counted).toEqual(['log', 'memory', 'log']);
  });

  test('deleted, then disabled, then revoked, as the database answers; an enabled user is asked of the database', async () => {
    const { m, closed, counted } = memory();
    m.load([{ change: { change: 'revoked', userId: U, familyIds: [F] }, at: 0 }]);
    expect(m.state(U, F)).toBe('revoked');
    expect(m.state(U, 'f2')).toBe('live');
    m.observe([event({ change: 'disabled', userId: U })]);
    expect(m.state(U, 'f2')).toBe('disabled');
    expect(m.state(U, F)).toBe('disabled');
    // a disable and an enable committed close together may come in either order: the database says
    m.observe([event({ change: 'enabled', userId: U })]);
    expect(m.state(U, 'f2')).toBeUndefined();
    expect(await m.loginState(U, 'f2', async () => 'disabled')).toBe('disabled');
    expect(counted.at(-1)).toBe('log');
    m.observe([event({ change: 'deleted', userId: U })]);
    expect(m.state(U, F)).toBe('deleted');
    // closed: the disabled user's rooms and the deleted one's, not on enable
    expect(closed).toEqual([{ userId: U }, { userId: U }]);
  });

  test("the stream's changes before the load are applied after it: they are newer", () => {
    const { m } = memory();
    m.observe([event({ change: 'deleted', userId: U })]);
    expect(m.usable()).toBe(false);
    // the load (a snapshot older than the stream's event) still has the user enabled
    m.load([
      { change: { change: 'disabled', userId: U }, at: 0 },
      { change: { change: 'enabled', userId: U }, at: 0 },
    ]);
    expect(m.usable()).toBe(true);
    expect(m.state(U, F)).toBe('deleted');
  });

  test('a disable after an enable is still asked of the database; changes before the load count at once', () => {
    const { m } = memory();
    m.observe([event({ change: 'revoked', userId: U, familyIds: [F] })]);
    expect(m.state(U, F)).toBe('revoked'); // the connect re-check sees it before the load
    m.load([]);
    m.observe([event({ change: 'enabled', userId: U }), event({ change: 'disabled', userId: U })]);
    expect(m.state(U, 'f2')).toBeUndefined();
  });

  test("a stream's revocation closes the login's sockets; other events are passed over", () => {
    const { m, closed } = memory();
    m.load([]);
    const other: StoredEvent = { id: nextId++, type: 'swap.proposed', at: new Date(0), users: [U], data: {} };
    m.observe([other, event({ change: 'revoked', userId: U, familyIds: [F, 'f2'] })]);
    expect(closed).toEqual([{ familyId: F }, { familyId: 'f2' }]);
    expect(m.state(U, 'f2')).toBe('revoked');
  });

  test('this node revokes at once; what changed longer than keepMs ago is forgotten', () => {
    const { m, clock } = memory({ keepMs: 120_000 });
    m.load([{ change: { change: 'disabled', userId: 'old' }, at: 0 }]);
    clock.now = 100_000;
    m.revoke(F);
    expect(m.state(U, F)).toBe('revoked');
    expect(m.size).toBe(2);
    clock.now = 200_000; // the next change prunes (at most once a minute)
    m.revoke('f3');
    expect(m.state('old', 'x')).toBe('live');
    expect(m.state(U, F)).toBe('revoked');
    expect(m.size).toBe(2);
  });
});
