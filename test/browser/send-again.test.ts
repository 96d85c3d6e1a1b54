// The dashboard's requestIds (web/src/send-again.ts): a command sent again after no answer, with
// the same payload, repeats its requestId (the hub then answers it once); an answer forgets it.
import { describe, expect, test } from 'vitest';
import { SendAgain } from '../../web/src/send-again.js';

describe('SendAgain', () => {
  test('the same command after no answer repeats its requestId, whatever the order of its fields', () => {
    const again = new SendAgain();
    const id = again.requestIdFor('swap:accept', { swapId: 's1', round: 2 });
    again.settle('swap:accept', { swapId: 's1', round: 2 }, id, true);
    expect(again.requestIdFor('swap:accept', { round: 2, swapId: 's1' })).toBe(id);
    // another round, another swap or another command is another command
    expect(again.requestIdFor('swap:accept', { swapId: 's1', round: 3 })).not.toBe(id);
    expect(again.requestIdFor('swap:accept', { swapId: 's2', round: 2 })).not.toBe(id);
    expect(again.requestIdFor('swap:reject', { swapId: 's1', round: 2 })).not.toBe(id);
  });

  test('each unanswered command is kept until its answer, not only the last one', () => {
    const again = new SendAgain();
    const a = again.requestIdFor('listing:cancel', { listingId: 'l1' });
    again.settle('listing:cancel', { listingId: 'l1' }, a, true);
    const b = again.requestIdFor('swap:withdraw', { swapId: 's1' });
    again.settle('swap:withdraw', { swapId: 's1' }, b, true);
    expect(again.requestIdFor('listing:cancel', { listingId: 'l1' })).toBe(a);
    expect(again.requestIdFor('swap:withdraw', { swapId: 's1' })).toBe(b);
    // answered: a new click is a new command
    again.settle('listing:cancel', { listingId: 'l1' }, a, false);
    expect(again.requestIdFor('listing:cancel', { listingId: 'l1' })).not.toBe(a);
    expect(again.requestIdFor('swap:withdraw', { swapId: 's1' })).toBe(b);
  });
});
