import { QueryTypes, type Sequelize } from 'sequelize';
import type { AccessChange } from '../../domain/auth/revoked-logins.js';

/**
 * What changed lately in who may use an access token, in order, for a node that starts
 * (src/domain/auth/revoked-logins.ts): the `access.changed` events of the last `keepSeconds`, then
 * the logins revoked and the users disabled in that time as the tables hold them (which also
 * covers what changed before the database wrote those events).
 */
export async function recentAccessChanges(
  sequelize: Sequelize,
  keepSeconds: number,
): Promise<{ change: AccessChange; at: number }[]> {
  const rows = await sequelize.query<{ data: AccessChange; at: string }>(
    `WITH since AS (SELECT now() - make_interval(secs => $1) AS t)
     SELECT data, at FROM (
       SELECT 0 AS part, id, data, at FROM events, since
       WHERE type = 'access.changed' AND at > since.t
       UNION ALL
       SELECT 1, 0, jsonb_build_object('change', 'revoked', 'userId', user_id,
                                       'familyIds', jsonb_agg(DISTINCT family_id::text)), max(revoked_at)
       FROM refresh_tokens, since WHERE revoked_at > since.t GROUP BY user_id
       UNION ALL
       SELECT 2, 0, jsonb_build_object('change', 'disabled', 'userId', id), disabled_at
       FROM users, since WHERE disabled_at > since.t
     ) c ORDER BY part, id`,
    { bind: [keepSeconds], type: QueryTypes.SELECT },
  );
  return rows.map((r) => ({ change: r.data, at: new Date(r.at).getTime() }));
}
