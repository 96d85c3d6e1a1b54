// Secrets never reach a log line: a failed statement's bound values (a webhook's secret at creation
// or rotation) ride on Sequelize's errors at three places, all redacted.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DatabaseError, UniqueConstraintError, ValidationErrorItem } from 'sequelize';
import { expect, test } from 'vitest';
import { REDACT } from '../../src/logger.js';

/** A logger with the hub's redaction, and the lines it wrote. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: pino({ redact: { paths: REDACT, censor: '[redacted]' } }, sink) };
}

test("a Sequelize error's bound parameters and a secret field are redacted", () => {
  const { lines, log } = capture();
  const secret = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ=';
  const driver = Object.assign(new Error('canceling statement due to statement timeout'), {
    sql: 'INSERT INTO notify_targets (secret) VALUES ($1)',
    parameters: [secret],
  });
  const err = new DatabaseError(driver as never);
  expect(JSON.stringify((err as unknown as { parameters: unknown }).parameters)).toContain(secret);
  log.error({ err }, 'statement failed');
  log.info({ webhook: { secret } }, 'created');
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(line).not.toContain(secret);
  expect(lines[0]).toContain('statement timeout');
});

test("a constraint error's refused instance (a user's password hash) is redacted", () => {
  const { lines, log } = capture();
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
  const instance = { email: 'a@x', passwordHash: hash };
  const item = new ValidationErrorItem(
    'email must be unique',
    'unique violation',
    'email',
    'a@x',
    instance as never,
    'not_unique',
    'unique',
    [],
  );
  const err = new UniqueConstraintError({ errors: [item] });
  expect(JSON.stringify(err.errors)).toContain(hash);
  log.error({ err }, 'request failed');
  log.error({ req: { id: 1 }, err }, 'request failed');
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(line).not.toContain(hash);
});
