import { describe, expect, test } from 'vitest';
import { type ErrorCode, HubError } from '../../src/domain/errors.js';
import type { SwapEventType } from '../../src/domain/events.js';
import type { Listing } from '../../src/domain/listing.js';
import {
  type Actor,
  offerDeadline,
  type Swap,
  type SwapAction,
  swapView,
  type Transition,
  transition,
  type VoidReason,
} from '../../src/domain/swap.js';

const NOW = new Date('2026-11-26T08:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

const I = 'user-initiator';
const R = 'user-recipient';
const S = 'user-stranger';

/** An open swap at round 2: the initiator wrote the latest offer, the recipient (listing owner) acts next. */
const BASE: Swap = {
  id: 'swap-1',
  listingId: 'listing-1',
  initiatorId: I,
  initiatorName: 'Initiator',
  recipientId: R,
  recipientName: 'Recipient',
  buyerId: I,
  sellerId: R,
  status: 'open',
  round: 2,
  nextActorId: R,
  volumeWh: 12_500n,
  priceE4: 1_234n,
  expiresAt: at(HOUR),
  acceptedAt: null,
  closeReason: null,
  createdAt: at(-2 * HOUR),
  updatedAt: at(-HOUR),
  sellerMeterId: 'meter-r',
  buyerMeterId: 'meter-i',
  sellerZone: 'DE-North',
  buyerZone: 'DE-North',
  fees: null,
  feeSchedule: null,
};

type Role = 'next' | 'other' | 'stranger' | 'hub';
const ROLES = ['next', 'other', 'stranger', 'hub'] as const satisfies readonly Role[];

/** next = the base swap's nextActorId (R), other = the author of its latest offer (I). */
const actorOf = (role: Role): Actor =>
  role === 'hub' ? 'hub' : { user: role === 'next' ? R : role === 'other' ? I : S };

type StateKey = 'open' | 'open past expiresAt' | 'accepted' | 'rejected' | 'withdrawn' | 'expired' | 'voided';

/** Variants of the base swap, each as the machine would have left it (closed swaps have no next actor). */
const STATES: Record<StateKey, Swap> = {
  open: BASE,
  // still open in the store, but its clock has run out: exactly at expiresAt counts as expired
  'open past expiresAt': { ...BASE, expiresAt: NOW },
  accepted: { ...BASE, status: 'accepted', nextActorId: null, acceptedAt: at(-MIN), updatedAt: at(-MIN) },
  rejected: { ...BASE, status: 'rejected', nextActorId: null, updatedAt: at(-MIN) },
  withdrawn: { ...BASE, status: 'withdrawn', nextActorId: null, updatedAt: at(-MIN) },
  expired: { ...BASE, status: 'expired', nextActorId: null, expiresAt: at(-MIN), updatedAt: at(-MIN) },
  voided: {
    ...BASE,
    status: 'voided',
    nextActorId: null,
    closeReason: 'listing_filled',
    updatedAt: at(-MIN),
  },
};

type ActionKind = SwapAction['kind'];
const NEW_EXPIRY = at(2 * HOUR);

/** One action of each kind, answering the base swap's current round. */
const ACTIONS: Record<ActionKind, SwapAction> = {
  counter: { kind: 'counter', round: 2, volumeWh: 10_000n, priceE4: 1_500n, expiresAt: NEW_EXPIRY },
  accept: { kind: 'accept', round: 2 },
  reject: { kind: 'reject', round: 2 },
  withdraw: { kind: 'withdraw' },
  expire: { kind: 'expire' },
  void: { kind: 'void', reason: 'listing_cancelled' },
};

type Outcome = 'ok' | ErrorCode;
/** Outcomes per role, in the order of ROLES: [next, other, stranger, hub]. */
type Row = readonly [Outcome, Outcome, Outcome, Outcome];

const CLOSED_USER: Row = ['INVALID_STATE', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN'];
const CLOSED_HUB: Row = ['FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE'];
const CLOSED: Record<ActionKind, Row> = {
  counter: CLOSED_USER,
  accept: CLOSED_USER,
  reject: CLOSED_USER,
  withdraw: CLOSED_USER,
  expire: CLOSED_HUB,
  void: CLOSED_HUB,
};

const EXPECTED: Record<StateKey, Record<ActionKind, Row>> = {
  open: {
    counter: ['ok', 'NOT_YOUR_TURN', 'NOT_FOUND', 'FORBIDDEN'],
    accept: ['ok', 'NOT_YOUR_TURN', 'NOT_FOUND', 'FORBIDDEN'],
    reject: ['ok', 'NOT_YOUR_TURN', 'NOT_FOUND', 'FORBIDDEN'],
    withdraw: ['FORBIDDEN', 'ok', 'NOT_FOUND', 'FORBIDDEN'],
    expire: ['FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE'],
    void: ['FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND', 'ok'],
  },
  'open past expiresAt': {
    counter: ['INVALID_STATE', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN'],
    accept: ['INVALID_STATE', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN'],
    reject: ['INVALID_STATE', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN'],
    withdraw: ['INVALID_STATE', 'INVALID_STATE', 'NOT_FOUND', 'FORBIDDEN'],
    expire: ['FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND', 'ok'],
    void: ['FORBIDDEN', 'FORBIDDEN', 'NOT_FOUND', 'ok'],
  },
  accepted: CLOSED,
  rejected: CLOSED,
  withdrawn: CLOSED,
  expired: CLOSED,
  voided: CLOSED,
};

/** The exact result of every successful cell of the grid. */
const SUCCESS: Record<string, Transition> = {
  'open/counter/next': {
    swap: {
      ...BASE,
      round: 3,
      nextActorId: I,
      volumeWh: 10_000n,
      priceE4: 1_500n,
      expiresAt: NEW_EXPIRY,
      updatedAt: NOW,
    },
    event: 'swap.countered',
  },
  'open/accept/next': {
    swap: { ...BASE, status: 'accepted', nextActorId: null, acceptedAt: NOW, updatedAt: NOW },
    event: 'swap.accepted',
  },
  'open/reject/next': {
    swap: { ...BASE, status: 'rejected', nextActorId: null, updatedAt: NOW },
    event: 'swap.rejected',
  },
  'open/withdraw/other': {
    swap: { ...BASE, status: 'withdrawn', nextActorId: null, updatedAt: NOW },
    event: 'swap.withdrawn',
  },
  'open/void/hub': {
    swap: { ...BASE, status: 'voided', nextActorId: null, closeReason: 'listing_cancelled', updatedAt: NOW },
    event: 'swap.voided',
  },
  'open past expiresAt/expire/hub': {
    swap: { ...BASE, expiresAt: NOW, status: 'expired', nextActorId: null, updatedAt: NOW },
    event: 'swap.expired',
  },
  'open past expiresAt/void/hub': {
    swap: {
      ...BASE,
      expiresAt: NOW,
      status: 'voided',
      nextActorId: null,
      closeReason: 'listing_cancelled',
      updatedAt: NOW,
    },
    event: 'swap.voided',
  },
};

const GRID = (Object.keys(EXPECTED) as StateKey[]).flatMap((state) =>
  (Object.keys(ACTIONS) as ActionKind[]).flatMap((action) =>
    ROLES.map((role, i) => ({ state, action, role, outcome: EXPECTED[state][action][i]! })),
  ),
);

/** Deep-freezes a swap (its Dates too), so an in-place change would throw. */
function frozen(s: Swap): Swap {
  for (const d of [s.expiresAt, s.createdAt, s.updatedAt, s.acceptedAt]) {
    if (d) {
      Object.freeze(d);
    }
  }
  return Object.freeze({ ...s });
}

/** Runs the transition on a frozen copy and checks the input came back unchanged. */
function run(swap: Swap, action: SwapAction, actor: Actor, now: Date = NOW): Transition | HubError {
  const input = frozen(swap);
  const before = structuredClone(input);
  const result = transition(input, action, actor, now);
  expect(input).toStrictEqual(before);
  for (const k of ['expiresAt', 'createdAt', 'updatedAt'] as const) {
    expect(input[k].getTime()).toBe(before[k].getTime());
  }
  return result;
}

function expectError(result: Transition | HubError, code: ErrorCode): HubError {
  expect(result).toBeInstanceOf(HubError);
  const e = result as HubError;
  expect(e.code).toBe(code);
  return e;
}

function expectOk(result: Transition | HubError): Transition {
  if (result instanceof HubError)
    throw new Error(`expected a transition, got ${result.code}: ${result.message}`);
  return result;
}

describe('transition: every state x action x actor', () => {
  test('the grid covers 7 states x 6 actions x 4 roles, with 7 successful cells', () => {
    expect(GRID).toHaveLength(7 * 6 * 4);
    const ok = GRID.filter((c) => c.outcome === 'ok').map((c) => `${c.state}/${c.action}/${c.role}`);
    expect(ok.sort()).toEqual(Object.keys(SUCCESS).sort());
  });

  test.each(GRID)('$state swap, $action by $role -> $outcome', ({ state, action, role, outcome }) => {
    const result = run(STATES[state], ACTIONS[action], actorOf(role));
    if (outcome === 'ok') {
      const expected = SUCCESS[`${state}/${action}/${role}`]!;
      expect(result).toStrictEqual(expected);
      expect(expectOk(result).swap.updatedAt).toEqual(NOW);
    } else {
      expectError(result, outcome);
    }
  });
});

describe('transition: errors in detail', () => {
  test.each(['accepted', 'rejected', 'withdrawn', 'expired', 'voided'] as const)(
    'a party acting on a %s swap learns its status',
    (state) => {
      const e = expectError(run(STATES[state], ACTIONS.accept, { user: R }), 'INVALID_STATE');
      expect(e.details).toEqual({ status: state });
      expect(e.status).toBe(409);
    },
  );

  test('a party acting on an open swap past its expiresAt is told it has expired', () => {
    const e = expectError(run(STATES['open past expiresAt'], ACTIONS.reject, { user: R }), 'INVALID_STATE');
    expect(e.details).toEqual({ status: 'expired' });
  });

  test('a stranger gets NOT_FOUND before anything else, whatever the state', () => {
    for (const swap of Object.values(STATES)) {
      for (const action of Object.values(ACTIONS)) {
        expectError(run(swap, action, { user: S }), 'NOT_FOUND');
      }
    }
  });

  test('the next actor cannot withdraw; they reject instead', () => {
    const e = expectError(run(BASE, ACTIONS.withdraw, { user: R }), 'FORBIDDEN');
    expect(e.status).toBe(403);
  });
});

describe('transition: counter', () => {
  test.each([
    { who: 'recipient', next: R, actor: R, handsTo: I },
    { who: 'initiator', next: I, actor: I, handsTo: R },
  ])(
    'a counter by the $who hands the turn to the other party and bumps the round',
    ({ next, actor, handsTo }) => {
      const swap: Swap = { ...BASE, nextActorId: next, round: 5 };
      const t = expectOk(
        run(
          swap,
          { kind: 'counter', round: 5, volumeWh: 7_000n, priceE4: 999n, expiresAt: NEW_EXPIRY },
          { user: actor },
        ),
      );
      expect(t.event).toBe('swap.countered');
      expect(t.swap).toStrictEqual({
        ...swap,
        round: 6,
        nextActorId: handsTo,
        volumeWh: 7_000n,
        priceE4: 999n,
        expiresAt: NEW_EXPIRY,
        updatedAt: NOW,
      });
      expect(t.swap).not.toBe(swap);
    },
  );

  test('the answer to a counter is the next round, by the party the turn went to', () => {
    const first = expectOk(run(BASE, ACTIONS.counter, { user: R })).swap;
    expect(first.round).toBe(3);
    // R just wrote the latest offer: R may no longer act on terms, but may withdraw
    expectError(run(first, { kind: 'accept', round: 3 }, { user: R }), 'NOT_YOUR_TURN');
    expectError(run(first, { kind: 'withdraw' }, { user: I }), 'FORBIDDEN');
    expectError(run(first, { kind: 'accept', round: 2 }, { user: I }), 'CONFLICT');
    const accepted = expectOk(run(first, { kind: 'accept', round: 3 }, { user: I }));
    expect(accepted.swap).toMatchObject({
      status: 'accepted',
      round: 3,
      nextActorId: null,
      volumeWh: 10_000n,
      priceE4: 1_500n,
      acceptedAt: NOW,
    });
  });
});

describe('transition: stale rounds', () => {
  const STALE = [0, 1, 3, 4].flatMap((round) =>
    (['counter', 'accept', 'reject'] as const).map((kind) => ({ kind, round })),
  );
  const withRound = (kind: 'counter' | 'accept' | 'reject', round: number): SwapAction =>
    kind === 'counter'
      ? { ...(ACTIONS.counter as Extract<SwapAction, { kind: 'counter' }>), round }
      : { kind, round };

  test.each(STALE)('$kind at round $round on a round-2 swap is CONFLICT', ({ kind, round }) => {
    const e = expectError(run(BASE, withRound(kind, round), { user: R }), 'CONFLICT');
    expect(e.details).toEqual({ round: 2 });
  });

  test.each(STALE)('$kind at round $round by the other party is still NOT_YOUR_TURN', ({ kind, round }) => {
    expectError(run(BASE, withRound(kind, round), { user: I }), 'NOT_YOUR_TURN');
  });

  test.each(STALE)('$kind at round $round after expiresAt is INVALID_STATE', ({ kind, round }) => {
    expectError(run(BASE, withRound(kind, round), { user: R }, BASE.expiresAt), 'INVALID_STATE');
  });
});

describe('transition: the clock', () => {
  const EXP = BASE.expiresAt.getTime();
  const USER_CASES = [
    { kind: 'counter', role: 'next' },
    { kind: 'accept', role: 'next' },
    { kind: 'reject', role: 'next' },
    { kind: 'withdraw', role: 'other' },
  ] as const;

  test.each(USER_CASES)('$kind by the $role party 1 ms before expiresAt succeeds', ({ kind, role }) => {
    const now = new Date(EXP - 1);
    const t = expectOk(run(BASE, ACTIONS[kind], actorOf(role), now));
    expect(t.swap.updatedAt).toEqual(now);
  });

  test.each(USER_CASES.flatMap((c) => [0, 1, HOUR].map((after) => ({ ...c, after }))))(
    '$kind by the $role party $after ms after expiresAt is INVALID_STATE although the swap is open',
    ({ kind, role, after }) => {
      expectError(run(BASE, ACTIONS[kind], actorOf(role), new Date(EXP + after)), 'INVALID_STATE');
    },
  );

  test.each([-HOUR, -1])('the hub cannot expire a swap %i ms before expiresAt', (offset) => {
    const e = expectError(run(BASE, ACTIONS.expire, 'hub', new Date(EXP + offset)), 'INVALID_STATE');
    expect(e.status).toBe(409);
  });

  test.each([0, 1, HOUR])('the hub expires a swap %i ms after expiresAt', (offset) => {
    const now = new Date(EXP + offset);
    const t = expectOk(run(BASE, ACTIONS.expire, 'hub', now));
    expect(t).toStrictEqual({
      swap: { ...BASE, status: 'expired', nextActorId: null, updatedAt: now },
      event: 'swap.expired',
    });
  });

  test.each([-HOUR, 0, HOUR])('the hub voids an open swap %i ms from expiresAt', (offset) => {
    const now = new Date(EXP + offset);
    expect(expectOk(run(BASE, ACTIONS.void, 'hub', now)).swap.status).toBe('voided');
  });
});

describe('transition: void reasons', () => {
  test.each([
    'listing_filled',
    'listing_cancelled',
    'listing_expired',
    'insufficient_volume',
  ] as const satisfies readonly VoidReason[])('void with %s records the reason', (reason) => {
    const t = expectOk(run(BASE, { kind: 'void', reason }, 'hub'));
    expect(t.event).toBe<SwapEventType>('swap.voided');
    expect(t.swap).toStrictEqual({
      ...BASE,
      status: 'voided',
      nextActorId: null,
      closeReason: reason,
      updatedAt: NOW,
    });
  });
});

describe('swapView', () => {
  const COMMON = {
    id: 'swap-1',
    listingId: 'listing-1',
    initiatorId: I,
    initiatorName: 'Initiator',
    recipientId: R,
    recipientName: 'Recipient',
    buyerId: I,
    sellerId: R,
    round: 2,
    volumeKwh: '12.500',
    pricePerKwh: '0.1234',
    createdAt: '2026-11-26T06:00:00.000Z',
    sellerMeterId: 'meter-r',
    buyerMeterId: 'meter-i',
    fees: null,
  };

  test('an open swap carries neither acceptedAt, notional nor reason', () => {
    const view = swapView(BASE);
    expect(view).toStrictEqual({
      ...COMMON,
      status: 'open',
      nextActorId: R,
      expiresAt: '2026-11-26T09:00:00.000Z',
      updatedAt: '2026-11-26T07:00:00.000Z',
    });
    expect(view).not.toHaveProperty('acceptedAt');
    expect(view).not.toHaveProperty('notional');
    expect(view).not.toHaveProperty('reason');
  });

  test('an accepted swap carries acceptedAt and the exact notional', () => {
    const accepted = expectOk(transition(BASE, ACTIONS.accept, { user: R }, NOW)).swap;
    expect(swapView(accepted)).toStrictEqual({
      ...COMMON,
      status: 'accepted',
      nextActorId: null,
      expiresAt: '2026-11-26T09:00:00.000Z',
      updatedAt: '2026-11-26T08:00:00.000Z',
      acceptedAt: '2026-11-26T08:00:00.000Z',
      notional: '1.5425000',
    });
  });

  test('a voided swap carries its reason and no notional', () => {
    const voided = expectOk(
      transition(BASE, { kind: 'void', reason: 'insufficient_volume' }, 'hub', NOW),
    ).swap;
    const view = swapView(voided);
    expect(view).toStrictEqual({
      ...COMMON,
      status: 'voided',
      nextActorId: null,
      expiresAt: '2026-11-26T09:00:00.000Z',
      updatedAt: '2026-11-26T08:00:00.000Z',
      reason: 'insufficient_volume',
    });
    expect(view).not.toHaveProperty('acceptedAt');
    expect(view).not.toHaveProperty('notional');
  });

  test.each(['rejected', 'withdrawn', 'expired'] as const)(
    'a %s swap carries neither acceptedAt, notional nor reason',
    (state) => {
      const view = swapView(STATES[state]);
      expect(view.status).toBe(state);
      expect(view).not.toHaveProperty('acceptedAt');
      expect(view).not.toHaveProperty('notional');
      expect(view).not.toHaveProperty('reason');
    },
  );

  test.each([
    { volumeWh: 12_500n, priceE4: 1_234n, notional: '1.5425000' },
    { volumeWh: 1n, priceE4: 1n, notional: '0.0000001' },
    { volumeWh: 1_000n, priceE4: 10_000n, notional: '1.0000000' },
    { volumeWh: 333n, priceE4: 3_333n, notional: '0.1109889' },
    { volumeWh: 1_000_000_000_000n, priceE4: 10_000_000_000n, notional: '1000000000000000.0000000' },
  ])('notional of $volumeWh Wh at $priceE4 e-4/kWh is $notional', ({ volumeWh, priceE4, notional }) => {
    const swap: Swap = { ...STATES.accepted, volumeWh, priceE4 };
    expect(swapView(swap).notional).toBe(notional);
  });

  test('swapView does not mutate the swap', () => {
    const swap = frozen(STATES.accepted);
    const before = structuredClone(swap);
    swapView(swap);
    expect(swap).toStrictEqual(before);
  });
});

describe('offerDeadline', () => {
  const listing = (deliveryStart: Date, lead: number): Listing => ({
    id: 'listing-1',
    ownerId: R,
    ownerName: 'Recipient',
    side: 'supply',
    energyType: 'solar',
    volumeWh: 100_000n,
    availableWh: 100_000n,
    priceE4: 1_234n,
    currency: 'EUR',
    deliveryStart,
    deliveryEnd: new Date(deliveryStart.getTime() + HOUR),
    zone: 'DE-1',
    description: '',
    status: 'active',
    version: 1,
    createdAt: at(-HOUR),
    updatedAt: at(-HOUR),
    meterId: 'meter-r',
    slotMinutes: 60,
    allOrNone: false,
    gateClosesAt: new Date(deliveryStart.getTime() - lead),
  });

  test.each([
    // the offer TTL ends first
    { start: 10 * HOUR, ttl: HOUR, lead: 15 * MIN, expected: HOUR },
    // the gate closes first
    { start: 2 * HOUR, ttl: 24 * HOUR, lead: 15 * MIN, expected: 2 * HOUR - 15 * MIN },
    // both at the same instant
    { start: HOUR + 15 * MIN, ttl: HOUR, lead: 15 * MIN, expected: HOUR },
    // no lead: the gate is the delivery start
    { start: 30 * MIN, ttl: HOUR, lead: 0, expected: 30 * MIN },
    // the gate already closed: the deadline is in the past
    { start: 10 * MIN, ttl: HOUR, lead: 15 * MIN, expected: -5 * MIN },
  ])('deliveryStart now+$start, ttl $ttl, lead $lead -> now+$expected', ({ start, ttl, lead, expected }) => {
    const l = listing(at(start), lead);
    expect(offerDeadline(l, NOW, ttl)).toEqual(at(expected));
    expect(offerDeadline(l, NOW, ttl).getTime()).toBe(
      Math.min(NOW.getTime() + ttl, l.deliveryStart.getTime() - lead),
    );
  });
});
