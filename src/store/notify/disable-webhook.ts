import { type NotifyTarget, webhookView } from '../../domain/notify.js';
import type { CommandTx } from '../commands/command-tx.js';

/**
 * Disables a webhook whose every attempt failed for the disable period (PROTOCOL-PUSH.md), ends its
 * pending retries (each with a `failed` entry in the delivery log) and tells its owner with
 * `webhook.disabled` (the webhook as listed), in one transaction. Only by the claim (`token`) that saw
 * the failures, and only if no delivery on any node and no replay ended the run of failures since
 * `cutoff`; otherwise nothing changes and nobody is told.
 */
export async function disableWebhook(
  tx: CommandTx,
  target: NotifyTarget,
  token: string,
  cutoff: Date,
): Promise<void> {
  const rows = await tx.statements.read<{ id: string }>(
    `UPDATE notify_targets SET status = 'disabled', claimed_by = NULL, claim_token = NULL, claim_until = NULL, updated_at = $2
     WHERE id = $1 AND kind = 'webhook' AND status = 'active' AND claim_token = $3
       AND failing_since IS NOT NULL AND failing_since <= $4 RETURNING id`,
    [target.id, tx.now, token, cutoff],
  );
  if (!rows.length) return;
  // the deliveries still to be retried end here, each with its last word in the delivery log (both
  // writes go in one statement: the insert reads the retries as they were before the delete)
  await tx.statements.write(
    `notify_attempts:${target.id}`,
    `INSERT INTO notify_attempts (target_id, event_id, type, attempt, status, response_status, error, at, next_attempt_at)
     SELECT r.target_id, r.event_id, COALESCE((SELECT e.type FROM events e WHERE e.id = r.event_id), 'unknown'),
       r.attempt, 'failed', NULL, 'not sent: the webhook was disabled', $2, NULL
     FROM notify_retries r WHERE r.target_id = $1`,
    [target.id, tx.now],
  );
  await tx.statements.write(
    `notify_retries:${target.id}`,
    'DELETE FROM notify_retries WHERE target_id = $1',
    [target.id],
  );
  tx.emit({
    type: 'webhook.disabled',
    data: {
      ...webhookView({ ...target, status: 'disabled' }),
      failingSince: target.failingSince?.toISOString() ?? null,
    },
    users: [target.userId],
  });
}
