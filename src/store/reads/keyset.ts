import {
  type Includeable,
  type Model,
  type ModelStatic,
  Op,
  type Sequelize,
  type Transaction,
  type WhereOptions,
} from 'sequelize';

/**
 * `(<timeColumn>, id) < (at, id)` of a keyset page: the rows strictly after the previous page's
 * last one in (time DESC, id DESC) order; `table` names the columns' table in a join. A row comparison, which an index on (…, time DESC,
 * id DESC) serves as one range (docs/listing-queries.md); two ORed comparisons would not.
 */
export function keysetBefore(sequelize: Sequelize, timeColumn: string, at: Date, id: string, table?: string) {
  const col = (c: string) => sequelize.col(table ? `${table}.${c}` : c);
  return sequelize.where(
    sequelize.fn('ROW', col(timeColumn), col('id')),
    Op.lt,
    sequelize.fn('ROW', at, sequelize.cast(id, 'uuid')),
  );
}

/** What a keyset page needs of a query: its conditions, the time it is ordered by, its size. */
interface PageQuery {
  where: WhereOptions[];
  /** the attribute the page is ordered by, newest first (then the id) */
  orderBy: string;
  limit: number;
  include?: Includeable[];
  /** read in this transaction (a snapshot shared with other reads) */
  transaction?: Transaction;
}

/**
 * One page of `model`'s rows, newest first: `limit` of them and whether more follow (one more row
 * is read to know). Raw rows under their attribute names (nested for `include`).
 */
export async function keysetPage<R>(
  model: ModelStatic<Model>,
  q: PageQuery,
): Promise<{ rows: R[]; more: boolean }> {
  const rows = (await model.findAll({
    where: { [Op.and]: q.where },
    include: q.include,
    order: [
      [q.orderBy, 'DESC'],
      ['id', 'DESC'],
    ],
    limit: q.limit + 1,
    transaction: q.transaction,
    raw: true,
    nest: q.include !== undefined,
  })) as unknown as R[];
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit };
}
