// The trades CSV: a value a spreadsheet would run as a formula is written as text, whatever
// column it is in (a counterparty's name as much as a zone), and only plain numbers stay numbers.
import { describe, expect, test } from 'vitest';
import { csvHeader, csvRow, type TradeView } from '../../src/domain/trade.js';

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
  sellerMeterId: 'ms',
  buyerMeterId: 'mb',
  fees: null,
  status: 'confirmed',
  slots: [],
  settlement: null,
};

const COLUMNS = csvHeader().trim().split(',');

/** The CSV field of `value` put in the zone column (any text column is written the same way). */
const field = (value: string) => csvRow({ ...trade, zone: value }).split(',')[COLUMNS.indexOf('zone')];

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

describe('the fee columns', () => {
  const fees = {
    energyNotional: '0.30',
    buyer: { wheeling: '0.08', interZone: '0.06', platform: '0.00', total: '0.14' },
    seller: { wheeling: '0.09', platform: '0.00', total: '0.09' },
    buyerPays: '0.44',
    sellerReceives: '0.21',
    gridOperatorReceives: '0.23',
    platformReceives: '0.00',
  };
  const cells = (t: TradeView) => {
    const row = csvRow(t).trim().split(',');
    return Object.fromEntries(
      ['energyNotional', 'wheelingFee', 'interZoneFee', 'platformFee', 'feesTotal', 'netAmount'].map((c) => [
        c,
        row[COLUMNS.indexOf(c)],
      ]),
    );
  };

  test("a buy shows the buyer's lines and what it pays", () => {
    expect(cells({ ...trade, fees })).toEqual({
      energyNotional: '0.30',
      wheelingFee: '0.08',
      interZoneFee: '0.06',
      platformFee: '0.00',
      feesTotal: '0.14',
      netAmount: '0.44',
    });
  });

  test("a sell shows the seller's lines (no inter-zone charge) and what it receives", () => {
    expect(cells({ ...trade, side: 'sell', fees })).toEqual({
      energyNotional: '0.30',
      wheelingFee: '0.09',
      interZoneFee: '0.00',
      platformFee: '0.00',
      feesTotal: '0.09',
      netAmount: '0.21',
    });
  });

  test('a trade from before fees has them empty', () => {
    expect(Object.values(cells(trade))).toEqual(['', '', '', '', '', '']);
    expect(COLUMNS).toHaveLength(20);
  });
});
