// The propose dialog: the first offer on a listing, with its volume, price, the trader's meter the
// energy enters (buying) or leaves (selling), one in the listing's zone by default, and a note.
// What is available stays live while the dialog is open (others trade on the listing meanwhile);
// a volume above it is said at the field with how much is left, before and after sending.
import type { Listing } from '../../src/client/index.js';
import { compareDecimal, KWH_SCALE, PRICE_SCALE } from './decimal.js';
import { entry, hold } from './entry-gate.js';
import { FieldMessages, sentenceFor } from './field-messages.js';
import { fmtDecimal, fmtKwh, parseInput, toInput } from './locale.js';
import type { MarketPanel } from './market-panel.js';
import { fmtWindow } from './market-time.js';
import { meterName } from './meters.js';
import { SendAgain } from './send-again.js';
import { busy, byId, capitalize, field, h, setContent, toast } from './ui.js';

/** What an offer starts with instead of the listing's own terms (a match suggestion's). */
export interface ProposePrefill {
  volumeKwh: string;
  pricePerKwh: string;
  /** the meter chosen, when it is one of the trader's active meters */
  meterId?: string;
}

export class ProposeDialog {
  private proposing: Listing | undefined;
  private readonly dialog = byId<HTMLDialogElement>('propose-dialog');
  private readonly form = byId<HTMLFormElement>('propose-form');
  private readonly volume = field<HTMLInputElement>(this.form, 'input[name=volumeKwh]');
  private readonly price = field<HTMLInputElement>(this.form, 'input[name=pricePerKwh]');
  private readonly meter = field<HTMLSelectElement>(this.form, 'select[name=meterId]');
  private readonly meterNote = byId('propose-meter-note');
  private readonly available = byId('propose-available');
  private readonly messages = new FieldMessages(this.form, field<HTMLElement>(this.form, '.form-error'));
  private readonly submit = entry(field<HTMLButtonElement>(this.form, 'button[type=submit]'));
  /** an offer sent without an answer, sent again unchanged with the same requestId */
  private readonly again = new SendAgain();

  constructor(private readonly market: MarketPanel) {
    byId('propose-cancel').addEventListener('click', () => this.dialog.close());
    market.directory.onChange((l) => {
      if (this.dialog.open && this.proposing?.id === l.id) this.showAvailable(l);
    });
    this.volume.addEventListener('input', () => this.checkVolume());
    this.meter.addEventListener('change', () => this.showMeter());
    market.meters.onChange(() => {
      if (this.dialog.open && this.proposing) this.fillMeters(this.proposing);
    });
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const listing = this.proposing;
      if (!listing) return;
      void busy(
        this.submit,
        () => this.send(listing),
        (err) => {
          // the dialog shows another listing now: this answer is not about what it shows
          if (this.shows(listing)) this.explain(err);
        },
      );
    });
  }

  /** the dialog is open on `listing` (the one a send was for) */
  private shows(listing: Listing): boolean {
    return this.dialog.open && this.proposing?.id === listing.id;
  }

  private explain(err: unknown): void {
    const l = this.proposing;
    const mine = this.meter.value;
    // the trader buys on a supply listing: their meter imports, the listing owner's exports
    const ownWay = l?.side === 'supply' ? 'import' : 'export';
    const ctx = {
      what: 'This offer',
      zone: l?.zone,
      direction: (id: string) =>
        id === mine ? ownWay : ownWay === 'import' ? ('export' as const) : ('import' as const),
    };
    this.messages.show(
      err,
      (code) => {
        if (code === 'INSUFFICIENT_VOLUME' && l)
          return {
            field: 'volumeKwh',
            text: `Only ${fmtKwh(l.availableKwh)} left on this listing: offer that or less.`,
          };
        if (code === 'ZONE_MISMATCH') return { field: 'meterId', text: sentenceFor(err) };
        return undefined;
      },
      ctx,
    );
  }

  /** The active meters, those in the listing's zone first; the first of them chosen. */
  private fillMeters(l: Listing): void {
    const zone = l.zone.toLowerCase();
    const active = this.market.meters.active();
    const ordered = [
      ...active.filter((m) => m.zone.toLowerCase() === zone),
      ...active.filter((m) => m.zone.toLowerCase() !== zone),
    ];
    const chosen = this.meter.value;
    setContent(
      this.meter,
      ...ordered.map((m) => h('option', { value: m.id }, `${meterName(m)} · ${m.zone}`)),
    );
    if (ordered.some((m) => m.id === chosen && m.zone.toLowerCase() === zone)) this.meter.value = chosen;
    this.meter.disabled = ordered.length === 0;
    this.showMeter();
  }

  /** What the chosen meter means for the offer; the offer is held with no meter at all. */
  private showMeter(): void {
    const l = this.proposing;
    const m = this.market.meters.get(this.meter.value);
    this.messages.clear('meterId');
    const none = this.market.meters.ready && this.market.meters.active().length === 0;
    this.meterNote.textContent = none
      ? 'You have no active meter: add one in the Meters panel first (an offer names the meter the energy enters or leaves).'
      : m && l && m.zone.toLowerCase() !== l.zone.toLowerCase()
        ? `This meter is in ${m.zone}, the listing in ${l.zone}: the trade crosses zones, with inter-zone wheeling where it is configured.`
        : '';
    this.meterNote.dataset.kind = none ? 'error' : '';
    this.updateHold();
  }

  /** Send is held while the listing is closed or there is no meter to trade from. */
  private updateHold(): void {
    const l = this.proposing;
    const closed = !!l && l.status !== 'active';
    const none = this.market.meters.ready && this.market.meters.active().length === 0;
    hold(this.submit, closed || none, closed ? 'propose-available' : 'propose-meter-note');
  }

  private async send(listing: Listing): Promise<void> {
    this.messages.clearAll();
    const volume = parseInput(this.volume.value, KWH_SCALE, 'volume');
    const price = parseInput(this.price.value, PRICE_SCALE, 'price');
    if (volume.error) this.messages.set('volumeKwh', volume.error);
    if (price.error) this.messages.set('pricePerKwh', price.error);
    const meterId = this.meter.value;
    if (!meterId) this.messages.set('meterId', 'Choose the meter the energy enters or leaves.');
    if (volume.error || price.error || !this.checkVolume() || !meterId) return;
    const note = String(new FormData(this.form).get('note') ?? '').trim();
    const swap = await this.market.desk.send(
      'swap:propose',
      {
        listingId: listing.id,
        meterId,
        volumeKwh: volume.value!,
        pricePerKwh: price.value!,
        ...(note ? { note } : {}),
      },
      (t) => {
        if (this.shows(listing)) this.messages.general.textContent = t;
      },
      this.again,
    );
    if (this.shows(listing)) this.dialog.close();
    this.market.hooks.proposed(swap);
    toast({
      title: 'Offer sent',
      body: `Round 1 · ${fmtKwh(swap.volumeKwh)} at ${fmtDecimal(swap.pricePerKwh)}`,
      kind: 'info',
      timeoutMs: 4000,
    });
  }

  /** Says at the volume field when it is more than what is left; false then. */
  private checkVolume(): boolean {
    const l = this.proposing;
    const v = parseInput(this.volume.value, KWH_SCALE, 'volume');
    if (!l || !v.value) return true;
    if (compareDecimal(v.value, l.availableKwh, KWH_SCALE) === 1) {
      this.messages.set(
        'volumeKwh',
        `Only ${fmtKwh(l.availableKwh)} left on this listing: offer that or less.`,
      );
      return false;
    }
    this.messages.clear('volumeKwh');
    return true;
  }

  private showAvailable(l: Listing): void {
    this.proposing = l;
    const open = l.status === 'active';
    this.available.textContent = open
      ? `Available now: ${fmtKwh(l.availableKwh)} of ${fmtKwh(l.volumeKwh)} at ${fmtDecimal(l.pricePerKwh)} ${l.currency}/kWh`
      : `This listing is ${l.status} now: no offer can be made on it.`;
    this.available.dataset.status = l.status;
    this.updateHold();
    if (open) this.checkVolume();
  }

  open(l: Listing, prefill?: ProposePrefill): void {
    this.proposing = l;
    const verb = l.side === 'supply' ? 'Buy' : 'Sell';
    byId('propose-title').textContent = `${verb} ${l.energyType} energy`;
    byId('propose-summary').textContent =
      `${capitalize(l.energyType)} ${l.side} in ${l.zone} · delivery ${fmtWindow(l.deliveryStart, l.deliveryEnd, l.zone)}`;
    byId('propose-desc').textContent = l.description;
    this.volume.value = toInput(prefill?.volumeKwh ?? l.availableKwh);
    this.price.value = toInput(prefill?.pricePerKwh ?? l.pricePerKwh);
    field<HTMLTextAreaElement>(this.form, 'textarea[name=note]').value = '';
    this.messages.clearAll();
    this.showAvailable(l);
    this.fillMeters(l);
    if (prefill?.meterId && this.market.meters.active().some((m) => m.id === prefill.meterId)) {
      this.meter.value = prefill.meterId;
      this.showMeter();
    }
    this.dialog.showModal();
    this.volume.select();
  }
}
