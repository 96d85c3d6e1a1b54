import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

/** Paths that never reach a log line, at any level. */
export const REDACT = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'secret',
  '*.secret',
  // the values a failed statement was bound with (a webhook's secret, a password hash): Sequelize
  // keeps them on its errors, at the top and on the driver's error it wraps
  'err.parameters',
  'err.parent.parameters',
  'err.original.parameters',
  '*.err.parameters',
  // a validation or unique-constraint error names the model instance it refused, with all its
  // values (a user's password hash)
  'err.errors[*].instance',
  '*.err.errors[*].instance',
  // pino's error serializer lists them again
  'err.aggregateErrors[*].instance',
  '*.err.aggregateErrors[*].instance',
];

/**
 * Whether log lines are for a person: `LOG_FORMAT=pretty`, or `auto` in development with stdout
 * a terminal. Everything else (production, tests, CI, docker, a pipe) gets one JSON object a line.
 */
export function prettyLogs(
  config: Pick<Config, 'LOG_FORMAT' | 'NODE_ENV'>,
  isTTY: boolean = process.stdout.isTTY === true,
): boolean {
  if (config.LOG_FORMAT !== 'auto') return config.LOG_FORMAT === 'pretty';
  return config.NODE_ENV === 'development' && isTTY;
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'NODE_ENV'>): Logger {
  const options = { level: config.LOG_LEVEL, redact: { paths: REDACT, censor: '[redacted]' } };
  if (!prettyLogs(config)) return pino(options);
  // pino-pretty runs in pino's transport worker, loaded only here: JSON logging never imports it
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: {
        destination: 1,
        colorize: process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      },
    },
  });
}
