// Entry point: restore the last session (or show the sign-in forms), then the dashboard. A session
// that ended (expired, revoked) comes back to the login form with a sentence saying so, and after
// the next login to the view the trader was on.
import './styles.css';
import './controls.css';
import './panels.css';
import './trading.css';
import './meters.css';
import './settlement.css';
import './responsive.css';
import { startDashboard } from './app.js';
import { showAuth } from './auth.js';
import { clearAddressView } from './market-filters.js';
import { type DashboardClient, restore, storedToken } from './session.js';
import { byId, describeError } from './ui.js';
import { restoreAddress, SESSION_EXPIRED, takeSignedOutReason, takeView } from './view-state.js';

const enter = (client: DashboardClient) => {
  const view = takeView(client.user.id);
  restoreAddress(view);
  void startDashboard(client, view);
};

async function boot(): Promise<void> {
  let client: DashboardClient | undefined;
  let message = takeSignedOutReason();
  const hadLogin = storedToken() !== null;
  try {
    client = await restore();
    if (!client && hadLogin) message ??= SESSION_EXPIRED;
  } catch (err) {
    message = `Could not restore your session: ${describeError(err)}`;
  }
  byId('boot').hidden = true;
  if (client) enter(client);
  else showAuth(enter, message);
}

// logged out (or the login revoked) in another tab: this one follows
window.addEventListener('storage', (e) => {
  if (e.key === 'renex.refreshToken' && e.newValue === null && e.oldValue !== null) {
    // the filters in the address were that trader's: the next one to log in starts from their own
    clearAddressView();
    location.reload();
  }
});

void boot();
