import type { Express, Request, Response } from 'express';
import type { RevenueReportQuery, RevenueRow } from '../../../application/ports/revenue-reports.js';
import type { CalendarDate } from '../../../application/reports/calendar-date.js';
import { daysInclusive } from '../../../application/reports/calendar-date.js';
import { toCurrencyCode } from '../../../domain/currency.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { JSON_CONTENT_TYPE } from '../respond.js';
import { contextOf } from '../request-context.js';
import { route } from '../route-label.js';
import { MAX_REPORT_DAYS, RevenueReportQuery as RevenueReportQuerySchema } from '../schemas.js';
import { parseOrThrow } from '../validation.js';

/** The read model the reports read, and so the one `minPosition` waits for. */
export const REPORTS_PROJECTION = 'reports';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

/** The wire order of a revenue row's fields: JSON keys and CSV columns alike (RevenueRowSchema declares the same). */
export const REVENUE_COLUMNS = ['period', 'currency', 'gross', 'refunded', 'net', 'payments', 'refunds'] as const satisfies readonly (keyof RevenueRow)[];

const jsonRow = (row: RevenueRow): string => JSON.stringify(Object.fromEntries(REVENUE_COLUMNS.map((column) => [column, row[column]])));
// Every field is a period, an upper-case currency code or an integer: nothing a CSV reader must unquote.
const csvRow = (row: RevenueRow): string => `${REVENUE_COLUMNS.map((column) => row[column]).join(',')}\r\n`;

/** The client went away while a report was being streamed to it. */
class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/** Writes `chunk`, waiting for the socket to drain when its buffer is full (backpressure), or failing if the client left. */
function writeChunk(res: Response, chunk: string): Promise<void> {
  if (res.destroyed) return Promise.reject(new ClientGone('the client closed the connection'));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    const onDrain = (): void => {
      done();
      resolve();
    };
    const onClose = (): void => {
      done();
      reject(new ClientGone('the client closed the connection'));
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

interface Format {
  readonly contentType: string;
  readonly head: string;
  readonly row: (row: RevenueRow, index: number) => string;
  readonly tail: string;
}

const JSON_FORMAT: Format = { contentType: JSON_CONTENT_TYPE, head: '{"data":[', row: (row, i) => (i === 0 ? '' : ',') + jsonRow(row), tail: ']}' };
const CSV_FORMAT: Format = { contentType: CSV_CONTENT_TYPE, head: `${REVENUE_COLUMNS.join(',')}\r\n`, row: csvRow, tail: '' };

/** `Accept: text/csv` asks for CSV; anything else (or nothing) gets JSON. */
const formatFor = (req: Request): Format => (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? CSV_FORMAT : JSON_FORMAT);

/**
 * GET /v1/reports/revenue: behind `authenticate` (app.ts), needs reports:read. The rows are
 * streamed page by page as the read model yields them, so a three-year report in every
 * currency never sits in memory whole. The first page is read before anything is sent:
 * a database that cannot answer is still a problem response, not a truncated body. A
 * failure after that can only cut the connection, which a client sees as a body that
 * does not end well (JSON that does not parse, CSV without its last line break).
 */
export function registerReportRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  route(app, 'get', '/v1/reports/revenue', requireScope('reports:read'), async (req, res) => {
    // Revenue is the merchant's, summed over every customer: not something one customer may see.
    if (principalOf(res).customerId !== null) {
      throw new HttpProblem({ code: 'forbidden', detail: 'Reports sum every customer\'s payments; a customer-scoped credential cannot read them.' });
    }
    const parsed = parseOrThrow(RevenueReportQuerySchema, req.query);
    // The schema checked both are days that exist.
    const from = parsed.from as CalendarDate;
    const to = parsed.to as CalendarDate;
    const days = daysInclusive(from, to);
    if (days < 1) throw validationProblem([{ path: 'to', message: 'must be on or after from' }]);
    if (days > MAX_REPORT_DAYS) throw validationProblem([{ path: 'to', message: `must be at most ${MAX_REPORT_DAYS} days after from, both included (this range has ${days})` }]);
    await awaitReadModel(deps.readModels, REPORTS_PROJECTION, parsed.minPosition, limits.minPositionWaitMs);

    const currency = parsed.currency === undefined ? undefined : toCurrencyCode(parsed.currency);
    const query: RevenueReportQuery = { from, to, granularity: parsed.granularity, currency };
    const format = formatFor(req);
    const pages = deps.revenueReports.pages(query)[Symbol.asyncIterator]();
    let next = await pages.next();
    // The request timeout may have answered 503 while the first page was read: nothing more to send.
    if (res.headersSent) {
      await pages.return?.();
      return;
    }
    res.status(200);
    res.setHeader('content-type', format.contentType);
    res.setHeader('vary', 'Accept');
    if (format === CSV_FORMAT) res.setHeader('content-disposition', `attachment; filename="revenue-${parsed.granularity}-${from}-${to}.csv"`);
    let written = 0;
    try {
      await writeChunk(res, format.head);
      while (!next.done) {
        await writeChunk(res, next.value.map((row) => format.row(row, written++)).join(''));
        next = await pages.next();
      }
      res.end(format.tail);
    } catch (error) {
      await pages.return?.();
      if (!(error instanceof ClientGone)) deps.logger.error({ requestId: contextOf(req).requestId, err: error, rowsWritten: written }, 'revenue report stream failed');
      res.destroy();
    }
  });
}
