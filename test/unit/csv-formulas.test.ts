// The trades CSV: a value a spreadsheet would run as a formula is written as text, whatever
// column it is in (a counterparty's name as much as a zone), and only plain numbers stay numbers.
import { describe, expect, test } from 'vitest';
import { csvRow, TRADE_COLUMNS, type TradeView } from '../../src/domain/trade.js';

const trade: TradeView = {
  swapId: 's',
  listingId: 'l',
  side: 'buy',
  counterpartyId: 'c',
  counterpartyName: 'C',
  energyType: 'solar',
  zone: 'NL',
  volumeKwh: '12.500',
  pricePerKwh: '0.1200',
  notional: '1.5000000',
  currency: 'EUR',
  deliveryStart: '2026-11-26T10:00:00.000Z',
  deliveryEnd: '2026-11-26T11:00:00.000Z',
  acceptedAt: '2026-11-25T10:00:00.000Z',
};

/** The CSV field of `value` put in the zone column (any text column is written the same way). */
const field = (value: string) => csvRow({ ...trade, zone: value }).split(',')[TRADE_COLUMNS.indexOf('zone')];

describe('CSV fields a spreadsheet would run as formulas', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+1+1', "'+1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['-1-1', "'-1-1"],
    ['-1+1', "'-1+1"],
    ['-2+3+cmd|/C calc!A0', "'-2+3+cmd|/C calc!A0"],
    ['1+1', '1+1'], // not a formula without a leading sign
    ['-North', "'-North"],
  ])('%j is written %j', (value, written) => {
    expect(field(value)).toBe(written);
  });

  test('plain numbers stay numbers', () => {
    expect(field('-12.5')).toBe('-12.5');
    expect(field('-3')).toBe('-3');
    expect(csvRow(trade)).toContain(',12.500,0.1200,1.5000000,');
  });
});
