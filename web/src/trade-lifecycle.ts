// A trade's lifecycle (PROTOCOL-MARKET.md, "Operators, readings and settlement"): confirmed at
// accept, curtailed when the grid operator cut some of its slots (the slots' curtailedKwh), then
// settled once its slots are, or cancelled (curtailed to 0). A step line and a badge, and once a
// slot has settled the money from the viewer's side, line by line: the hub's own strings, only
// re-written in the reader's locale (nothing is added up in the browser; kWh totals are summed on
// integers, exactly).
import { compareDecimal, fromUnits, KWH_SCALE, toUnits } from './decimal.js';
import { fmtDecimal, fmtKwh } from './locale.js';
import type { MarketTrade, TradeSettlement } from './market-types.js';
import { h } from './ui.js';

/** What the trade row says: the hub's status, with "curtailed" for a confirmed trade that was cut. */
export type Lifecycle = 'confirmed' | 'curtailed' | 'settling' | 'settled' | 'cancelled';

const isCurtailed = (t: MarketTrade) =>
  t.slots.some((s) => compareDecimal(s.curtailedKwh, '0', KWH_SCALE) === 1);
const settledSlots = (t: MarketTrade) => t.slots.filter((s) => s.status === 'settled').length;

export function lifecycleOf(t: MarketTrade): Lifecycle {
  if (t.status === 'settled' || t.status === 'cancelled') return t.status;
  if (settledSlots(t) > 0) return 'settling';
  return isCurtailed(t) ? 'curtailed' : 'confirmed';
}

const LABEL: Record<Lifecycle, string> = {
  confirmed: 'Confirmed',
  curtailed: 'Curtailed',
  settling: 'Settling',
  settled: 'Settled',
  cancelled: 'Cancelled',
};

/** The badge of the trade's status (`data-testid="trade-status"`, `data-status`). */
export function lifecycleBadge(t: MarketTrade): HTMLElement {
  const state = lifecycleOf(t);
  return h(
    'span',
    { class: `badge status-${state}`, 'data-status': state, 'data-testid': 'trade-status' },
    LABEL[state],
  );
}

/** exact kWh sums of the slots (Wh integers) */
function sumKwh(values: (string | null)[]): string {
  let wh = 0n;
  for (const v of values) wh += (v && toUnits(v, KWH_SCALE)) || 0n;
  return fromUnits(wh, KWH_SCALE);
}

/**
 * The steps: Confirmed, Curtailed (only when it was), then Settled (or Cancelled), each done,
 * current or still to come, with a line saying where the trade is.
 */
export function lifecycleSteps(t: MarketTrade): HTMLElement {
  const state = lifecycleOf(t);
  const curtailed = isCurtailed(t);
  const steps: { key: string; label: string; state: 'done' | 'current' | 'todo' }[] = [
    { key: 'confirmed', label: 'Confirmed', state: 'done' },
  ];
  if (curtailed) steps.push({ key: 'curtailed', label: 'Curtailed', state: 'done' });
  if (state === 'cancelled') steps.push({ key: 'cancelled', label: 'Cancelled', state: 'done' });
  else
    steps.push({
      key: 'settled',
      label: state === 'settling' ? `Settled ${settledSlots(t)} of ${t.slots.length} slots` : 'Settled',
      state: state === 'settled' ? 'done' : state === 'settling' ? 'current' : 'todo',
    });
  const contracted = sumKwh(t.slots.map((s) => s.contractedKwh));
  const volume = sumKwh(t.slots.map((s) => s.volumeKwh));
  const notes: string[] = [];
  if (curtailed)
    notes.push(
      `The grid operator curtailed it: ${fmtKwh(contracted)} of the ${fmtKwh(volume)} agreed remain contracted.`,
    );
  if (state === 'settled' || state === 'settling')
    notes.push(
      `${fmtKwh(sumKwh(t.slots.map((s) => s.settledKwh)))} delivered and settled of ${fmtKwh(contracted)} contracted.`,
    );
  if (state === 'confirmed' || state === 'curtailed')
    notes.push('Settles once the meters are read after delivery (or when the zone’s settlement delay ends).');
  if (state === 'cancelled') notes.push('Curtailed to nothing: there is nothing to deliver or pay.');
  return h(
    'div',
    { class: 'lifecycle-box' },
    h(
      'ol',
      {
        class: 'lifecycle',
        'data-testid': 'trade-lifecycle',
        'data-status': state,
        'aria-label': 'Trade status',
      },
      ...steps.map((s) =>
        h(
          'li',
          {
            'data-step': s.key,
            'data-state': s.state,
            'aria-current': s.state === 'current' ? 'step' : undefined,
          },
          s.label,
        ),
      ),
    ),
    h('p', { class: 'muted small', 'data-testid': 'trade-lifecycle-note' }, notes.join(' ')),
  );
}

const money = (value: string, currency: string) => `${fmtDecimal(value)} ${currency}`;
const isZero = (value: string) => /^-?0+(\.0+)?$/.test(value);

interface Line {
  key: string;
  label: string;
  value: string;
  sign?: '−';
  total?: boolean;
}

/** The viewer's lines of a settlement: the energy, a deviation line when not 0.00, the bottom line. */
export function settlementLinesOf(s: TradeSettlement, side: 'buy' | 'sell'): Line[] {
  if (side === 'buy')
    return [
      { key: 'energy', label: 'Energy delivered', value: s.energyNotional },
      ...(isZero(s.deviation.buyerCredit)
        ? []
        : [
            {
              key: 'deviation',
              label: 'Shortfall credit',
              value: s.deviation.buyerCredit,
              sign: '−' as const,
            },
          ]),
      { key: 'total', label: 'You paid', value: s.buyerPays, total: true },
    ];
  return [
    { key: 'energy', label: 'Energy delivered', value: s.energyNotional },
    ...(isZero(s.deviation.sellerCharge)
      ? []
      : [
          {
            key: 'deviation',
            label: 'Shortfall charge',
            value: s.deviation.sellerCharge,
            sign: '−' as const,
          },
        ]),
    { key: 'total', label: 'You received', value: s.sellerReceives, total: true },
  ];
}

/** "You paid 0.60 EUR" / "You received 0.34 EUR". */
export function settledBottomLine(t: MarketTrade): string | undefined {
  if (!t.settlement) return undefined;
  const last = settlementLinesOf(t.settlement, t.side).at(-1)!;
  return `${last.label} ${money(last.value, t.currency)}`;
}

/** The settlement as a description list (`settlement-lines`, each line `settlement-<key>`). */
export function settlementList(t: MarketTrade): HTMLElement | null {
  if (!t.settlement) return null;
  return h(
    'dl',
    { class: 'fee-lines settlement-lines', 'data-testid': 'settlement-lines', 'data-side': t.side },
    ...settlementLinesOf(t.settlement, t.side).map((l) =>
      h(
        'div',
        { class: l.total ? 'fee-line total' : 'fee-line', 'data-testid': `settlement-${l.key}` },
        h('dt', {}, l.label),
        ' ',
        h('dd', { class: 'mono' }, `${l.sign ? `${l.sign} ` : ''}${money(l.value, t.currency)}`),
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      t.side === 'buy'
        ? 'Paid on the energy delivered and settled, fees included.'
        : 'Received for the energy delivered and settled, after fees.',
    ),
  );
}
