// Where the trader was, kept across an expired session: the address (filters and sort live in its
// query), the scroll position and the negotiation card in focus. Saved when the session ends,
// restored after the next login in this tab, with a sentence on the login form saying why. The
// view names the trader it was saved for: another trader logging in in this tab starts afresh.

const KEY = 'renex.returnTo';
const REASON = 'renex.signedOutReason';

interface View {
  userId: string;
  url: string;
  scrollY: number;
  swapId?: string;
}

export const SESSION_EXPIRED =
  'Your session has expired (or was ended from another device). Log in again to continue where you were.';

/** Keeps the current view and the reason for the login form, for this tab only. */
export function rememberView(userId: string, reason = SESSION_EXPIRED): void {
  const card = document.activeElement?.closest<HTMLElement>('[data-swap-id]');
  const view: View = {
    userId,
    url: location.pathname + location.search + location.hash,
    scrollY: Math.round(window.scrollY),
    ...(card?.dataset.swapId ? { swapId: card.dataset.swapId } : {}),
  };
  sessionStorage.setItem(KEY, JSON.stringify(view));
  sessionStorage.setItem(REASON, reason);
}

/** The sentence for the login form, once. */
export function takeSignedOutReason(): string | undefined {
  const reason = sessionStorage.getItem(REASON) ?? undefined;
  sessionStorage.removeItem(REASON);
  return reason;
}

/** The view to go back to after `userId` logged in, once; nothing when it was another trader's. */
export function takeView(userId: string): View | undefined {
  const raw = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as View;
    if (v.userId !== userId) {
      // the address still holds the other trader's view (filters and sort): start from the bare page
      if (location.pathname + location.search + location.hash === v.url)
        history.replaceState(null, '', location.pathname);
      return undefined;
    }
    if (typeof v.url !== 'string' || !v.url.startsWith('/')) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** Puts the address back (without a reload) before the dashboard reads its filters from it. */
export function restoreAddress(view: View | undefined): void {
  if (view && view.url !== location.pathname + location.search + location.hash)
    history.replaceState(null, '', view.url);
}
