import { errorCodes, type FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { mayHoldLongNumber, readJsonLossless } from '../domain/json.js';

/** Fastify's defaults (onProtoPoisoning, onConstructorPoisoning): such a body is not valid JSON. */
const POISONING = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * The body as Fastify's own parser reads it (secure-json-parse: a leading BOM dropped, `__proto__`
 * and `constructor.prototype` keys refused), except that a number of more than 15 significant
 * digits is read from its text into an UnsafeNumber instead of being rounded by JSON.parse.
 * Throws SyntaxError when the body is not acceptable JSON.
 */
export function parseJsonBody(body: string): unknown {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (!mayHoldLongNumber(text)) return secureJson.parse(text, POISONING);
  const value = readJsonLossless(text);
  return value !== null && typeof value === 'object' ? secureJson.scan(value, POISONING) : value;
}

/**
 * Replaces Fastify's application/json parser with parseJsonBody. The body limit stays the app's;
 * an empty or unreadable body fails with Fastify's own errors, which src/http/error-envelope.ts turns into
 * VALIDATION_FAILED at path `body`.
 */
export function installJsonBody(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let value: unknown;
    try {
      value = parseJsonBody(body as string);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    done(null, value);
  });
}
