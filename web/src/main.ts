// Entry point: restore the last session (or show the sign-in forms), then the dashboard.
import './styles.css';
import { startDashboard } from './app.js';
import { showAuth } from './auth.js';
import { type DashboardClient, restore } from './session.js';
import { byId, describeError } from './ui.js';

const enter = (client: DashboardClient) => void startDashboard(client);

async function boot(): Promise<void> {
  let client: DashboardClient | undefined;
  let message: string | undefined;
  try {
    client = await restore();
  } catch (err) {
    message = `Could not restore your session: ${describeError(err)}`;
  }
  byId('boot').hidden = true;
  if (client) enter(client);
  else showAuth(enter, message);
}

// logged out (or the login revoked) in another tab: this one follows
window.addEventListener('storage', (e) => {
  if (e.key === 'renex.refreshToken' && e.newValue === null && e.oldValue !== null) location.reload();
});

void boot();
