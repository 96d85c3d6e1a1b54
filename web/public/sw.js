// The dashboard's service worker (issue 21, PROTOCOL-PUSH.md "Web Push"), served at /sw.js with the
// scope `/`. It is registered only when the trader enables notifications (web/src/push-settings.ts).
// A push from the hub is `{eventId, type, title, body, url}` (url: `/?swap=<id>`): it is shown as a
// notification, one per swap (a newer one about the same swap replaces it, and alerts again). A
// click opens that negotiation: an open dashboard tab is focused and told the address (it shows the
// swap without a reload, keeping its live connection), else a new tab opens at the address.

self.addEventListener('install', () => {
  // a new version takes over at once: it has no caches to hand over
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** A path of this origin (`/?swap=…`), else the dashboard's root: a push never sends the reader elsewhere. */
function ownPath(url) {
  if (typeof url !== 'string') return '/';
  try {
    const u = new URL(url, self.location.origin);
    return u.origin === self.location.origin ? u.pathname + u.search + u.hash : '/';
  } catch {
    return '/';
  }
}

function readPush(data) {
  if (!data) return {};
  try {
    const m = data.json();
    return m && typeof m === 'object' ? m : {};
  } catch {
    return { body: data.text() };
  }
}

self.addEventListener('push', (event) => {
  const m = readPush(event.data);
  const url = ownPath(m.url);
  const swapId = new URL(url, self.location.origin).searchParams.get('swap');
  const tag = swapId || (m.eventId ? `event:${m.eventId}` : 'renex');
  // userVisibleOnly: every push shows a notification, even one that could not be read
  event.waitUntil(
    self.registration.showNotification(typeof m.title === 'string' && m.title ? m.title : 'RenEx Hub', {
      body: typeof m.body === 'string' ? m.body : '',
      tag,
      renotify: true,
      data: { url, eventId: m.eventId ?? null, type: m.type ?? null },
    }),
  );
});

async function openDashboard(url) {
  const target = new URL(url, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  // a dashboard tab (the dashboard lives at `/`), the focused one first
  const tabs = windows.filter((c) => new URL(c.url).pathname === '/');
  const tab = tabs.find((c) => c.focused) ?? tabs[0];
  if (tab) {
    // focusing needs the click's user activation; without it the message still shows the swap
    await tab.focus().catch(() => {});
    tab.postMessage({ type: 'renex:open', url });
    return;
  }
  await self.clients.openWindow(target);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const done = openDashboard(ownPath(event.notification.data?.url));
  try {
    event.waitUntil(done);
  } catch {
    // an event dispatched by script (DevTools, tests) cannot be extended: the work goes on anyway
  }
});
