import type { MigrationContext } from '../migrate.js';

/**
 * Notifications beyond the open tab (PROTOCOL-PUSH.md; docs/notifications.md):
 * - `notify_targets`: where a user's events go besides their sockets, a webhook (`url`, its
 *   signing secret and the one it replaced, still signing for a while) or a Web Push subscription
 *   (`endpoint` and its keys). Each has its own position in its user's events (`cursor`: every
 *   event up to it had its first attempt), bumped `cursor_version` when a replay moves it back,
 *   and a lease (`claimed_by`, `claim_token`, `claim_until`): the one node that sends to it until
 *   then, and which claim of that node (every write of a sender is fenced by the token).
 * - `notify_retries`: attempts still to make after a failed one, when they are due.
 * - `notify_attempts`: every attempt made to a webhook, the delivery log (kept 30 days).
 * Rows of a user go with the user.
 */
export async function up({ context: { run } }: { context: MigrationContext }): Promise<void> {
  await run(`
    CREATE TABLE notify_targets (
      id                    uuid PRIMARY KEY,
      kind                  text NOT NULL CHECK (kind IN ('webhook', 'push')),
      user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      events                text[] NOT NULL,
      status                text NOT NULL CHECK (status IN ('active', 'disabled')),
      url                   text,
      description           text,
      secret                text,
      previous_secret       text,
      previous_secret_until timestamptz,
      endpoint              text,
      p256dh                text,
      auth                  text,
      while_online          boolean,
      cursor                bigint NOT NULL,
      cursor_version        integer NOT NULL DEFAULT 0,
      claimed_by            text,
      claim_token           uuid,
      claim_until           timestamptz,
      failing_since         timestamptz,
      created_at            timestamptz NOT NULL,
      updated_at            timestamptz NOT NULL,
      CHECK (kind <> 'webhook' OR (url IS NOT NULL AND secret IS NOT NULL)),
      CHECK (kind <> 'push' OR (endpoint IS NOT NULL AND p256dh IS NOT NULL AND auth IS NOT NULL))
    );
    CREATE INDEX notify_targets_user_idx ON notify_targets (user_id, created_at);
    -- the targets created lately: which users a node's event stream should lease targets for
    CREATE INDEX notify_targets_created_idx ON notify_targets (created_at);
    CREATE UNIQUE INDEX notify_targets_endpoint_key ON notify_targets (endpoint) WHERE kind = 'push';
    -- leases that ran out (a node that died or stopped): what the poll takes over
    CREATE INDEX notify_targets_claim_idx ON notify_targets (claim_until) WHERE claimed_by IS NOT NULL;

    CREATE TABLE notify_retries (
      target_id uuid NOT NULL REFERENCES notify_targets (id) ON DELETE CASCADE,
      event_id  bigint NOT NULL,
      attempt   integer NOT NULL CHECK (attempt >= 2),
      due_at    timestamptz NOT NULL,
      PRIMARY KEY (target_id, event_id)
    );
    CREATE INDEX notify_retries_due_idx ON notify_retries (due_at);
    CREATE INDEX notify_retries_target_due_idx ON notify_retries (target_id, due_at);

    CREATE TABLE notify_attempts (
      id              bigserial PRIMARY KEY,
      target_id       uuid NOT NULL REFERENCES notify_targets (id) ON DELETE CASCADE,
      event_id        bigint NOT NULL,
      type            text NOT NULL,
      attempt         integer NOT NULL,
      status          text NOT NULL CHECK (status IN ('delivered', 'retrying', 'failed')),
      response_status integer,
      error           text,
      at              timestamptz NOT NULL,
      next_attempt_at timestamptz
    );
    CREATE INDEX notify_attempts_target_idx ON notify_attempts (target_id, id DESC);
    CREATE INDEX notify_attempts_at_idx ON notify_attempts (at);
  `);
}
