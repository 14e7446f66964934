import type { Express, RequestHandler } from 'express';
import type { MrrRow } from '../../../application/ports/mrr-reports.js';
import { instantAt, monthIndexOf, monthInstants, parseMonth } from '../../../application/reports/mrr-months.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { MAX_MRR_HISTORY_MONTHS, MrrHistoryQuery, MrrHistorySchema, MrrReportQuery, MrrReportSchema } from '../mrr-schemas.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { parseOrThrow } from '../validation.js';
import { canonicalize } from '../wire-form.js';

/** The read model MRR reports read, and so the one `minPosition` waits for. */
export const MRR_PROJECTION = 'subscription_metrics';

/** MRR sums every customer's subscriptions: like the revenue report, not for a customer-scoped credential. */
const notCustomerScoped: RequestHandler = (_req, res, next) => {
  if (principalOf(res).customerId === null) {
    next();
    return;
  }
  next(new HttpProblem({ code: 'forbidden', detail: 'MRR sums every customer\'s subscriptions; a customer-scoped credential cannot read it.' }));
};

const figures = ({ currency, mrr, arr, active, trialing, pastDue, churnedThisMonth }: MrrRow) => ({ currency, mrr, arr, active, trialing, pastDue, churnedThisMonth });

/**
 * GET /v1/reports/mrr and /v1/reports/mrr/history: scope reports:read, behind
 * `authenticate` (app.ts). The rules (what counts, rounding, churn, test clocks) are in
 * docs/architecture.md, "Subscriptions", MRR, and the README.
 */
export function registerMrrReportRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const read = [requireScope('reports:read'), notCustomerScoped];
  const asOfOf = (text: string | undefined): Date => (text === undefined ? deps.clock.now() : new Date(text));

  route(app, 'get', '/v1/reports/mrr', ...read, async (req, res) => {
    const query = parseOrThrow(MrrReportQuery, req.query);
    await awaitReadModel(deps.readModels, MRR_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const asOf = asOfOf(query.asOf);
    const rows = await deps.mrrReports.snapshots({ instants: [instantAt(asOf, 'asOf')], currency: query.currency, testClock: query.testClock ?? null });
    sendJson(res, 200, canonicalize(MrrReportSchema, { asOf: asOf.toISOString(), data: rows.map(figures) }));
  });

  route(app, 'get', '/v1/reports/mrr/history', ...read, async (req, res) => {
    const query = parseOrThrow(MrrHistoryQuery, req.query);
    // The schema checked both are months.
    const from = parseMonth(query.from) as number;
    const to = parseMonth(query.to) as number;
    const asOf = asOfOf(query.asOf);
    if (to < from) throw validationProblem([{ path: 'to', message: 'must be the same month as from or later' }]);
    if (to - from + 1 > MAX_MRR_HISTORY_MONTHS) {
      throw validationProblem([{ path: 'to', message: `must be at most ${MAX_MRR_HISTORY_MONTHS} months from from, both included (this range has ${to - from + 1})` }]);
    }
    if (to > monthIndexOf(asOf)) {
      throw validationProblem([{ path: 'to', message: `must not be after the month of asOf (${asOf.toISOString()}): MRR is not known ahead of time` }]);
    }
    await awaitReadModel(deps.readModels, MRR_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const instants = monthInstants(from, to, asOf);
    const atOf = new Map(instants.map((i) => [i.label, i.at.toISOString()]));
    const rows = await deps.mrrReports.snapshots({ instants, currency: query.currency, testClock: query.testClock ?? null });
    const data = rows.map((row) => ({ month: row.label, at: atOf.get(row.label), ...figures(row) }));
    sendJson(res, 200, canonicalize(MrrHistorySchema, { from: query.from, to: query.to, asOf: asOf.toISOString(), data }));
  });
}
