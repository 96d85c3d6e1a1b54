// REST with fetch: one call, its error answer turned into a HubClientError.
import { HubClientError } from './errors.js';
import type { Session } from './types.js';

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

/**
 * POST /auth/refresh: the new pair. An answer lost on its way (the network, a balancer's 502) is
 * asked again with the same token within the hub's reuse grace (REFRESH_REUSE_SECONDS, 10 s by
 * default): the token may have been spent, and presented again later it would end the whole login.
 */
export async function refreshSession(baseUrl: string, refreshToken: string): Promise<Session> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request<Session>(baseUrl, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
    } catch (err) {
      const answered = err instanceof HubClientError && err.code !== 'UNAVAILABLE' && err.code !== 'INTERNAL';
      if (answered || attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt + Math.random() * 500));
    }
  }
}
