import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  invalidUpload,
  MAX_READINGS,
  type ReadingField,
  type Readings,
  type ReadUpload,
  readingsBody,
  readJsonReadings,
  readReadingRow,
  tooManyRows,
} from '../domain/energy/readings.js';
import { HubError } from '../domain/errors.js';
import { fromFastifyError } from './error-envelope.js';
import { errors } from './schemas.js';

export interface ReadingRouteDeps {
  readings: Readings;
}

/**
 * Largest upload body, JSON or CSV: 10,000 readings with 64-character external ids take about
 * 1.9 MB as JSON (1.2 MB as CSV); room for indented JSON. The app's limit stays for every other route.
 */
export const READINGS_BODY_LIMIT = 4 * 1024 * 1024;

/** The CSV columns, each exactly once, in any order and letter case. */
const COLUMNS: Record<string, ReadingField> = {
  meter: 'meterExternalId',
  slot_start: 'slotStart',
  exported_kwh: 'exportedKwh',
  imported_kwh: 'importedKwh',
};
const HEADER = Object.keys(COLUMNS).join(',');
const COLUMN_OF = Object.fromEntries(Object.entries(COLUMNS).map(([c, f]) => [f, c])) as Record<
  ReadingField,
  string
>;
/** a well-formed row is about 120 characters; far longer is not a reading */
const MAX_CSV_RECORD = 1024;

/** A text/csv body: the request's own stream, read (and bounded) by the route. */
class CsvBody {
  constructor(readonly stream: Readable) {}
}

const upload = (issue: { row: number; path: string; message: string }) => invalidUpload([issue]);

/**
 * Reads a CSV upload as it streams in: the header, then one reading per record (row 1 the first
 * after the header; blank lines skipped). Stops at the first row past MAX_READINGS, a bad header,
 * a body over `limit` bytes or text that is not CSV, with VALIDATION_FAILED.
 */
async function readCsvReadings(body: Readable, limit: number): Promise<ReadUpload> {
  let order: ReadingField[] | undefined;
  const result: ReadUpload = {
    rows: [],
    issues: [],
    pathOf: (_row, field) => (field ? COLUMN_OF[field] : ''),
  };
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    max_record_size: MAX_CSV_RECORD,
  });
  // errors reach the loop below through the iterator; this keeps a late one from going unhandled
  parser.on('error', () => {});
  let bytes = 0;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limit) parser.destroy(upload({ row: 0, path: 'body', message: 'body is too large' }));
  };
  const onEnd = () => {
    if (!body.readableEnded) parser.destroy(new Error('the request ended before its body'));
  };
  body.on('data', onData);
  body.once('error', onEnd);
  body.once('close', onEnd);
  body.pipe(parser);
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!order) {
        order = headerOrder(record);
        if (!order) throw upload({ row: 0, path: 'header', message: `must be ${HEADER}` });
        continue;
      }
      row++;
      if (row > MAX_READINGS) throw invalidUpload([...result.issues, tooManyRows('')]);
      if (record.length !== order.length) {
        result.issues.push({ row, path: '', message: `must have ${order.length} fields: ${HEADER}` });
        continue;
      }
      const input: Record<string, string> = {};
      order.forEach((field, i) => {
        input[field] = record[i]!;
      });
      readReadingRow(result, row, input);
    }
  } catch (err) {
    if (err instanceof CsvError) {
      // the records the parser read, the header included, are the number of the bad data row (0:
      // the header); records it read ahead may not have reached this loop
      throw upload({
        row: typeof err.records === 'number' ? err.records : row + 1,
        path: 'body',
        message: `is not valid CSV near line ${err.lines ?? '?'} (${err.code})`,
      });
    }
    throw err;
  } finally {
    body.off('data', onData);
    body.off('error', onEnd);
    body.off('close', onEnd);
    body.unpipe(parser);
    // the rest of a body left unread is discarded, so the answer can still be sent
    if (!body.readableEnded) body.resume();
  }
  if (!order) throw upload({ row: 0, path: 'header', message: `must be ${HEADER}` });
  return result;
}

/** The fields in the order of a header naming each column once, or undefined. */
function headerOrder(record: string[]): ReadingField[] | undefined {
  const fields = record.map((c) => COLUMNS[c.trim().toLowerCase()]);
  if (fields.length !== 4 || fields.some((f) => !f) || new Set(fields).size !== 4) return undefined;
  return fields as ReadingField[];
}

/**
 * /api/v1/operator/readings: meter readings, uploaded by an operator. The operator check is the
 * guard every /api/v1/operator/ route gets (src/http/operator-guard.ts), before the body is read.
 */
export const readingRoutes: FastifyPluginAsyncZod<ReadingRouteDeps> = async (app, { readings }) => {
  // text/csv in this plugin only: the stream is handed over whole and read as it arrives; any other
  // type here is VALIDATION_FAILED (application/json keeps the app's parser)
  app.addContentTypeParser('text/csv', (_req, payload, done) => done(null, new CsvBody(payload)));
  app.addContentTypeParser('*', (_req, _payload, done) =>
    done(upload({ row: 0, path: 'body', message: 'content type must be application/json or text/csv' })),
  );

  // the app's own body issues (not JSON, too large) are about the upload as a whole: row 0, as the
  // other issues of the whole are; every other error goes to the app's handler as it is
  app.setErrorHandler(async (error) => {
    const err = fromFastifyError(error);
    if (err.code !== 'VALIDATION_FAILED' || !Array.isArray(err.details?.issues)) throw error;
    const issues = (err.details.issues as { row?: number }[]).map((i) => ({ row: 0, ...i }));
    throw new HubError(err.code, err.message, { ...err.details, issues });
  });

  app.post(
    '/operator/readings',
    {
      bodyLimit: READINGS_BODY_LIMIT,
      // The body is read row by row in the handler (JSON and CSV alike), so that every issue names
      // its row; `body` below documents the JSON form for OpenAPI and is not what checks it.
      validatorCompiler: () => (data) => ({ value: data }),
      schema: {
        tags: ['operator'],
        summary: 'Upload meter readings (operators only)',
        description:
          `JSON, or text/csv with the header \`${HEADER}\`; at most ${MAX_READINGS} rows, all stored or ` +
          'none. Any bad row is VALIDATION_FAILED with details.issues[] naming each row (1 is the first ' +
          'reading or data row) and field. A reading replaces the earlier one of its meter and slot ' +
          'unless that one is settled: then the upload is INVALID_STATE, details.rows naming those rows.',
        security: [{ bearer: [] }],
        body: readingsBody,
        response: {
          200: z.object({ accepted: z.number().int() }),
          ...errors(400, 401, 403, 409, 503),
        },
      },
    },
    async (req) => {
      const body: unknown = req.body;
      const read =
        body instanceof CsvBody
          ? await readCsvReadings(body.stream, req.routeOptions.bodyLimit ?? READINGS_BODY_LIMIT)
          : readJsonReadings(body ?? undefined);
      return readings.upload(read);
    },
  );
};
