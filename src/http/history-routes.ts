import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sequelize } from 'sequelize';
import { z } from 'zod';
import { HubError } from '../domain/errors.js';
import { offerView, SWAP_STATUSES, swapView } from '../domain/swap.js';
import { csvHeader, csvRow, tradeView } from '../domain/trade.js';
import { type After, findSwaps, findSwapWithOffers, findTrades } from '../store/reads/history-queries.js';
import {
  commaList,
  cursorParam,
  errors,
  idParams,
  nextTimeCursor,
  offerSchema,
  page,
  queryInt,
  swapSchema,
  timeCursor,
  tradeSchema,
} from './schemas.js';

const after = timeCursor;
/** trades read per statement while a CSV export streams */
const CSV_PAGE = 500;
const next = nextTimeCursor;

/** /api/v1/swaps and /api/v1/trades: the caller's history. Only parties see a swap. */
export const historyRoutes: FastifyPluginAsyncZod<{ sequelize: Sequelize }> = async (app, { sequelize }) => {
  app.get(
    '/swaps',
    {
      schema: {
        tags: ['history'],
        summary: 'Swaps you are a party to, latest activity first',
        security: [{ bearer: [] }],
        querystring: z.strictObject({
          status: commaList(z.enum(SWAP_STATUSES), SWAP_STATUSES.length).optional(),
          role: z.enum(['initiator', 'recipient']).optional(),
          listingId: z.uuid({ message: 'must be a UUID' }).optional(),
          limit: queryInt(1, 100, 20),
          cursor: cursorParam.optional(),
        }),
        response: { 200: page(swapSchema), ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      const q = req.query;
      const { items, more } = await findSwaps(sequelize, {
        userId: req.userId,
        statuses: q.status,
        role: q.role,
        listingId: q.listingId,
        limit: q.limit,
        after: after(q.cursor),
      });
      const last = items.at(-1);
      return {
        items: items.map(swapView),
        nextCursor: next(more, last && { at: last.updatedAt, id: last.id }),
      };
    },
  );

  app.get(
    '/swaps/:id',
    {
      schema: {
        tags: ['history'],
        summary: 'One of your swaps with its whole offer thread, oldest round first',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: swapSchema.extend({ offers: z.array(offerSchema) }), ...errors(400, 401, 404, 503) },
      },
    },
    async (req) => {
      const found = await findSwapWithOffers(sequelize, req.userId, req.params.id);
      if (!found) throw new HubError('NOT_FOUND', 'No such swap');
      return { ...swapView(found.swap), offers: found.offers.map(offerView) };
    },
  );

  app.get(
    '/trades',
    {
      schema: {
        tags: ['history'],
        summary: 'Your accepted swaps as trades, newest first',
        description:
          'With `Accept: text/csv` the answer is your whole ledger as CSV (header row, ISO times, decimals as written); limit and cursor then do not apply.',
        security: [{ bearer: [] }],
        querystring: z.strictObject({ limit: queryInt(1, 100, 20), cursor: cursorParam.optional() }),
        response: { 200: page(tradeSchema), ...errors(400, 401, 503) },
      },
    },
    async (req, reply) => {
      if (/\btext\/csv\b/.test(req.headers.accept ?? '')) {
        const csv = () =>
          reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="renex-trades.csv"');
        // HEAD (fastify answers it with this handler and drops the body): the headers, no read
        if (req.method === 'HEAD') return csv().send('' as never);
        const pageOf = (position?: After) => findTrades(sequelize, req.userId, CSV_PAGE, position);
        // the first page before the answer starts, so that an unavailable database is a 503
        const first = await pageOf();
        async function* rows() {
          yield csvHeader();
          for (let page = first; ; ) {
            yield page.items.map((t) => csvRow(tradeView(t.swap, t.listing, req.userId, t.slots))).join('');
            const last = page.items.at(-1)?.swap;
            if (!page.more || !last) return;
            page = await pageOf({ at: last.acceptedAt!, id: last.id });
          }
        }
        // streamed a page at a time: a long ledger is never held whole; a failure later cuts the answer short (no final chunk)
        return csv().send(Readable.from(rows(), { objectMode: false }) as never); // text, not the JSON page the schema describes
      }
      const { items, more } = await findTrades(
        sequelize,
        req.userId,
        req.query.limit,
        after(req.query.cursor),
      );
      const last = items.at(-1)?.swap;
      return {
        items: items.map((t) => tradeView(t.swap, t.listing, req.userId, t.slots)),
        nextCursor: next(more, last && { at: last.acceptedAt!, id: last.id }),
      };
    },
  );
};
