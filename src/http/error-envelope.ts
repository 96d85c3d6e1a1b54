import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HubError, isHubError } from '../domain/errors.js';
import { validationFailed } from '../domain/validation.js';
import { toHubError } from '../store/db/unavailable.js';

/**
 * Every error leaves as `{error: {code, message, details?}}` with the status of its code.
 * Unknown errors become INTERNAL: logged with their stack, never shown.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    const err = new HubError('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`);
    void reply.status(err.status).send({ error: err.toJSON() });
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = fromFastifyError(error);
    if (err.code === 'INTERNAL' || err.code === 'UNAVAILABLE')
      req.log.error({ err: error }, 'request failed');
    if (err.code === 'RATE_LIMITED' && typeof err.details?.retryAfterMs === 'number') {
      void reply.header('retry-after', Math.ceil(err.details.retryAfterMs / 1000));
    }
    void reply.status(err.status).send({ error: err.toJSON() });
  });
}

export function fromFastifyError(error: unknown): HubError {
  if (isHubError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    return validationFailed(
      error.validation.map((v) => ({
        path: v.instancePath.split('/').filter(Boolean).join('.'),
        message: v.message ?? 'invalid',
      })),
    );
  }
  const fe = error as Partial<FastifyError>;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return validationFailed(
        [{ path: 'body', message: 'body is too large' }],
        'The request body is too large',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return validationFailed([{ path: 'body', message: 'content type must be application/json' }]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return validationFailed([{ path: 'body', message: 'body is not valid JSON' }]);
  }
  if (fe.statusCode === 400 && fe.code?.startsWith('FST_ERR')) {
    return validationFailed([{ path: '', message: 'malformed request' }]);
  }
  return toHubError(error);
}
