// DOM helpers. Data only ever becomes text nodes or attribute values: there is no innerHTML here.
import { setBusy } from './entry-gate.js';
import { sentenceFor } from './field-messages.js';

type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined | null | EventListener>;

/**
 * `h('td', { class: 'num', 'data-testid': 'x' }, 'text', child)`. Strings become text nodes;
 * `on*` props that are functions become listeners; `true` sets an empty attribute.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces an element's content with text or nodes. */
export function setContent(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

export function field<T extends Element = HTMLInputElement>(root: ParentNode, selector: string): T {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`${selector} is missing`);
  return el as T;
}

// --- formatting (numbers and market time: locale.ts) ---------------------------------------

/** "4:05" or "1:02:09" until `iso`; "expired" once past. */
export function fmtCountdown(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return 'expired';
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export const shortId = (id: string): string => id.slice(0, 8);

export const capitalize = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

export const ENERGY_TYPES = ['solar', 'wind', 'hydro', 'biomass', 'geothermal', 'other'] as const;

export function badge(status: string, label = status): HTMLSpanElement {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, label);
}

// --- countdowns --------------------------------------------------------------------------------

/** Every element with `data-expires` shows the time left until it; one timer for the page. */
export function startCountdowns(root: ParentNode): () => void {
  const tick = () => {
    const now = Date.now();
    for (const el of root.querySelectorAll<HTMLElement>('[data-expires]')) {
      const iso = el.dataset.expires!;
      const left = new Date(iso).getTime() - now;
      el.textContent = fmtCountdown(iso, now);
      el.classList.toggle('urgent', left > 0 && left < 60_000);
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}

// --- toasts and errors -------------------------------------------------------------------------

export interface ToastOptions {
  title: string;
  body?: string;
  kind?: 'info' | 'offer' | 'success' | 'error';
  action?: { label: string; run: () => void };
  /** ms before it goes away by itself; 0 keeps it */
  timeoutMs?: number;
  /** what the toast is about (a swap id): a newer toast or `dismissToast` of the key replaces it */
  key?: string;
}

/** How many toasts show at once: they sit in the page's flow (never over a card), so few. */
const MAX_TOASTS = 3;

/** Removes the toast about `key`, if any: what it said is no longer true. */
export function dismissToast(key: string): void {
  for (const el of byId('toasts').querySelectorAll<HTMLElement>('[data-key]'))
    if (el.dataset.key === key) el.remove();
}

export function toast(opts: ToastOptions): HTMLElement {
  const region = byId('toasts');
  const close = () => el.remove();
  if (opts.key) dismissToast(opts.key);
  const el = h(
    'div',
    { class: `toast toast-${opts.kind ?? 'info'}`, 'data-testid': 'toast', 'data-key': opts.key },
    h(
      'div',
      { class: 'toast-text' },
      h('strong', {}, opts.title),
      opts.body ? h('span', {}, opts.body) : null,
    ),
    opts.action
      ? h(
          'button',
          {
            type: 'button',
            class: 'btn small',
            onclick: () => {
              opts.action!.run();
              close();
            },
          },
          opts.action.label,
        )
      : null,
    h('button', { type: 'button', class: 'btn ghost small', 'aria-label': 'Dismiss', onclick: close }, '×'),
  );
  region.prepend(el);
  while (region.children.length > MAX_TOASTS) region.lastElementChild?.remove();
  const timeout = opts.timeoutMs ?? 10_000;
  if (timeout > 0) setTimeout(close, timeout);
  return el;
}

/** A readable line for an error from the hub or the network. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as {
      code: string;
      message: string;
      details?: { issues?: { path: string; message: string }[] };
    };
    const issues = e.details?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
    return issues ? `${e.message} (${issues})` : e.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Runs `fn` with the button disabled; a failure goes to `onError`, or is shown in `out`, or as a
 * toast. The button comes back enabled only if the connection and its component allow it.
 */
export async function busy(
  button: HTMLButtonElement,
  fn: () => Promise<unknown>,
  out?: HTMLElement | ((err: unknown) => void),
) {
  if (button.disabled) return;
  setBusy(button, true);
  if (out instanceof HTMLElement) out.textContent = '';
  try {
    await fn();
  } catch (err) {
    if (typeof out === 'function') out(err);
    else if (out) out.textContent = sentenceFor(err);
    else toast({ title: 'That did not work', body: sentenceFor(err), kind: 'error' });
  } finally {
    setBusy(button, false);
  }
}
