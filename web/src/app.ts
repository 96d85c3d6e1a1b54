// The signed-in dashboard: wires the live connection to the market, negotiations and trades.
import type { Listing, Swap } from '../../src/client/index.js';
import { ListingDirectory } from './listing-directory.js';
import { MarketPanel } from './market-panel.js';
import { Negotiations } from './negotiations.js';
import { type DashboardClient, forget, isSessionOver } from './session.js';
import { Trades } from './trades.js';
import { busy, byId, describeError, startCountdowns, toast } from './ui.js';

type ConnState = 'connecting' | 'connected' | 'reconnecting';

function showConnection(state: ConnState): void {
  const el = byId('conn');
  el.dataset.state = state;
  byId('conn-label').textContent =
    state === 'connected' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  el.title =
    state === 'connected'
      ? 'Connected: updates arrive live'
      : 'The connection dropped; reconnecting and catching up on what was missed';
}

export async function startDashboard(client: DashboardClient): Promise<void> {
  byId('dashboard').hidden = false;
  byId('session-bar').hidden = false;
  byId('user-name').textContent = client.user.displayName;
  showConnection('connecting');

  const signedOut = () => {
    client.close();
    forget();
    location.reload();
  };
  client.onSessionOver = signedOut;

  const directory = new ListingDirectory(client);
  const trades = new Trades(client);
  // the market and the negotiations refer to each other through these hooks
  let market: MarketPanel | undefined;
  const negotiations = new Negotiations(client, directory, {
    changed: (listingId) => market?.refreshActions(listingId),
    accepted: () => trades.schedule(),
  });
  market = new MarketPanel(client, directory, {
    proposed: (swap: Swap) => {
      negotiations.upsert(swap);
      void negotiations.refreshThread(swap.id);
    },
    openSwapOn: (listingId) => negotiations.openSwapOn(listingId),
    showSwap: (id) => negotiations.focus(id),
  });

  client.onState((s) => showConnection(s === 'connected' ? 'connected' : 'reconnecting'));
  client.onEvent((e) => {
    if (e.type.startsWith('listing.')) market.apply(e.data as Listing);
    else if (e.type.startsWith('swap.')) {
      negotiations.onEvent(e.type, e.data as Swap);
      if (e.type === 'swap.accepted') trades.schedule();
    }
  });
  // every (re)connect: a new feed subscription and a fresh market page. Personal events missed
  // while away are replayed from lastEventId by the client; the lists are reloaded as well, keyed
  // by id, so nothing shows twice.
  let syncs = 0;
  client.onSync(() => {
    showConnection('connected');
    void market.resync();
    if (syncs++ > 0) {
      void negotiations.load().catch(() => {});
      void trades.load();
    }
  });

  const logout = byId<HTMLButtonElement>('logout');
  logout.addEventListener('click', () =>
    busy(logout, async () => {
      try {
        await client.logout();
      } finally {
        location.reload();
      }
    }),
  );
  startCountdowns(document);

  const loading = Promise.all([
    negotiations
      .load()
      .catch((err) => toast({ title: 'Negotiations not loaded', body: describeError(err), kind: 'error' })),
    trades.load(),
  ]);
  try {
    await client.connect();
  } catch (err) {
    if (isSessionOver(err)) return signedOut();
    showConnection('reconnecting');
    toast({ title: 'Cannot connect to the hub', body: describeError(err), kind: 'error', timeoutMs: 0 });
  }
  await loading;
}
