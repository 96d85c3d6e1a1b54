// Ids read from commands and paths are in lower case (src/domain/schemas.ts): PostgreSQL compares
// uuids in any case, but the hub's maps compare text, and a group commit that did not find an
// upper-case swap id among its locked swaps failed the whole group.
import { describe, expect, test } from 'vitest';
import { answerCommand, proposeCommand } from '../../src/domain/schemas.js';
import { idParams } from '../../src/http/schemas.js';

const UPPER = '3F1C2B9E-AB00-4CDE-8F00-00000000000A';

describe('ids in commands', () => {
  test('a swap, request or meter id in upper case reads as the same id in lower case', () => {
    expect(answerCommand.parse({ requestId: UPPER, swapId: UPPER, round: 1 })).toEqual({
      requestId: UPPER.toLowerCase(),
      swapId: UPPER.toLowerCase(),
      round: 1,
    });
    const proposal = proposeCommand.parse({
      requestId: UPPER,
      listingId: UPPER,
      meterId: UPPER,
      volumeKwh: '1',
      pricePerKwh: '0.1',
    });
    expect([proposal.requestId, proposal.listingId, proposal.meterId]).toEqual(
      Array(3).fill(UPPER.toLowerCase()),
    );
    expect(idParams.parse({ id: UPPER })).toEqual({ id: UPPER.toLowerCase() });
  });

  test('what is not a uuid is still refused', () => {
    expect(answerCommand.safeParse({ requestId: 'x', swapId: UPPER, round: 1 }).success).toBe(false);
  });
});
