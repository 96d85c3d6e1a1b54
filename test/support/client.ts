// Small real clients for tests: fetch for REST, socket.io-client for sockets.
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Session {
  user: { id: string; email: string; displayName: string; createdAt: string };
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: string;
}

export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(opts.body);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: body as T, headers: res.headers };
}

export const uniqueEmail = (name = 'trader') => `${name}-${randomBytes(5).toString('hex')}@test.renex`;
export const PASSWORD = 'correct horse battery';

/** Registers a new trader and returns the session. */
export async function newTrader(base: string, name = 'trader'): Promise<Session> {
  const res = await api<Session>(base, 'POST', '/api/v1/auth/register', {
    body: { email: uniqueEmail(name), password: PASSWORD, displayName: name },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Opens a socket; resolves once connected, rejects with the connect_error. */
export function connectSocket(base: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(base, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The connect_error a handshake with `auth` gets. */
export async function refusedHandshake(base: string, auth: Record<string, unknown>) {
  try {
    const s = await connectSocket(base, auth);
    s.close();
  } catch (err) {
    const e = err as Error & { data?: unknown };
    return { message: e.message, data: e.data };
  }
  throw new Error('the handshake was accepted');
}

/**
 * The handshake refused once the node has heard of a change committed elsewhere (a handshake checks
 * revocations in the node's memory, kept from its event stream): a handshake admitted before that
 * must be closed by the server within `withinMs`, and one tried after it refused.
 */
export async function refusedOnceHeard(base: string, auth: Record<string, unknown>, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    let s: Socket;
    try {
      s = await connectSocket(base, auth);
    } catch (err) {
      const e = err as Error & { data?: unknown };
      return { message: e.message, data: e.data };
    }
    const reason = await new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve('still open'), Math.max(0, deadline - Date.now()));
      s.once('disconnect', (r) => {
        clearTimeout(t);
        resolve(r);
      });
    });
    s.close();
    if (reason !== 'io server disconnect') throw new Error(`the handshake was accepted (${reason})`);
  }
}

/** Emits a command and resolves with its ack. */
export function emitAck<T = any>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, payload) as Promise<T>;
}

/**
 * A listing as the market's events show it: without `meterId`, which only the owner's REST reads
 * and command answers carry (PROTOCOL-MARKET.md, "Meters and trading limits").
 */
export function marketView<T extends { meterId?: unknown }>(listing: T): Omit<T, 'meterId'> {
  const { meterId: _meterId, ...rest } = listing;
  return rest;
}
