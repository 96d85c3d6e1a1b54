import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/**
 * Locks a user's row for the rest of `transaction`, so that a per-user count and the insert that
 * depends on it (webhooks, push subscriptions, meters) take turns across nodes: the second
 * registration waits, then counts the first. FOR NO KEY UPDATE does not block rows that only
 * reference the user (its listings, tokens).
 */
export async function lockUserRow(
  sequelize: Sequelize,
  userId: string,
  transaction: Transaction,
): Promise<void> {
  await sequelize.query('SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE', {
    bind: [userId],
    type: QueryTypes.SELECT,
    transaction,
  });
}
