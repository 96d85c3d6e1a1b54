// The answers of a negotiation card: counter, accept, reject, withdraw. Accept does what its label
// says: the label carries the terms on the table ("Accept 100.000 kWh @ 0.0900 = 9.00 EUR") and the
// button is held while the counter fields above it say something else, so nobody accepts terms
// they did not mean. A counter that repeats the terms on the table is refused here, in words.
import type { Swap } from '../../src/client/index.js';
import { compareDecimal, KWH_SCALE, notional, PRICE_SCALE } from './decimal.js';
import { entry, hold, refresh } from './entry-gate.js';
import { FieldMessages, type RefusalContext } from './field-messages.js';
import { fmtDecimal, fmtKwh, fmtMoney, parseInput, toInput } from './locale.js';
import type { MarketSwap } from './market-types.js';
import type { Negotiations } from './negotiations.js';
import { busy, h } from './ui.js';

let nextId = 0;

export class SwapAnswer {
  readonly counterForm: HTMLFormElement;
  readonly answerRow: HTMLElement;
  readonly withdrawRow: HTMLElement;
  readonly error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'swap-error' });
  private readonly volume: HTMLInputElement;
  private readonly price: HTMLInputElement;
  private readonly note: HTMLInputElement;
  private readonly accept: HTMLButtonElement;
  private readonly reject: HTMLButtonElement;
  private readonly withdraw: HTMLButtonElement;
  private readonly counterButton: HTMLButtonElement;
  private readonly differs: HTMLElement;
  private readonly messages: FieldMessages;
  private termsRound = 0;
  /** a command of this card is waiting for its answer: the other answers are held meanwhile */
  private waiting = false;

  constructor(
    private readonly swap: () => Swap,
    private readonly currency: () => string | undefined,
    private readonly owner: Negotiations,
    /** the listing's zone (its market time names a slot in a refusal); unknown until fetched */
    private readonly zone: () => string | undefined = () => undefined,
  ) {
    const id = nextId++;
    const input = (name: string, testid: string) =>
      h('input', { name, inputmode: 'decimal', required: true, autocomplete: 'off', 'data-testid': testid });
    this.volume = input('volumeKwh', 'counter-volume');
    this.price = input('pricePerKwh', 'counter-price');
    this.note = h('input', {
      name: 'note',
      maxlength: 500,
      'data-testid': 'counter-note',
      autocomplete: 'off',
    });
    this.counterButton = entry(
      h('button', { type: 'submit', class: 'btn', 'data-testid': 'counter-button' }, 'Counter'),
    );
    this.counterForm = h(
      'form',
      { class: 'counter-form', 'aria-label': 'Counter-offer' },
      h('label', {}, 'Volume (kWh)', this.volume),
      h('label', {}, 'Price per kWh', this.price),
      h('label', { class: 'note-field' }, 'Note', this.note),
      this.counterButton,
    );
    this.messages = new FieldMessages(this.counterForm, this.error);
    this.differs = h('p', {
      id: `terms-differ-${id}`,
      class: 'differs small',
      'data-testid': 'terms-differ',
    });
    const reset = h(
      'button',
      { type: 'button', class: 'btn small ghost', 'data-testid': 'reset-terms' },
      'Put back the terms on the table',
    );
    reset.addEventListener('click', () => {
      this.fill(this.swap());
      this.volume.focus();
    });
    this.accept = entry(
      h('button', { type: 'button', class: 'btn primary', 'data-testid': 'accept-button' }, 'Accept'),
    );
    this.reject = entry(
      h('button', { type: 'button', class: 'btn danger', 'data-testid': 'reject-button' }, 'Reject'),
    );
    this.withdraw = entry(
      h('button', { type: 'button', class: 'btn', 'data-testid': 'withdraw-button' }, 'Withdraw offer'),
    );
    this.answerRow = h(
      'div',
      { class: 'answer-row' },
      this.accept,
      this.reject,
      h('div', { class: 'differs-box' }, this.differs, reset),
    );
    this.withdrawRow = h('div', { class: 'answer-row' }, this.withdraw);

    this.counterForm.addEventListener('input', () => this.checkTerms());
    this.counterForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run(
        this.counterButton,
        () => this.sendCounter(),
        (err) => this.messages.show(err, undefined, this.refusal('This offer')),
      );
    });
    const say = (t: string) => {
      this.error.textContent = t;
    };
    const act = (button: HTMLButtonElement, run: (s: Swap) => Promise<Swap>) =>
      button.addEventListener('click', () =>
        this.run(
          button,
          async () => {
            this.error.textContent = '';
            const s = await run(this.swap());
            this.owner.answered(s);
          },
          (err) => this.messages.show(err, undefined, this.refusal('This trade')),
        ),
      );
    const desk = owner.desk;
    act(this.accept, (s) => desk.send('swap:accept', { swapId: s.id, round: s.round }, say));
    act(this.reject, (s) => desk.send('swap:reject', { swapId: s.id, round: s.round }, say));
    act(this.withdraw, (s) => desk.send('swap:withdraw', { swapId: s.id }, say));
  }

  /** What a refusal of this card's commands is about: its meters, which way each trades, its zone. */
  private refusal(what: string): RefusalContext {
    const s = this.swap() as MarketSwap;
    return {
      what,
      zone: this.zone(),
      direction: (id) => (id === s.sellerMeterId ? 'export' : id === s.buyerMeterId ? 'import' : undefined),
    };
  }

  /** Runs one command of the card on `button`, holding Accept, Reject, Counter and Withdraw until it is answered. */
  private run(button: HTMLButtonElement, fn: () => Promise<void>, out: (err: unknown) => void): void {
    if (this.waiting) return;
    void busy(
      button,
      async () => {
        this.waiting = true;
        this.holdAnswers(true);
        try {
          await fn();
        } finally {
          this.waiting = false;
          this.holdAnswers(false);
        }
      },
      out,
    );
  }

  private holdAnswers(on: boolean): void {
    for (const b of [this.accept, this.reject, this.counterButton, this.withdraw]) {
      if (on) b.dataset.waiting = '';
      else delete b.dataset.waiting;
      refresh(b);
    }
  }

  /** A new round: the counter fields start from the terms on the table, once per round. */
  render(s: Swap): void {
    if (this.termsRound !== s.round) {
      this.termsRound = s.round;
      this.fill(s);
    }
    const total = notional(s.volumeKwh, s.pricePerKwh);
    this.accept.textContent = `Accept ${fmtKwh(s.volumeKwh)} @ ${fmtDecimal(s.pricePerKwh)}${
      total ? ` = ${fmtMoney(total, this.currency())}` : ''
    }`;
    this.checkTerms();
  }

  private fill(s: Swap): void {
    this.volume.value = toInput(s.volumeKwh);
    this.price.value = toInput(s.pricePerKwh);
    this.messages.clearAll();
    this.checkTerms();
  }

  /** The terms typed in the counter fields, as the hub's decimals; undefined when unreadable. */
  private typed(): { volumeKwh: string; pricePerKwh: string } | undefined {
    const v = parseInput(this.volume.value, KWH_SCALE, 'volume');
    const p = parseInput(this.price.value, PRICE_SCALE, 'price');
    return v.value && p.value ? { volumeKwh: v.value, pricePerKwh: p.value } : undefined;
  }

  private sameAsTable(t: { volumeKwh: string; pricePerKwh: string }): boolean {
    const s = this.swap();
    return (
      compareDecimal(t.volumeKwh, s.volumeKwh, KWH_SCALE) === 0 &&
      compareDecimal(t.pricePerKwh, s.pricePerKwh, PRICE_SCALE) === 0
    );
  }

  /** Accept is held, with the reason, while the fields differ from the terms on the table. */
  private checkTerms(): void {
    const t = this.typed();
    const differ = !t || !this.sameAsTable(t);
    this.differs.textContent = differ
      ? 'You changed the terms in the fields above: send them as a counter, or put back the terms on the table to accept them.'
      : '';
    this.answerRow.classList.toggle('terms-differ', differ);
    hold(this.accept, differ, this.differs.id);
  }

  private async sendCounter(): Promise<void> {
    this.messages.clearAll();
    const v = parseInput(this.volume.value, KWH_SCALE, 'volume');
    const p = parseInput(this.price.value, PRICE_SCALE, 'price');
    if (v.error) this.messages.set('volumeKwh', v.error);
    if (p.error) this.messages.set('pricePerKwh', p.error);
    if (v.error || p.error) return;
    const terms = { volumeKwh: v.value!, pricePerKwh: p.value! };
    if (this.sameAsTable(terms)) {
      this.error.textContent =
        'Your counter repeats the terms on the table: change the volume or the price, or accept them as they are.';
      return;
    }
    const s = this.swap();
    const note = this.note.value.trim();
    const answer = await this.owner.desk.send(
      'swap:counter',
      { swapId: s.id, round: s.round, ...terms, ...(note ? { note } : {}) },
      (t) => {
        this.error.textContent = t;
      },
    );
    this.note.value = '';
    this.owner.answered(answer);
  }
}
