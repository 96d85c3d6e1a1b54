import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  test('defaults: embedded mode on port 3000 with the demo market', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.embedded).toBe(true);
    expect(c.SEED_DEMO).toBe(true);
    expect(c.DATA_DIR).toBe('./data');
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.CORS_ORIGINS).toEqual([]);
    expect(c.ACCESS_TOKEN_TTL_SECONDS).toBe(900);
    expect(c.ARGON2_MEMORY_KIB).toBe(19_456);
  });

  test('a DATABASE_URL switches off embedded mode and the demo seed', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/hub', REDIS_URL: 'redis://r:6379' });
    expect(c.embedded).toBe(false);
    expect(c.SEED_DEMO).toBe(false);
    expect(c.REDIS_URL).toBe('redis://r:6379');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/hub', SEED_DEMO: 'true' }).SEED_DEMO).toBe(true);
  });

  test('values are parsed into their types', () => {
    const c = loadConfig({
      PORT: '8080',
      CORS_ORIGINS: 'https://a.example, http://localhost:5173',
      LOG_LEVEL: 'debug',
      SEED_DEMO: '0',
    });
    expect(c.PORT).toBe(8080);
    expect(c.CORS_ORIGINS).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(c.LOG_LEVEL).toBe('debug');
    expect(c.SEED_DEMO).toBe(false);
  });

  test('tracing is on with an OTLP endpoint (either variable) unless OTEL_SDK_DISABLED', () => {
    expect(loadConfig({}).tracing).toBe(false);
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).tracing).toBe(
      false,
    );
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).tracing).toBe(true);
    const off = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' };
    expect(loadConfig(off).tracing).toBe(false);
  });

  test('empty values count as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).embedded).toBe(true);
  });

  test.each([
    [{ PORT: 'abc' }, /^config: PORT must be a whole number from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^config: PORT must be at most 65535/],
    [{ LOG_LEVEL: 'loud' }, /^config: LOG_LEVEL .*got "loud"/],
    [
      { DATABASE_URL: 'mysql://x/y' },
      /^config: DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(got "<hidden>"\)$/,
    ],
    [{ REDIS_URL: 'nope' }, /^config: REDIS_URL must be a URL/],
    [{ JWT_SECRET: 'short' }, /^config: JWT_SECRET must be at least 32 characters \(got "<hidden>"\)$/],
    [{ CORS_ORIGINS: 'not a url' }, /^config: CORS_ORIGINS/],
    [{ SEED_DEMO: 'maybe' }, /^config: SEED_DEMO must be true or false/],
    [{ NODE_ENV: 'production' }, /^config: JWT_SECRET is required when NODE_ENV=production$/],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      /^config: OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/,
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^config: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/],
  ])('%o is refused with one line naming the variable', (env, line) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(line);
    expect(message).not.toContain('\n');
  });
});
