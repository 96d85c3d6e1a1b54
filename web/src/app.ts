// The signed-in dashboard: wires the live connection to the market, negotiations and trades, and
// says honestly what state the connection is in: while it is down live data is greyed out, order
// entry is held (entry-gate.ts) and commands whose answer was lost wait to be sent again
// (command-desk.ts). Focus goes somewhere meaningful once the dashboard is there. The zones (and so
// their market times) are loaded once, and again after a reconnect while that failed.
import type { Listing, Swap, Trade, User } from '../../src/client/index.js';
import { CommandDesk } from './command-desk.js';
import { confirmAction } from './confirm.js';
import { gate } from './entry-gate.js';
import { ListingDirectory } from './listing-directory.js';
import { MarketData } from './market-data.js';
import { clearAddressView } from './market-filters.js';
import { MarketPanel } from './market-panel.js';
import { marketZones } from './market-time.js';
import type { ListingMatched } from './market-types.js';
import { MeterStore } from './meters.js';
import { MetersPanel } from './meters-panel.js';
import { Negotiations } from './negotiations.js';
import { CurtailmentForm } from './operator-curtail.js';
import { ReadingsUpload } from './operator-readings.js';
import { SettlementReport } from './operator-report.js';
import { PushSettings } from './push-settings.js';
import { type DashboardClient, forget, isSessionOver } from './session.js';
import { StatementPanel } from './statement.js';
import { forgetLinkedSwap, onSwapRequest, takeLinkedSwap } from './swap-link.js';
import { Trades } from './trades.js';
import { busy, byId, describeError, startCountdowns, toast } from './ui.js';
import { rememberView, SESSION_EXPIRED } from './view-state.js';

type ConnState = 'connecting' | 'connected' | 'reconnecting';

function showConnection(state: ConnState, desk: CommandDesk): void {
  const el = byId('conn');
  el.dataset.state = state;
  byId('conn-label').textContent =
    state === 'connected' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline · reconnecting…';
  el.title =
    state === 'connected'
      ? 'Connected: updates arrive live'
      : 'The connection dropped; reconnecting and catching up on what was missed';
  // live data is greyed only once it may be stale (not while first connecting: it was just loaded)
  byId('dashboard').dataset.live = state === 'connected' ? 'live' : state;
  byId('offline-banner').hidden = state !== 'reconnecting';
  byId('offline-reason').textContent =
    state === 'connecting'
      ? 'Connecting to the hub: order entry opens once the connection is up.'
      : 'Offline: order entry is paused until the connection is back.';
  showWaiting(desk.waiting);
  gate.set(state === 'connected');
}

function showWaiting(n: number): void {
  byId('offline-pending').textContent =
    n === 0
      ? ''
      : `${n === 1 ? '1 command' : `${n} commands`} sent without an answer yet: sent again with the same request id when the connection is back, so each takes effect once.`;
}

/**
 * The grid operator's tools (readings, curtailment, the settlement report), shown only when
 * GET /api/v1/me names the role "operator"; the hub refuses their routes to everyone else anyway.
 */
async function startOperator(client: DashboardClient): Promise<void> {
  const me = await client.rest<User>('GET', '/api/v1/me').catch(() => client.user);
  if (!me.roles.includes('operator')) return;
  byId('operator').hidden = false;
  byId('dashboard').dataset.operator = 'true';
  new ReadingsUpload(client);
  new CurtailmentForm(client);
  new SettlementReport(client);
}

/**
 * Shows swap `id` (a notification's link): its card, scrolled to and focused; fetched first when it
 * is not among the loaded ones (older than the first page). A swap that is not the trader's says so.
 */
async function openLinkedSwap(negotiations: Negotiations, id: string): Promise<boolean> {
  if (negotiations.focus(id)) return true;
  await negotiations.refreshThread(id);
  if (negotiations.focus(id)) return true;
  toast({
    title: 'Negotiation not found',
    body: 'The negotiation this link is about is not one of yours, or no longer exists.',
    kind: 'error',
  });
  return false;
}

export interface ReturnView {
  scrollY: number;
  swapId?: string;
}

export async function startDashboard(client: DashboardClient, view?: ReturnView): Promise<void> {
  byId('dashboard').hidden = false;
  byId('session-bar').hidden = false;
  byId('user-name').textContent = client.user.displayName;
  // focus leaves the login form (now hidden) for the page's main region at once; the first card
  // waiting for an answer takes it once the negotiations are loaded
  byId('main').focus({ preventScroll: true });
  const desk = new CommandDesk(client);
  desk.onWaiting(showWaiting);
  showConnection('connecting', desk);

  const signedOut = () => {
    // the address (with its filters) stays for the login form; view-state drops it if another logs
    // in; commands still waiting for an answer are no longer sent again: the sentence says so
    const n = desk.waiting;
    rememberView(
      client.user.id,
      n === 0
        ? undefined
        : `${SESSION_EXPIRED} ${n === 1 ? '1 command was' : `${n} commands were`} not answered before it ended: ${
            n === 1 ? 'it' : 'they'
          } may or may not have been done. Check your listings and negotiations.`,
    );
    client.close();
    forget();
    location.reload();
  };
  client.onSessionOver = signedOut;

  // a notification's link (`/?swap=<id>`): read before the market panel rewrites the address
  const linkedSwap = takeLinkedSwap();
  // notifications on this device: nothing is asked until the trader enables them
  const push = new PushSettings(client);

  // until they are loaded every time is shown in UTC, labelled; then the panels show them again
  void marketZones.load(client);

  const directory = new ListingDirectory(client);
  const trades = new Trades(client);
  const statement = new StatementPanel(client);
  void startOperator(client);
  // the trader's meters: the post form and the offer dialog trade from them
  const meters = new MeterStore(client);
  const metersPanel = new MetersPanel(meters);
  const loadMeters = () =>
    meters.load().catch((err) => {
      byId('meters-error').textContent = `Meters not loaded: ${describeError(err)}`;
    });
  void loadMeters();
  // the market and the negotiations refer to each other through these hooks
  let market: MarketPanel | undefined;
  const negotiations = new Negotiations(client, directory, desk, {
    changed: (listingId) => market?.refreshActions(listingId),
    accepted: () => {
      trades.schedule();
      void metersPanel.refresh();
    },
  });
  market = new MarketPanel(
    client,
    directory,
    desk,
    {
      proposed: (swap: Swap) => {
        negotiations.upsert(swap);
        void negotiations.refreshThread(swap.id);
        // the Offer button that opened the dialog is gone (View offer now): focus the new card
        negotiations.focus(swap.id);
      },
      openSwapOn: (listingId) => negotiations.openSwapOn(listingId),
      openOffersOn: (listingId) => negotiations.openOffersOn(listingId),
      showSwap: (id) => negotiations.focus(id),
    },
    meters,
  );
  // a notification clicked while this tab is open: its swap, shown in place (after the first load)
  let loaded = false;
  let pendingSwap: string | undefined;
  onSwapRequest((id) => {
    if (loaded) void openLinkedSwap(negotiations, id);
    else pendingSwap = id;
  });

  // prices, the chart and the tape of the whole market (the feed's trades keep them live)
  const marketData = new MarketData(client);

  // Live once the hub's sync has come and what was missed is caught up (onSync), not when the
  // socket connects: until then the screen may be behind
  client.onState((s) => s === 'disconnected' && showConnection('reconnecting', desk));
  client.onEvent((e) => {
    marketData.onEvent(e);
    if (e.type === 'listing.matched') market.matched(e.data as ListingMatched);
    else if (e.type.startsWith('listing.')) market.apply(e.data as Listing);
    else if (e.type.startsWith('swap.')) {
      negotiations.onEvent(e.type, e.data as Swap);
      if (e.type === 'swap.accepted') {
        trades.schedule();
        void metersPanel.refresh();
      }
    } else if (e.type === 'trade.curtailed' || e.type === 'trade.settled') {
      trades.apply(e.data as Trade);
      void metersPanel.refresh();
      if (e.type === 'trade.settled') statement.schedule();
    }
  });
  // The lists (negotiations, trades, statement) are read after each sync, the first included: an
  // event committed before the sync is in what they read, one after it arrives live (keyed by id
  // and version, so nothing shows twice or goes back). Read before the first sync, a counter
  // committed between the read and the sync would be in neither.
  const loadLists = (first: boolean) =>
    Promise.all([
      negotiations
        .load()
        .catch((err) =>
          first
            ? toast({ title: 'Negotiations not loaded', body: describeError(err), kind: 'error' })
            : undefined,
        ),
      trades.load(),
      statement.load(),
    ]);
  // the first read of the lists, then what waits for it (a linked swap, the focus): once
  let listsShown: Promise<void> | undefined;
  const showLists = () => {
    listsShown ??= loadLists(true).then(() => afterFirstLoad());
    return listsShown;
  };
  // every (re)connect: a new feed subscription and a fresh market page. Personal events missed
  // while away are replayed from lastEventId by the client before its sync.
  client.onSync(() => {
    showConnection('connected', desk);
    if (!marketZones.ready) void marketZones.load(client);
    if (!meters.ready) void loadMeters();
    // the feed subscription first: trades made while the market data loads then arrive live
    void market.resync().then(() => marketData.resync());
    if (listsShown) void loadLists(false);
    else void showLists();
  });

  const logout = byId<HTMLButtonElement>('logout');
  logout.addEventListener('click', async () => {
    // commands still waiting for an answer are dropped by logging out: say so first
    const n = desk.waiting;
    if (
      n > 0 &&
      !(await confirmAction({
        title: 'Log out with unanswered commands?',
        body: `${n === 1 ? '1 command has' : `${n} commands have`} not been answered by the hub yet: ${n === 1 ? 'it' : 'they'} may or may not have been done. Logging out stops sending ${n === 1 ? 'it' : 'them'} again; check your listings and negotiations after the next login.`,
        confirmLabel: 'Log out anyway',
        cancelLabel: 'Stay logged in',
      }))
    )
      return;
    await busy(logout, async () => {
      try {
        // this trader's notifications end on this device with the login (bounded, best effort)
        await push.beforeLogout();
        await client.logout();
      } finally {
        clearAddressView();
        forgetLinkedSwap();
        location.reload();
      }
    });
  });
  startCountdowns(document);

  const afterFirstLoad = async () => {
    loaded = true;
    // a notification's swap (the address it opened, or a click meanwhile) comes before the rest
    const linked = pendingSwap ?? linkedSwap;
    if (linked && (await openLinkedSwap(negotiations, linked))) return;
    const focusIsFree = document.activeElement === document.body || document.activeElement === byId('main');
    // the card in focus before the session ended, else (gone meanwhile, or none) the first your-turn card
    const restored = view?.swapId ? negotiations.focus(view.swapId) : false;
    if (!restored && (focusIsFree || view?.swapId)) negotiations.focusFirstTurn();
    if (view?.scrollY) window.scrollTo({ top: view.scrollY });
  };
  // a socket that cannot reach the hub (and keeps trying) does not keep what REST still reads off
  // the screen: shown after a few seconds without a sync, greyed as not live
  const noSync = setTimeout(() => void showLists(), 5_000);
  try {
    await client.connect();
  } catch (err) {
    if (isSessionOver(err)) return signedOut();
    showConnection('reconnecting', desk);
    toast({ title: 'Cannot connect to the hub', body: describeError(err), kind: 'error', timeoutMs: 0 });
  } finally {
    clearTimeout(noSync);
  }
  await showLists();
}
