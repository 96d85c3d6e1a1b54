import { type NotifyTarget, webhookView } from '../../domain/notify.js';
import type { CommandTx } from '../commands/command-tx.js';

/**
 * Disables a webhook whose every attempt failed for the disable period (PROTOCOL-PUSH.md), drops its
 * pending retries and tells its owner with `webhook.disabled` (the webhook as listed), in one
 * transaction. A webhook deleted or disabled meanwhile changes nothing and tells nobody.
 */
export async function disableWebhook(tx: CommandTx, target: NotifyTarget): Promise<void> {
  const rows = await tx.statements.read<{ id: string }>(
    `UPDATE notify_targets SET status = 'disabled', claimed_by = NULL, claim_until = NULL, updated_at = $2
     WHERE id = $1 AND kind = 'webhook' AND status = 'active' RETURNING id`,
    [target.id, tx.now],
  );
  if (!rows.length) return;
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
