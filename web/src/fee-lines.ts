// What a trader pays or receives on a swap's terms, line by line (PROTOCOL-MARKET.md, "Fees"): the
// buyer sees the energy, wheeling, the inter-zone charge (when there is one), the platform fee and
// "You pay"; the seller the energy, wheeling, the platform fee and "You receive". The amounts are
// the hub's own strings (2 decimals), shown in the reader's locale; nothing is added up here.
import { fmtDecimal } from './locale.js';
import type { FeesView } from './market-types.js';
import { h } from './ui.js';

export type FeeSide = 'buyer' | 'seller';

interface Line {
  key: string;
  label: string;
  value: string;
  /** + for a fee the buyer pays on top, − for one taken from the seller's receipt */
  sign?: '+' | '−';
  total?: boolean;
}

const money = (value: string, currency?: string) => `${fmtDecimal(value)}${currency ? ` ${currency}` : ''}`;

/** The viewer's lines, in order; the bottom line last. */
export function feeLinesOf(fees: FeesView, side: FeeSide): Line[] {
  if (side === 'buyer') {
    const b = fees.buyer;
    return [
      { key: 'energy', label: 'Energy', value: fees.energyNotional },
      { key: 'wheeling', label: 'Wheeling', value: b.wheeling, sign: '+' },
      ...(b.interZone !== '0.00' && b.interZone !== '0'
        ? [{ key: 'inter-zone', label: 'Inter-zone wheeling', value: b.interZone, sign: '+' as const }]
        : []),
      { key: 'platform', label: 'Platform fee', value: b.platform, sign: '+' },
      { key: 'total', label: 'You pay', value: fees.buyerPays, total: true },
    ];
  }
  const s = fees.seller;
  return [
    { key: 'energy', label: 'Energy', value: fees.energyNotional },
    { key: 'wheeling', label: 'Wheeling', value: s.wheeling, sign: '−' },
    { key: 'platform', label: 'Platform fee', value: s.platform, sign: '−' },
    { key: 'total', label: 'You receive', value: fees.sellerReceives, total: true },
  ];
}

/** "You pay 9.54 EUR" / "You receive 8.61 EUR". */
export function bottomLine(fees: FeesView, side: FeeSide, currency?: string): string {
  const last = feeLinesOf(fees, side).at(-1)!;
  return `${last.label} ${money(last.value, currency)}`;
}

/** The lines as a description list (`data-testid="fee-lines"`, each line `fee-<key>`). */
export function feeList(fees: FeesView, side: FeeSide, currency?: string, compact = false): HTMLElement {
  return h(
    'dl',
    { class: `fee-lines${compact ? ' compact' : ''}`, 'data-testid': 'fee-lines', 'data-side': side },
    ...feeLinesOf(fees, side).map((l) =>
      h(
        'div',
        { class: l.total ? 'fee-line total' : 'fee-line', 'data-testid': `fee-${l.key}` },
        h('dt', {}, l.label),
        ' ',
        h('dd', { class: 'mono' }, `${l.sign ? `${l.sign} ` : ''}${money(l.value, currency)}`),
      ),
    ),
  );
}
