// Opening the negotiation a notification is about: `/?swap=<id>` in the address when the dashboard
// loads, and the service worker's message when a notification is clicked while the tab is open.

const SWAP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The swap id of an address like `/?swap=<id>`, if it names one. */
export function swapOf(url: string): string | undefined {
  try {
    const id = new URL(url, location.origin).searchParams.get('swap') ?? '';
    return SWAP_ID.test(id) ? id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** The swap named by this page's address (`/?swap=<id>`, a notification's link), read once. */
export function takeLinkedSwap(): string | undefined {
  return swapOf(location.href);
}

/** Drops `swap` from the address (logging out: the next trader on this tab has other swaps). */
export function forgetLinkedSwap(): void {
  const q = new URLSearchParams(location.search);
  if (!q.has('swap')) return;
  q.delete('swap');
  const rest = q.toString();
  history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}

let showSwap: ((id: string) => void) | undefined;

/** What the dashboard does when a notification asks to show a swap (set once it is running). */
export function onSwapRequest(fn: (id: string) => void): void {
  showSwap = fn;
}

// A click on a notification while this tab is open: the worker focuses the tab and posts it the
// address. The dashboard shows the swap in place (the live connection and commands waiting for an
// answer stay); on the login form the address is kept for after the login.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as { type?: unknown; url?: unknown } | null;
    if (m?.type !== 'renex:open' || typeof m.url !== 'string') return;
    const id = swapOf(m.url);
    if (!id) return;
    const q = new URLSearchParams(location.search);
    q.set('swap', id);
    history.pushState(null, '', `${location.pathname}?${q}${location.hash}`);
    showSwap?.(id);
  });
  // messages posted before the listener existed are delivered now
  navigator.serviceWorker.startMessages();
}
