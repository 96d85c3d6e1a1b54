// REST calls the bundled client's JSON `rest` does not make: a CSV body (the operator's readings) and
// a CSV answer saved as a file (the trades ledger, the statement). The access token goes along; one
// refresh and retry on 401 (most likely an expired access token; a dead login throws there).
import { HubClientError } from '../../src/client/index.js';
import type { DashboardClient } from './session.js';
import { h } from './ui.js';

interface RawOptions {
  body?: string;
  contentType?: string;
  accept?: string;
}

/** One authenticated call; a non-2xx answer becomes a HubClientError with the protocol code. */
export async function hubFetch(
  client: DashboardClient,
  method: string,
  path: string,
  opts: RawOptions = {},
): Promise<Response> {
  const send = () => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${client.session.accessToken}`,
      accept: opts.accept ?? 'application/json',
    };
    if (opts.contentType) headers['content-type'] = opts.contentType;
    return fetch(path, { method, headers, body: opts.body });
  };
  let res = await send();
  if (res.status === 401) {
    await client.refresh();
    res = await send();
  }
  if (!res.ok) {
    const body = await res.json().catch(() => undefined);
    const e = body?.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` };
    throw new HubClientError(e.code, e.message, e.details, res.status);
  }
  return res;
}

/** GET `path` as CSV and save it as `filename` through a blob link. */
export async function downloadCsv(client: DashboardClient, path: string, filename: string): Promise<void> {
  const res = await hubFetch(client, 'GET', path, { accept: 'text/csv' });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true }, 'CSV');
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
