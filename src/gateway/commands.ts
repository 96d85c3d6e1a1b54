import type { Logger } from 'pino';
import type { z } from 'zod';
import { HubError } from '../domain/errors.js';
import { parseInput, validationFailed } from '../domain/validation.js';
import type { HubMetrics } from '../metrics.js';
import { toHubError } from '../store/db/unavailable.js';
import { inSpan, type Span, tracingEnabled } from '../telemetry/trace-context.js';
import type { CommandLimits } from './command-limits.js';
import type { Ack, CommandData, CommandInput, CommandName, CommandParsed } from './protocol.js';
import type { HubSocket } from './server.js';
import { commandOutcome, commandSpan } from './tracing.js';

/**
 * The per-user budgets commands spend from: `market` for those that change the market
 * (listing:*, swap:*), `feed` for those that change only the connection (feed:*, auth:refresh),
 * so a dashboard re-subscribing cannot starve trading, nor trading starve a token refresh.
 */
export type Budget = 'market' | 'feed';

/** How the hub answers command `K`: its schema and types come from the protocol's `CommandMap`. */
export interface CommandSpec<K extends CommandName> {
  /** the map's schema for K, or any schema with the same input and output types */
  schema: z.ZodType<CommandParsed<K>, CommandInput<K>>;
  /** runs the parsed command; what it resolves with is the ack's data */
  run(input: CommandParsed<K>, socket: HubSocket): Promise<CommandData<K>>;
  /** the budget each call spends from, before its payload is even parsed; @default 'market' */
  budget?: Budget;
}

export interface CommandRouterDeps {
  log: Logger;
  metrics: HubMetrics;
  limits: Record<Budget, CommandLimits>;
}

/** Socket.IO hands a listener the client's ack callback as its last argument, if the client sent one. */
const isAck = <T>(ack: unknown): ack is Ack<T> => typeof ack === 'function';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Registers socket commands. Each command spends from a per-user budget, its payload parsed at the
 * edge, its handler run, and the ack carries `{ok: true, data}` once committed or
 * `{ok: false, error}` with a protocol code; the connection stays up either way. One log line
 * and metrics per command. An error that is not a protocol error is logged and answered INTERNAL.
 */
export class CommandRouter {
  private inflight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  /** every command's handler, by name: registered once, shared by every socket */
  private readonly specs = new Map<string, CommandSpec<CommandName>>();
  /**
   * The one listener of every socket (Socket.IO calls a catch-all listener with the socket as
   * `this`): a socket holds no closure or listener of its own per command.
   */
  private readonly dispatch: (this: HubSocket, event: unknown, ...args: unknown[]) => void;

  constructor(private readonly deps: CommandRouterDeps) {
    const router = this;
    this.dispatch = function (this: HubSocket, event: unknown, ...args: unknown[]) {
      const reply = args[args.length - 1];
      // every command carries an ack; without one there is no answer to give
      if (!isAck<CommandData<CommandName>>(reply)) return;
      const spec = typeof event === 'string' ? router.specs.get(event) : undefined;
      if (spec) router.run(this, event as CommandName, spec, args.length > 1 ? args[0] : undefined, reply);
      else router.refuseUnknown(this, event, reply as Ack<never>);
    };
  }

  /** How the hub answers command `name`, on every socket (register before sockets connect). */
  handle<K extends CommandName>(name: K, spec: CommandSpec<K>): void {
    this.specs.set(name, spec as unknown as CommandSpec<CommandName>);
  }

  /** Lets `socket` send commands: one shared listener. */
  attach(socket: HubSocket): void {
    socket.onAny(this.dispatch);
  }

  /**
   * An event no handler is registered for (a command of a newer protocol, a typo) is answered
   * NOT_FOUND, rather than leaving the client to time out. Each one spends from the user's feed
   * budget (it changes nothing stored), so a flood of them is RATE_LIMITED.
   */
  private refuseUnknown(socket: HubSocket, event: unknown, reply: Ack<never>): void {
    const { limits, metrics } = this.deps;
    const name = typeof event === 'string' ? event.slice(0, 64) : typeof event;
    void limits.feed.spend(socket.data.userId).then(
      () => {
        metrics.commands.inc({ command: 'unknown', outcome: 'NOT_FOUND' });
        reply({ ok: false, error: new HubError('NOT_FOUND', `No such command: ${name}`).toJSON() });
      },
      (err: unknown) => {
        const e = toHubError(err);
        if (e.code === 'RATE_LIMITED') metrics.rateLimited.inc({ kind: 'feed' });
        reply({ ok: false, error: e.toJSON() });
      },
    );
  }

  /** One command: budget, parse, run, answer; one log line and metrics. */
  private run<K extends CommandName>(
    socket: HubSocket,
    name: K,
    spec: CommandSpec<K>,
    // both come off the wire: unknown until checked; the ack's type is the map's for K
    payload: unknown,
    reply: Ack<CommandData<K>>,
  ): void {
    const { log, metrics, limits } = this.deps;
    const began = performance.now();
    this.inflight++;
    // a traceparent beside the command's fields is the caller's trace context: never the domain's
    // (nor part of the payload an idempotency key is bound to), valid or not (docs/telemetry.md)
    let traceparent: unknown;
    if (isPlainObject(payload) && 'traceparent' in payload) {
      ({ traceparent, ...payload } = payload);
    }
    const work = async (span?: Span) => {
      let outcome = 'ok';
      try {
        if (this.closing) {
          throw new HubError(
            'UNAVAILABLE',
            'This node is shutting down; nothing was done; retry on another node',
            {
              retryAfterMs: 100,
              reason: 'draining',
            },
          );
        }
        await limits[spec.budget ?? 'market'].spend(socket.data.userId);
        if (!isPlainObject(payload))
          throw validationFailed([{ path: '', message: 'payload must be an object' }]);
        const data = await spec.run(parseInput(spec.schema, payload), socket);
        reply({ ok: true, data });
      } catch (err) {
        const e = toHubError(err);
        outcome = e.code;
        if (e.code === 'RATE_LIMITED')
          metrics.rateLimited.inc({ kind: spec.budget === 'feed' ? 'feed' : 'command' });
        if (!(err instanceof HubError))
          log.error({ err, command: name, userId: socket.data.userId }, 'command failed');
        reply({ ok: false, error: e.toJSON() });
      } finally {
        const seconds = (performance.now() - began) / 1000;
        metrics.commands.inc({ command: name, outcome });
        metrics.commandSeconds.observe({ command: name }, seconds);
        // a refusal costs one debug line: a flood past the limit must not flood the log
        log[outcome === 'RATE_LIMITED' ? 'debug' : 'info'](
          {
            command: name,
            requestId:
              isPlainObject(payload) && typeof payload.requestId === 'string'
                ? payload.requestId.slice(0, 64)
                : undefined,
            userId: socket.data.userId,
            outcome,
            ms: Math.round(seconds * 10_000) / 10,
          },
          'command',
        );
        if (span) commandOutcome(span, outcome);
        if (--this.inflight === 0) this.drained?.();
      }
    };
    if (!tracingEnabled()) void work();
    else void inSpan(`command ${name}`, commandSpan(name, traceparent), work);
  }

  /**
   * Shutdown: new commands are answered UNAVAILABLE (nothing done, retry elsewhere) and this
   * resolves once the running ones have committed and answered, or after `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
