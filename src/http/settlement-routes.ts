import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sequelize } from 'sequelize';
import { z } from 'zod';
import { checkCurtailment, curtailmentInput } from '../domain/energy/curtailment.js';
import { formatCents } from '../domain/energy/money.js';
import { STATEMENT_COLUMNS, statement } from '../domain/energy/statements.js';
import type { MarketProfile } from '../domain/energy/zones.js';
import { HubError } from '../domain/errors.js';
import { formatKwh } from '../domain/quantity.js';
import { timeInput, zoneInput } from '../domain/schemas.js';
import { csvField } from '../domain/trade.js';
import { validationFailed } from '../domain/validation.js';
import type { CommandRunner } from '../store/commands/command-runner.js';
import { findSettledSlots, findStatementSlots } from '../store/reads/settlement-queries.js';
import { curtail } from '../store/settlement/curtail.js';
import { errors, idempotencyHeaders } from './schemas.js';

export interface SettlementRouteDeps {
  runner: CommandRunner;
  profile: MarketProfile;
  sequelize: Sequelize;
  /** most lines of one statement (about 400 bytes each in JSON): a busier period is asked for in parts */
  maxStatementLines: number;
}

const DAY_MS = 86_400_000;

/** `to` after `from`, at most `days` apart: the period of a report. */
const periodCheck =
  (days: number) =>
  ({ from, to }: { from: Date; to: Date }, ctx: z.RefinementCtx) => {
    const span = to.getTime() - from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    // an hour more: a period of whole days of a market's time spans one 25-hour day when daylight
    // saving time ends in it (31 October days in Berlin are 31 x 24 + 1 hours)
    else if (span > days * DAY_MS + 3_600_000)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${days} days after from` });
  };

const settlementsQuery = z
  .strictObject({ zone: zoneInput, from: timeInput, to: timeInput })
  .superRefine(periodCheck(31));
const statementQuery = z.strictObject({ from: timeInput, to: timeInput }).superRefine(periodCheck(93));

const money = z.string().meta({ example: '12.34' });
const kwh = z.string().meta({ example: '12.500' });

const statementLineSchema = z
  .object({
    slotStart: z.iso.datetime(),
    swapId: z.uuid(),
    side: z.enum(['buy', 'sell']),
    counterpartyName: z.string(),
    zone: z.string(),
    energyType: z.string(),
    settledKwh: kwh,
    pricePerKwh: z.string(),
    energy: money,
    fees: money,
    deviation: money,
    amount: money,
    currency: z.string(),
  })
  .meta({ id: 'StatementLine' });

const settledSlotSchema = z
  .object({
    slotStart: z.iso.datetime(),
    zone: z.string(),
    settledKwh: kwh,
    buyersPay: money,
    sellersReceive: money,
    gridOperatorReceives: money,
    platformReceives: money,
    sum: money,
  })
  .meta({ id: 'SettledSlot' });

/**
 * Curtailments and the settlement report (operators; every route under /operator/ is guarded by
 * installOperatorGuard), and a trader's statement (PROTOCOL-MARKET.md, docs/settlement.md).
 */
export const settlementRoutes: FastifyPluginAsyncZod<SettlementRouteDeps> = async (
  app,
  { runner, profile, sequelize, maxStatementLines },
) => {
  app.post(
    '/operator/curtailments',
    {
      schema: {
        tags: ['operator'],
        summary: 'Curtail the trades of a zone, or of one meter, in the slots of a window not yet started',
        description:
          'Each trade slot keeps factor x its contracted volume, rounded down to the Wh; the rest is ' +
          "curtailed, both meters' limits are freed, the fees follow the volume still contracted, and " +
          'both parties get trade.curtailed. Idempotency-Key works as for the other commands.',
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        body: curtailmentInput,
        response: { 200: z.object({ affectedTrades: z.number().int() }), ...errors(400, 401, 403, 409, 503) },
      },
    },
    async (req) =>
      // checked inside the command: a retry with its Idempotency-Key gets the stored answer, even
      // once the window has passed
      runner.runInTransaction(
        {
          userId: req.userId,
          command: 'operator:curtail',
          key: req.headers['idempotency-key'],
          payload: req.body,
        },
        (tx) => curtail(tx, req.userId, checkCurtailment(profile, req.body, tx.now), tx.now),
      ),
  );

  app.get(
    '/operator/settlements',
    {
      schema: {
        tags: ['operator'],
        summary: "A zone's settled slots in [from, to), at most 31 days, with their flows and their zero sum",
        security: [{ bearer: [] }],
        querystring: settlementsQuery,
        response: { 200: z.object({ items: z.array(settledSlotSchema) }), ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => {
      const zone = profile.zone(req.query.zone);
      if (!zone)
        throw validationFailed([
          { path: 'zone', message: 'is not a zone of this market (GET /api/v1/zones)' },
        ]);
      const rows = await findSettledSlots(sequelize, zone.id, req.query.from, req.query.to);
      return {
        items: rows.map((r) => {
          const [pay, receive, grid, platform] = [
            r.buyers_pay,
            r.sellers_receive,
            r.grid_operator_receives,
            r.platform_receives,
          ].map(BigInt) as [bigint, bigint, bigint, bigint];
          return {
            slotStart: new Date(r.slot_start).toISOString(),
            zone: r.zone,
            settledKwh: formatKwh(BigInt(r.settled_wh)),
            buyersPay: formatCents(pay),
            sellersReceive: formatCents(receive),
            gridOperatorReceives: formatCents(grid),
            platformReceives: formatCents(platform),
            sum: formatCents(pay - receive - grid - platform),
          };
        }),
      };
    },
  );

  app.get(
    '/statements',
    {
      schema: {
        tags: ['history'],
        summary: 'Your settled trade slots in [from, to), at most 93 days, with totals on settled quantities',
        description:
          'With `Accept: text/csv`, the lines as CSV (header row; the totals are the sums of its columns). ' +
          'A period with more settled trade slots than the hub answers at once (STATEMENT_MAX_LINES, ' +
          '20,000 by default) is VALIDATION_FAILED with `details.max`: ask for shorter periods.',
        security: [{ bearer: [] }],
        querystring: statementQuery,
        response: {
          200: z.object({
            items: z.array(statementLineSchema),
            totals: z.object({
              boughtKwh: kwh,
              soldKwh: kwh,
              paid: money,
              received: money,
              fees: money,
              deviations: money,
            }),
          }),
          ...errors(400, 401, 503),
        },
      },
    },
    async (req, reply) => {
      const slots = await findStatementSlots(
        sequelize,
        req.userId,
        req.query.from,
        req.query.to,
        maxStatementLines + 1,
      );
      // one answer holds the whole period (its totals are over all of it): a period too busy for
      // one answer is refused, not cut short
      if (slots.length > maxStatementLines) {
        throw new HubError('VALIDATION_FAILED', 'The period is too busy for one statement', {
          issues: [
            { path: 'to', message: `the period holds more than ${maxStatementLines} settled trade slots` },
          ],
          max: maxStatementLines,
        });
      }
      const s = statement(slots);
      if (/\btext\/csv\b/.test(req.headers.accept ?? '')) {
        const lines = s.items.map((l) => STATEMENT_COLUMNS.map((c) => csvField(l[c])).join(','));
        const csv = [STATEMENT_COLUMNS.join(','), ...lines].map((l) => `${l}\r\n`).join('');
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="renex-statement.csv"')
          .serializer((p: unknown) => p as string)
          .send(csv as never);
      }
      return s;
    },
  );
};
