// Order entry follows the connection. While the socket is down nothing the trader sends could be
// answered, so every button that sends a command is disabled, with the reason next to it, instead
// of spinning until a timeout. A button is enabled only when it is online, not busy with its own
// command, and not held by its component (Accept while the counter fields differ, for example).

type Listener = (online: boolean) => void;

export const OFFLINE_REASON_ID = 'offline-reason';

/**
 * Every entry button, attached or not: a card keeps its Accept button detached while it is the
 * other side's turn, and it must be right when it comes back. Weak, so removed rows can go.
 */
const buttons = new Set<WeakRef<HTMLButtonElement>>();

class EntryGate {
  private live = false;
  private readonly listeners = new Set<Listener>();
  private waiting: (() => void)[] = [];

  get online(): boolean {
    return this.live;
  }

  set(online: boolean): void {
    if (online === this.live) return;
    this.live = online;
    for (const ref of buttons) {
      const el = ref.deref();
      if (el) refresh(el);
      else buttons.delete(ref);
    }
    for (const fn of this.listeners) fn(online);
    if (online) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** Resolves at once when online, else the next time the connection is back. */
  whenOnline(): Promise<void> {
    return this.live ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export const gate = new EntryGate();

/** Recomputes a button's disabled state and the reason a screen reader hears for it. */
export function refresh(el: HTMLButtonElement): void {
  const offline = el.dataset.entry !== undefined && !gate.online;
  const held = el.dataset.held !== undefined;
  // busy with its own command, or held while another command of its card (data-waiting) waits
  const busy = el.dataset.busy !== undefined || el.dataset.waiting !== undefined;
  el.disabled = offline || held || busy;
  const reasons = [offline ? OFFLINE_REASON_ID : null, held ? el.dataset.held || null : null]
    .filter(Boolean)
    .join(' ');
  if (reasons) el.setAttribute('aria-describedby', reasons);
  else el.removeAttribute('aria-describedby');
  el.title = offline ? 'Offline: order entry is paused until the connection is back' : '';
}

/** Marks a button as sending commands: disabled while offline. */
export function entry<T extends HTMLButtonElement>(el: T): T {
  el.dataset.entry = '';
  buttons.add(new WeakRef(el));
  refresh(el);
  return el;
}

/** Holds a button disabled for a reason of its component; `reasonId` names the element saying why. */
export function hold(el: HTMLButtonElement, held: boolean, reasonId = ''): void {
  if (held) el.dataset.held = reasonId;
  else delete el.dataset.held;
  refresh(el);
}

export function setBusy(el: HTMLButtonElement, busy: boolean): void {
  if (busy) {
    el.dataset.busy = '';
    el.setAttribute('aria-busy', 'true');
  } else {
    delete el.dataset.busy;
    el.removeAttribute('aria-busy');
  }
  refresh(el);
}
