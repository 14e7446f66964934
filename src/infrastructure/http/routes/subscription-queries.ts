import type { Express, NextFunction, Request, Response } from 'express';
import type { Principal } from '../../../application/auth/principal.js';
import { canSeeCustomer } from '../../../application/auth/principal.js';
import type { InvoiceRecord, Page, SubscriptionRecord } from '../../../application/ports/billing-queries.js';
import type { InvalidCursor } from '../../../application/ports/payment-queries.js';
import { toInvoiceView } from '../../../application/subscriptions/invoice-view.js';
import { toSubscriptionView } from '../../../application/subscriptions/subscription-view.js';
import { isInvoiceId } from '../../../domain/ids.js';
import type { Result } from '../../../domain/result.js';
import { BILLING_PROJECTION } from '../../../projections/billing/billing-projection.js';
import { principalOf, requireScope } from '../auth.js';
import type { BillingHttpDeps, HttpDeps, HttpLimits } from '../deps.js';
import { etagFor } from '../preconditions.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { contextOf } from '../request-context.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { GetBillingResourceQuery, ListInvoicesQuery, ListSubscriptionInvoicesQuery, ListSubscriptionsQuery } from '../subscription-schemas.js';
import { LimitSchema } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { invoiceWireForm, subscriptionWireForm } from '../wire-form.js';
import { requireSubscriptionId } from './subscription-commands.js';

function requireInvoiceId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  // Not echoed: whatever was sent is not an id, and a problem is no place to reflect input.
  next(typeof id === 'string' && isInvoiceId(id) ? undefined : new HttpProblem({ code: 'invoice_not_found', detail: 'No invoice has this id.' }));
}

/**
 * The customer a list is confined to: the one asked for, or for a customer-scoped caller
 * its own (asking for another is a 403: an empty page would read as "none").
 */
function listCustomer(principal: Principal, requested: string | undefined, what: string): string | undefined {
  if (principal.customerId === null) return requested;
  if (requested !== undefined && requested !== principal.customerId) {
    throw new HttpProblem({
      code: 'forbidden',
      detail: `This credential may list only its own customer's ${what}.`,
      errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to, or absent' }],
    });
  }
  return principal.customerId;
}

const invalidCursor = (): HttpProblem =>
  new HttpProblem({ code: 'invalid_cursor', detail: 'The cursor is not one this API issued, or it has expired.', errors: [{ path: 'cursor', message: 'is not valid' }] });

/**
 * Subscription and invoice queries over the billing read model (docs/architecture.md,
 * "Subscriptions"): behind `authenticate` (app.ts), each needs subscriptions:read. A
 * customer-scoped caller sees only its customer's subscriptions and invoices; another
 * customer's is the same 404 as one that does not exist. `?minPosition=` waits for the
 * billing read model.
 */
export function registerSubscriptionQueryRoutes(app: Express, deps: HttpDeps, billing: BillingHttpDeps, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);
  const read = requireScope('subscriptions:read');
  const waitFor = (minPosition: string | undefined) => awaitReadModel(deps.readModels, BILLING_PROJECTION, minPosition, limits.minPositionWaitMs);

  /** Rows of a page a customer-scoped caller may see; the filter is the rule, this makes sure no other customer's row leaves. */
  const visible = <T>(req: Request, res: Response, page: Result<Page<T>, InvalidCursor>, customerOf: (row: T) => string, what: string): Page<T> => {
    if (!page.ok) throw invalidCursor();
    const principal = principalOf(res);
    const data = page.value.data.filter((row) => canSeeCustomer(principal, customerOf(row)));
    if (data.length !== page.value.data.length) {
      deps.logger.error({ requestId: contextOf(req).requestId, dropped: page.value.data.length - data.length }, `${what} list returned rows of another customer`);
    }
    return { data, nextCursor: page.value.nextCursor };
  };

  const subscriptionPage = (page: Page<SubscriptionRecord>): unknown[] => page.data.map((r) => subscriptionWireForm(toSubscriptionView(r.state, r.revision, r.latestInvoice)));
  const invoicePage = (page: Page<InvoiceRecord>): unknown[] => page.data.map((r) => invoiceWireForm(toInvoiceView(r.state, r.revision)));

  /** The subscription, if the caller may see it: else the 404 of one that does not exist. */
  const visibleSubscription = async (res: Response, id: string): Promise<SubscriptionRecord> => {
    const found = await billing.queries.subscription(id);
    if (!found || !canSeeCustomer(principalOf(res), found.state.customerId)) {
      throw new HttpProblem({ code: 'subscription_not_found', detail: `No subscription has the id ${id}.` });
    }
    return found;
  };

  route(app, 'get', '/v1/subscriptions/:id', read, requireSubscriptionId, async (req, res) => {
    const query = parseOrThrow(GetBillingResourceQuery, req.query);
    await waitFor(query.minPosition);
    const found = await visibleSubscription(res, String(req.params.id));
    sendJson(res, 200, subscriptionWireForm(toSubscriptionView(found.state, found.revision, found.latestInvoice)), { etag: etagFor(found.revision) });
  });

  route(app, 'get', '/v1/subscriptions', read, async (req, res) => {
    const query = parseOrThrow(ListSubscriptionsQuery, req.query);
    const customerId = listCustomer(principalOf(res), query.customerId, 'subscriptions');
    await waitFor(query.minPosition);
    const page = visible(
      req,
      res,
      await billing.queries.subscriptions({ customerId, status: query.status, limit: query.limit ?? defaultLimit, cursor: query.cursor }),
      (r) => r.state.customerId,
      'subscription',
    );
    sendJson(res, 200, { data: subscriptionPage(page), nextCursor: page.nextCursor });
  });

  route(app, 'get', '/v1/subscriptions/:id/invoices', read, requireSubscriptionId, async (req, res) => {
    const query = parseOrThrow(ListSubscriptionInvoicesQuery, req.query);
    await waitFor(query.minPosition);
    const subscription = await visibleSubscription(res, String(req.params.id));
    const page = visible(
      req,
      res,
      await billing.queries.invoices({
        subscriptionId: subscription.state.subscriptionId,
        status: query.status,
        limit: query.limit ?? defaultLimit,
        cursor: query.cursor,
      }),
      (r) => r.state.customerId,
      'invoice',
    );
    sendJson(res, 200, { data: invoicePage(page), nextCursor: page.nextCursor });
  });

  route(app, 'get', '/v1/invoices/:id', read, requireInvoiceId, async (req, res) => {
    const query = parseOrThrow(GetBillingResourceQuery, req.query);
    await waitFor(query.minPosition);
    const id = String(req.params.id);
    const found = await billing.queries.invoice(id);
    if (!found || !canSeeCustomer(principalOf(res), found.state.customerId)) {
      throw new HttpProblem({ code: 'invoice_not_found', detail: `No invoice has the id ${id}.` });
    }
    sendJson(res, 200, invoiceWireForm(toInvoiceView(found.state, found.revision)), { etag: etagFor(found.revision) });
  });

  route(app, 'get', '/v1/invoices', read, async (req, res) => {
    const query = parseOrThrow(ListInvoicesQuery, req.query);
    const customerId = listCustomer(principalOf(res), query.customerId, 'invoices');
    await waitFor(query.minPosition);
    const page = visible(
      req,
      res,
      await billing.queries.invoices({
        customerId,
        subscriptionId: query.subscriptionId,
        status: query.status,
        limit: query.limit ?? defaultLimit,
        cursor: query.cursor,
      }),
      (r) => r.state.customerId,
      'invoice',
    );
    sendJson(res, 200, { data: invoicePage(page), nextCursor: page.nextCursor });
  });
}
