// Messages at the field, in words. The hub answers a refused command with a code and, for bad
// input, `details.issues[{path, message}]`; each is turned into a sentence shown under the field it
// is about (linked with aria-describedby, the field marked aria-invalid) and cleared as soon as the
// trader edits that field. What concerns no one field goes to the form's general line.
import { deliverySentence, limitSentence, passThrough, ZONE_MISMATCH_SENTENCE } from './field-sentences.js';
import { fmtKwh } from './locale.js';
import { fmtSlotStart } from './market-time.js';
import type { LimitDetails } from './market-types.js';
import { h } from './ui.js';

/** What a refusal was about, for the sentences that name a meter and which way it trades. */
export interface RefusalContext {
  /** "This trade" (the default), "This offer", "This listing" */
  what?: string;
  /** which way a meter trades in what was refused (its swap's seller or buyer meter) */
  direction?: (meterId: string) => 'export' | 'import' | undefined;
  /** the zone whose market time names the slot (the listing's) */
  zone?: string;
}

/** The name of one of the trader's meters (set by the meter store); undefined for others' meters. */
let meterNamer: (id: string) => string | undefined = () => undefined;
export const setMeterNamer = (fn: (id: string) => string | undefined): void => {
  meterNamer = fn;
};

interface Issue {
  path: string;
  message: string;
}

interface HubError {
  code: string;
  message: string;
  details?: { issues?: Issue[]; retryAfterMs?: number } & Record<string, unknown>;
}

const isHubError = (err: unknown): err is HubError =>
  !!err && typeof err === 'object' && 'code' in err && 'message' in err;

/** A sentence per input field the hub validates; the hub's own reason follows where it helps. */
const FIELD_SENTENCE: Record<string, (hubMessage: string) => string> = {
  // the zone's own rules (step, tick, bounds) are the hub's words; the format is ours
  volumeKwh: (m) =>
    /multiple of|whole .* available/.test(m)
      ? `The volume ${m}.`
      : `Enter a volume above 0 kWh, with at most 3 decimals (the hub says: ${m}).`,
  pricePerKwh: (m) =>
    /multiple of|must be from/.test(m)
      ? `The price ${m}.`
      : `Enter a price of 0 or more, with at most 4 decimals (the hub says: ${m}).`,
  deliveryStart: (m) => deliverySentence('start', m),
  deliveryEnd: (m) => deliverySentence('end', m),
  zone: () => 'A zone is 1 to 64 letters, digits, "_" or "-", like DE-North.',
  energyType: () => 'Choose an energy type.',
  description: () => 'The description is plain text of at most 500 characters.',
  note: () => 'The note is plain text of at most 500 characters.',
  email: () => 'Enter an email address like name@example.com.',
  password: (m) => `This password is refused: ${m}`,
  displayName: () => 'Enter a display name of 1 to 64 characters.',
  side: () => 'Choose whether you sell or buy.',
  meterId: (m) => `Choose one of your active meters (the hub says: ${m}).`,
  externalId: () =>
    'A meter id is 1 to 64 letters, digits or the characters . _ : - (an EAN or MPAN, for example).',
  exportCapacityKw: (m) =>
    `Enter the export capacity in kW, 0 or more with at most 3 decimals (the hub says: ${m}).`,
  importCapacityKw: (m) =>
    `Enter the import capacity in kW, 0 or more with at most 3 decimals (the hub says: ${m}).`,
  label: () => 'The label is one line of plain text, at most 64 characters.',
  allOrNone: () => 'All or none is either on or off.',
  // a period (the statement, the operator's report and curtailment)
  from: (m) => passThrough('From', m),
  to: (m) => passThrough('To', m),
  factor: (m) => `Enter the share kept, from 0 to 1 with at most 4 decimals, like 0.5 (the hub says: ${m}).`,
  meterExternalId: (m) => passThrough('Meter id', m),
  reason: () => 'Choose the reason for the curtailment.',
};

const isLimit = (d: unknown): d is LimitDetails =>
  !!d && typeof d === 'object' && 'meterId' in d && 'limitKwh' in d && 'slotStart' in d;

/** LIMIT_EXCEEDED in words: which meter, which way, in which slot, and the amounts. */
export function limitExceeded(details: unknown, ctx: RefusalContext = {}): string {
  if (!isLimit(details))
    return 'This would take a meter over its trading limit in one of the delivery slots: lower the volume or pick another window.';
  const own = meterNamer(details.meterId);
  return limitSentence({
    what: ctx.what ?? 'This trade',
    meter: own ? `meter ${own}` : "the other side's meter",
    // the hub names the direction; a context that knows the swap's meters is the fallback
    direction: details.direction ?? ctx.direction?.(details.meterId),
    limit: fmtKwh(details.limitKwh),
    slot: fmtSlotStart(details.slotStart, ctx.zone),
    contracted: fmtKwh(details.contractedKwh),
    requested: fmtKwh(details.requestedKwh),
  });
}

/** A sentence for an error code, for the general line of a form. */
export function sentenceFor(err: unknown, ctx?: RefusalContext): string {
  if (!isHubError(err)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case 'LIMIT_EXCEEDED':
      return limitExceeded(err.details, ctx);
    case 'ZONE_MISMATCH':
      return ZONE_MISMATCH_SENTENCE;
    case 'VALIDATION_FAILED':
      return err.details?.issues?.length
        ? 'Some fields need a change: see the notes under them.'
        : err.message;
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Log in again.';
    case 'FORBIDDEN':
      return 'Only the owner of this listing can do that.';
    case 'NOT_FOUND':
      return 'This no longer exists, or it is not yours to see.';
    case 'CONFLICT':
      return `The hub refused it because something changed meanwhile: ${err.message}. Check the latest terms and try again.`;
    case 'INVALID_STATE':
      return 'This is closed now (filled, cancelled, expired or answered): nothing was done.';
    case 'NOT_YOUR_TURN':
      return 'It is the other side’s turn: wait for their answer.';
    case 'SELF_SWAP':
      return 'This is your own listing: you cannot make an offer on it.';
    case 'INSUFFICIENT_VOLUME':
      return 'The volume is more than the listing has left.';
    case 'RATE_LIMITED': {
      const s = Math.ceil(Number(err.details?.retryAfterMs ?? 1000) / 1000);
      return `Too many requests just now: try again in ${s} s.`;
    }
    case 'UNAVAILABLE':
      if (err.details?.reason === 'no_answer')
        return 'No answer from the hub: it may have been done. Sending it again is safe: it carries the same request id.';
      return 'The hub could not be reached, so nothing was done. Try again in a moment.';
    default:
      return 'Something went wrong on the hub. Try again; if it keeps happening, tell support.';
  }
}

/** The messages of one form: one line under each named field, one general line. */
export class FieldMessages {
  private readonly lines = new Map<string, HTMLElement>();
  private static next = 0;

  constructor(
    private readonly root: HTMLElement,
    readonly general: HTMLElement,
  ) {
    // capture: an edit clears the old message before any live check of that field sets a new one
    root.addEventListener(
      'input',
      (ev) => {
        const name = (ev.target as HTMLInputElement).name;
        if (name) this.clear(name);
        this.general.textContent = '';
      },
      true,
    );
  }

  private input(name: string): HTMLInputElement | undefined {
    return this.root.querySelector<HTMLInputElement>(`[name="${name}"]`) ?? undefined;
  }

  /** The message line of a field, created after its label on first use. */
  private line(name: string): HTMLElement | undefined {
    let line = this.lines.get(name);
    if (line) return line;
    const input = this.input(name);
    if (!input) return undefined;
    const id = `msg-${name}-${FieldMessages.next++}`;
    line = h('small', { id, class: 'field-msg', 'data-testid': `field-msg-${name}`, 'aria-live': 'polite' });
    (input.closest('label') ?? input).after(line);
    const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    input.setAttribute('aria-describedby', [...described, id].join(' '));
    this.lines.set(name, line);
    return line;
  }

  /** Shows `text` under field `name` (a warning does not mark the field invalid). */
  set(name: string, text: string, kind: 'error' | 'warn' = 'error'): boolean {
    const line = this.line(name);
    if (!line) return false;
    line.textContent = text;
    line.dataset.kind = kind;
    if (kind === 'error') this.input(name)?.setAttribute('aria-invalid', 'true');
    return true;
  }

  get(name: string): string {
    return this.lines.get(name)?.textContent ?? '';
  }

  clear(name: string): void {
    const line = this.lines.get(name);
    if (line) line.textContent = '';
    this.input(name)?.removeAttribute('aria-invalid');
  }

  clearAll(): void {
    for (const name of this.lines.keys()) this.clear(name);
    this.general.textContent = '';
  }

  /**
   * An error at its fields: each issue under its field, the code's sentence on the general line.
   * `special` may place a code at a field itself (INSUFFICIENT_VOLUME at the volume, with what is left).
   */
  show(
    err: unknown,
    special?: (code: string) => { field?: string; text: string } | undefined,
    ctx?: RefusalContext,
  ): void {
    const hub = isHubError(err) ? err : undefined;
    const at = hub && special?.(hub.code);
    if (at && (at.field ? this.set(at.field, at.text) : true)) {
      this.general.textContent = at.field ? '' : at.text;
      return;
    }
    let placed = 0;
    for (const issue of hub?.details?.issues ?? []) {
      const name = issue.path.split('.')[0] ?? '';
      const sentence = FIELD_SENTENCE[name]?.(issue.message) ?? `${issue.message}.`;
      if (this.set(name, sentence)) placed++;
    }
    const unplaced = (hub?.details?.issues ?? []).length - placed;
    this.general.textContent =
      hub?.code === 'VALIDATION_FAILED' && unplaced > 0
        ? `${hub.message}: ${hub.details!.issues!.map((i) => i.message).join('; ')}`
        : sentenceFor(err, ctx);
  }
}
