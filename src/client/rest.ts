// REST with fetch: one call, its error answer turned into a HubClientError.
import { HubClientError } from './errors.js';

/** One REST call; a non-2xx answer becomes a HubClientError with the protocol code. */
export async function request<T>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = body?.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` };
    throw new HubClientError(e.code, e.message, e.details, res.status);
  }
  return body as T;
}
