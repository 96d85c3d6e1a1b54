import type { Logger } from 'pino';
import type { z } from 'zod';
import { HubError } from '../domain/errors.js';
import { parseInput, validationFailed } from '../domain/validation.js';
import { toHubError } from '../errors.js';
import type { Ack } from './protocol.js';
import type { HubSocket } from './server.js';

/** Commands the socket may send; each has its zod schema and a handler returning the ack data. */
export interface CommandSpec<S extends z.ZodType, R> {
  schema: S;
  run(input: z.output<S>, socket: HubSocket): Promise<R>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Registers one command: the payload is parsed at the edge, the handler runs, and the ack carries
 * `{ok: true, data}` once committed or `{ok: false, error}` with a protocol code. An error that is
 * not a protocol error is logged and answered INTERNAL.
 */
export function onCommand<S extends z.ZodType, R>(
  socket: HubSocket,
  name: string,
  spec: CommandSpec<S, R>,
  log: Logger,
): void {
  (socket as unknown as { on(e: string, l: (...args: unknown[]) => void): void }).on(name, (payload, ack) => {
    if (typeof ack !== 'function') return; // every command carries an ack; without one there is no answer to give
    const reply = ack as Ack<R>;
    void (async () => {
      try {
        if (!isPlainObject(payload))
          throw validationFailed([{ path: '', message: 'payload must be an object' }]);
        const data = await spec.run(parseInput(spec.schema, payload), socket);
        reply({ ok: true, data });
      } catch (err) {
        const e = toHubError(err);
        if (!(err instanceof HubError))
          log.error({ err, command: name, userId: socket.data.userId }, 'command failed');
        reply({ ok: false, error: e.toJSON() });
      }
    })();
  });
}
