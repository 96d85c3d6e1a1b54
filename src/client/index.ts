// The typed RenEx Hub client: REST with fetch, live with socket.io-client. Runs in Node and in
// browsers. Used by the tests, the benchmarks and the dashboard. Depends on the protocol types only.
import { io, type Socket } from 'socket.io-client';
import type { AckAnswer, EventEnvelope, ServerToClientEvents, SyncMessage } from '../gateway/protocol.js';
import { MAX_HELD_EVENTS, pageMissed } from './catch-up.js';
import { HubClientError, toClientError } from './errors.js';
import { deliver, type Listener } from './listeners.js';
import { RECONNECTION, refusalDelayMs, retryableRefusal } from './reconnect.js';
import { refreshSession, request } from './rest.js';
import { sendCommand } from './send-command.js';
import type {
  ClientCommandEvents,
  CommandArgs,
  CommandData,
  CommandInput,
  CommandName,
  Lenient,
  Session,
  StateCommand,
  User,
} from './types.js';

export { HubClientError, isErrorCode } from './errors.js';
export { request } from './rest.js';
export type * from './types.js';
export type { EventEnvelope, SyncMessage };

export interface ClientOptions {
  /** how long to wait for an ack before retrying the command; @default 10000 */
  ackTimeoutMs?: number;
  /** attempts per command, the first included; @default 3 */
  attempts?: number;
  /** socket.io-client transports; @default ['websocket'] */
  transports?: string[];
  /** gets what a listener threw (the others still run); @default reported as an uncaught error */
  onListenerError?: (err: unknown) => void;
}

const uuid = (): string => globalThis.crypto.randomUUID();

/**
 * One trader's connection to the hub. Commands get a fresh requestId, kept when the command is
 * retried after a reconnect, so a retried command takes effect once. Events are delivered once
 * each (deduplicated by id) and `lastEventId` is sent on every reconnect to catch up.
 */
export class HubClient {
  private socket: Socket<ServerToClientEvents, ClientCommandEvents> | undefined;
  private readonly eventListeners = new Set<Listener<EventEnvelope>>();
  private readonly syncListeners = new Set<Listener<SyncMessage>>();
  private readonly stateListeners = new Set<Listener<'connected' | 'disconnected'>>();
  private last: bigint | undefined;
  private catchingUp: EventEnvelope[] | undefined;
  /** counts syncs, disconnects and closes: each ends the catch-up of the sync before it */
  private syncRound = 0;
  private refreshing: Promise<void> | undefined;
  /** handshakes refused in a row since the last connection (the backoff of the next try) */
  private refusals = 0;

  constructor(
    readonly baseUrl: string,
    public session: Session,
    private readonly options: ClientOptions = {},
  ) {}

  // --- accounts ------------------------------------------------------------------------------

  static async register(
    baseUrl: string,
    body: { email: string; password: string; displayName: string },
    options?: ClientOptions,
  ): Promise<HubClient> {
    return new HubClient(
      baseUrl,
      await request<Session>(baseUrl, 'POST', '/api/v1/auth/register', { body }),
      options,
    );
  }

  static async login(
    baseUrl: string,
    email: string,
    password: string,
    options?: ClientOptions,
  ): Promise<HubClient> {
    const session = await request<Session>(baseUrl, 'POST', '/api/v1/auth/login', {
      body: { email, password },
    });
    return new HubClient(baseUrl, session, options);
  }

  get user(): User {
    return this.session.user;
  }

  /** the newest event id this client has; sent on reconnect */
  get lastEventId(): string | undefined {
    return this.last?.toString();
  }

  set lastEventId(id: string | undefined) {
    this.last = id === undefined ? undefined : BigInt(id);
  }

  /**
   * Trades the refresh token for a new pair and hands the new access token to the live socket (if
   * that fails, the socket keeps its token until the hub closes it, and reconnects with the new one).
   */
  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      this.session = await refreshSession(this.baseUrl, this.session.refreshToken);
      if (this.socket?.connected) {
        await this.socket
          .timeout(this.ackTimeoutMs)
          .emitWithAck('auth:refresh', { token: this.session.accessToken })
          .catch(() => undefined);
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async logout(): Promise<void> {
    await this.rest('POST', '/api/v1/auth/logout', { refreshToken: this.session.refreshToken });
    this.close();
  }

  /** An authenticated REST call; one refresh and retry when the access token has expired. */
  async rest<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    try {
      return await request<T>(this.baseUrl, method, path, { body, token: this.session.accessToken, headers });
    } catch (err) {
      if (
        err instanceof HubClientError &&
        err.code === 'UNAUTHENTICATED' &&
        err.details?.reason === 'expired'
      ) {
        await this.refresh();
        return request<T>(this.baseUrl, method, path, { body, token: this.session.accessToken, headers });
      }
      throw err;
    }
  }

  // --- live connection -----------------------------------------------------------------------

  /** Connects (and keeps reconnecting with backoff); resolves on the first `sync`, once caught up. */
  connect(): Promise<SyncMessage> {
    if (this.socket) throw new Error('already connected');
    const socket: Socket<ServerToClientEvents, ClientCommandEvents> = io(this.baseUrl, {
      transports: this.options.transports ?? ['websocket'],
      ...RECONNECTION,
      auth: (cb) =>
        cb(
          this.lastEventId
            ? { token: this.session.accessToken, lastEventId: this.lastEventId }
            : { token: this.session.accessToken },
        ),
    });
    this.socket = socket;
    socket.on('event', (e) => this.receive(e));
    socket.on('sync', (m) => void this.synced(m));
    socket.on('auth:expiring', () => void this.refresh().catch(() => {}));
    socket.on('connect', () => this.emitState('connected'));
    socket.on('disconnect', (reason) => {
      this.stopCatchingUp();
      this.emitState('disconnected');
      // Closed by the hub (a node draining, a token expired, a replay that failed): back after a
      // jittered wait, longer each time until a sync, so that its traders do not all come back at
      // once or in a loop; a fresh token first when this one is about to expire. Not if this
      // client was closed meanwhile: a logout must not bring the socket back.
      if (reason !== 'io server disconnect') return;
      const wait = refusalDelayMs(new HubClientError('UNAVAILABLE', reason), ++this.refusals);
      const expiring = Date.parse(this.session.accessExpiresAt) - Date.now() < 60_000;
      void (expiring ? this.refresh().catch(() => {}) : Promise.resolve()).then(() =>
        setTimeout(() => {
          if (this.socket === socket && !socket.active) socket.connect();
        }, wait),
      );
    });
    socket.on('connect_error', (err) => {
      const e = toClientError(err);
      // an expired token is refreshed; so is a revoked login or a disabled user's, whose refresh
      // then fails: that is how the application learns the session is over (DashboardClient)
      const refreshed = e.code === 'UNAUTHENTICATED' ? this.refresh().catch(() => {}) : Promise.resolve();
      // A transport failure is retried by socket.io-client itself (the socket stays active). A
      // handshake the hub refused (a node shutting down, too many sockets, an expired token) ends
      // its tries: once this client has been connected, it tries again, jittered, unless closed.
      if (socket.active || this.socket !== socket || this.last === undefined || !retryableRefusal(e)) return;
      const wait = refusalDelayMs(e, ++this.refusals);
      void refreshed.then(() =>
        setTimeout(() => {
          if (this.socket === socket && !socket.active) socket.connect();
        }, wait),
      );
    });
    // resolved once caught up (a truncated replay paged: the sync listeners' moment); rejected by
    // the first refused handshake, even after transport failures (tried again)
    return new Promise((resolve, reject) => {
      const settle = () => {
        offSync();
        socket.off('connect_error', refused);
      };
      const refused = (err: Error) => {
        if (socket.active) return;
        settle();
        reject(toClientError(err));
      };
      const offSync = this.onSync((m) => {
        settle();
        resolve(m);
      });
      socket.on('connect_error', refused);
    });
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Calls `fn` for each event, once per id, in id order. Returns a function that stops it. */
  onEvent(fn: Listener<EventEnvelope>): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onSync(fn: Listener<SyncMessage>): () => void {
    this.syncListeners.add(fn);
    return () => this.syncListeners.delete(fn);
  }

  onState(fn: Listener<'connected' | 'disconnected'>): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Drops the connection as a network failure would; the client reconnects by itself. */
  simulateDrop(): void {
    (this.socket?.io.engine as { close?: () => void } | undefined)?.close?.();
  }

  close(): void {
    this.stopCatchingUp();
    this.socket?.close();
    this.socket = undefined;
  }

  private receive(e: EventEnvelope) {
    if (!this.catchingUp) return this.deliverEvent(e);
    this.catchingUp.push(e);
    // a catch-up that cannot end (its pages refused for good) holds no more: resume on a new connection
    if (this.catchingUp.length > MAX_HELD_EVENTS) this.simulateDrop();
  }

  /** An event to the listeners, once per id, in id order. */
  private deliverEvent(e: EventEnvelope) {
    const id = BigInt(e.id);
    if (this.last !== undefined && id <= this.last) return; // a repeat: already delivered
    this.last = id;
    deliver(this.eventListeners, e, this.options.onListenerError);
  }

  private async synced(m: SyncMessage) {
    const round = ++this.syncRound;
    this.refusals = 0;
    if (m.truncated && m.lastEventId) {
      // more was missed than the hub replays at once: page the rest over REST, holding live events
      this.catchingUp ??= [];
      const caughtUp = await pageMissed(m.lastEventId, {
        rest: (method, path) => this.rest(method, path),
        current: () => round === this.syncRound,
        held: () => this.catchingUp ?? [],
        deliver: (e) => this.deliverEvent(e),
      });
      if (!caughtUp) return;
      const held = this.catchingUp ?? [];
      this.catchingUp = undefined;
      for (const e of held) this.deliverEvent(e);
    } else if (this.last === undefined) {
      // the stream starts here; with no event yet, from the beginning, so a reconnect misses none
      this.last = BigInt(m.lastEventId ?? '0');
    }
    deliver(this.syncListeners, m, this.options.onListenerError);
  }

  /** Ends a catch-up under way: the live events it held come again with the next sync's replay. */
  private stopCatchingUp() {
    this.syncRound++;
    this.catchingUp = undefined;
  }

  private emitState(state: 'connected' | 'disconnected') {
    deliver(this.stateListeners, state, this.options.onListenerError);
  }

  private get ackTimeoutMs() {
    return this.options.ackTimeoutMs ?? 10_000;
  }

  /**
   * Sends a command and resolves with its data once the hub has committed it. The requestId is
   * chosen once (or given in `options`): a retry after a lost ack or a reconnect sends the same
   * one, so the command takes effect once. When every attempt went unanswered the error is
   * UNAVAILABLE with `details: { reason: 'no_answer', requestId }`: the command may or may not
   * have committed, and sending it again with that requestId settles which (the hub answers a
   * committed one with its stored answer).
   */
  async command<K extends StateCommand>(
    event: K,
    payload: CommandArgs<K>,
    options: { requestId?: string } = {},
  ): Promise<CommandData<K>> {
    const socket = this.socket;
    if (!socket) throw new Error('connect() first');
    return sendCommand<K>(socket, event, payload, {
      requestId: options.requestId ?? uuid(),
      attempts: this.options.attempts ?? 3,
      ackTimeoutMs: this.ackTimeoutMs,
    });
  }

  // --- commands ------------------------------------------------------------------------------
  // Parameters and results come from the protocol's command map (CommandArgs, CommandData).

  createListing(input: CommandArgs<'listing:create'>): Promise<CommandData<'listing:create'>> {
    return this.command('listing:create', input);
  }

  cancelListing(
    listingId: CommandArgs<'listing:cancel'>['listingId'],
  ): Promise<CommandData<'listing:cancel'>> {
    return this.command('listing:cancel', { listingId });
  }

  /** A new price or volume (or both) of one of your active listings. */
  amendListing(
    listingId: CommandArgs<'listing:amend'>['listingId'],
    changes: Omit<CommandArgs<'listing:amend'>, 'listingId'>,
  ): Promise<CommandData<'listing:amend'>> {
    return this.command('listing:amend', { listingId, ...changes });
  }

  propose(input: CommandArgs<'swap:propose'>): Promise<CommandData<'swap:propose'>> {
    return this.command('swap:propose', input);
  }

  counter(input: CommandArgs<'swap:counter'>): Promise<CommandData<'swap:counter'>> {
    return this.command('swap:counter', input);
  }

  accept(
    swapId: CommandArgs<'swap:accept'>['swapId'],
    round: CommandArgs<'swap:accept'>['round'],
  ): Promise<CommandData<'swap:accept'>> {
    return this.command('swap:accept', { swapId, round });
  }

  reject(
    swapId: CommandArgs<'swap:reject'>['swapId'],
    round: CommandArgs<'swap:reject'>['round'],
  ): Promise<CommandData<'swap:reject'>> {
    return this.command('swap:reject', { swapId, round });
  }

  withdraw(swapId: CommandArgs<'swap:withdraw'>['swapId']): Promise<CommandData<'swap:withdraw'>> {
    return this.command('swap:withdraw', { swapId });
  }

  /** Feed commands carry no requestId: they change no state. */
  async subscribeFeed(filter: CommandArgs<'feed:subscribe'> = {}): Promise<CommandData<'feed:subscribe'>> {
    return this.plain('feed:subscribe', filter);
  }

  async unsubscribeFeed(): Promise<void> {
    await this.plain('feed:unsubscribe', {});
  }

  private async plain<K extends Exclude<CommandName, StateCommand>>(
    event: K,
    payload: Lenient<CommandInput<K>>,
  ): Promise<CommandData<K>> {
    if (!this.socket) throw new Error('connect() first');
    const answer: AckAnswer<CommandData<K>> = await this.socket
      .timeout(this.ackTimeoutMs)
      .emitWithAck<CommandName>(event, payload);
    if (answer.ok) return answer.data;
    throw new HubClientError(answer.error.code, answer.error.message, answer.error.details);
  }
}
