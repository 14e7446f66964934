import type { Express, RequestHandler } from 'express';
import type { LedgerAsOf } from '../../../application/ports/ledger-queries.js';
import { formatPosition, parsePosition } from '../../../application/ports/position.js';
import { CHART_OF_ACCOUNTS, findAccount } from '../../../domain/ledger/chart.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import {
  AccountBalanceQuery,
  AccountBalanceSchema,
  AccountsQuery,
  LedgerAccountListSchema,
  LedgerAccountNameSchema,
  ListLedgerEntriesQuery,
  TrialBalanceQuery,
  TrialBalanceSchema,
} from '../ledger-schemas.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { parseOrThrow } from '../validation.js';
import { canonicalize, ledgerEntryWireForm } from '../wire-form.js';

/** The read model these routes read, and so the one `minPosition` (and a position `asOf`) waits for. */
export const LEDGER_PROJECTION = 'ledger';

const INSTANT_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A date is midnight UTC; a timestamp carries its offset (the schema required one). */
const instant = (text: string): Date => new Date(INSTANT_DATE.test(text) ? `${text}T00:00:00Z` : text);

/**
 * The ledger spans every customer, so a customer-scoped credential may not read it even
 * with ledger:read (the realtime `ledger` topic refuses it the same way).
 */
const notCustomerScoped: RequestHandler = (_req, res, next) => {
  if (principalOf(res).customerId === null) {
    next();
    return;
  }
  next(new HttpProblem({ code: 'forbidden', detail: 'The ledger spans every customer; a customer-scoped credential cannot read it.' }));
};

/**
 * GET /v1/ledger/…: the chart of accounts, point-in-time balances, the journal, and the
 * trial balance. Scope ledger:read. See docs/architecture.md, "Recipes" (a new endpoint)
 * and the README's ledger section for the chart and posting rules.
 */
export function registerLedgerRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const read = [requireScope('ledger:read'), notCustomerScoped];
  const waitFor = (minPosition: string | undefined) => awaitReadModel(deps.readModels, LEDGER_PROJECTION, minPosition, limits.minPositionWaitMs);

  /** A position asOf is read only once the ledger has it, so the figure cannot change later. */
  async function asOfOf(text: string | undefined): Promise<LedgerAsOf | undefined> {
    if (text === undefined) return undefined;
    const position = parsePosition(text);
    if (position) {
      await waitFor(text);
      return { kind: 'position', position };
    }
    return { kind: 'time', at: new Date(text) };
  }
  const asOfAnswer = (asOf: LedgerAsOf | undefined, checkpoint: string | null): string | null => {
    if (!asOf) return checkpoint;
    return asOf.kind === 'position' ? formatPosition(asOf.position) : asOf.at.toISOString();
  };

  route(app, 'get', '/v1/ledger/accounts', ...read, (req, res) => {
    parseOrThrow(AccountsQuery, req.query);
    const data = CHART_OF_ACCOUNTS.map((a) => ({ name: a.name, object: 'ledger_account', kind: a.kind, normalBalance: a.normalBalance, description: a.description, active: a.active }));
    sendJson(res, 200, canonicalize(LedgerAccountListSchema, { data }));
  });

  route(app, 'get', '/v1/ledger/accounts/:account/balance', ...read, async (req, res) => {
    const name = String(req.params.account);
    const account = LedgerAccountNameSchema.safeParse(name).success ? findAccount(name) : undefined;
    if (!account) throw new HttpProblem({ code: 'account_not_found', detail: `The chart of accounts has no account named ${JSON.stringify(name.slice(0, 64))}; GET /v1/ledger/accounts lists them.` });
    const query = parseOrThrow(AccountBalanceQuery, req.query);
    await waitFor(query.minPosition);
    const asOf = await asOfOf(query.asOf);
    const totals = await deps.ledgerQueries.accountTotals(account.name, query.currency, asOf);
    const rows = totals.data.length === 0 && query.currency !== undefined ? [{ currency: query.currency, debits: 0, credits: 0 }] : totals.data;
    const body = {
      object: 'ledger_account_balance',
      account: account.name,
      kind: account.kind,
      normalBalance: account.normalBalance,
      asOf: asOfAnswer(asOf, totals.checkpoint),
      data: rows.map((r) => ({ ...r, balance: account.normalBalance === 'debit' ? r.debits - r.credits : r.credits - r.debits })),
    };
    sendJson(res, 200, canonicalize(AccountBalanceSchema, body));
  });

  route(app, 'get', '/v1/ledger/entries', ...read, async (req, res) => {
    const query = parseOrThrow(ListLedgerEntriesQuery, req.query);
    if (query.account !== undefined && !findAccount(query.account)) {
      throw new HttpProblem({ code: 'account_not_found', detail: `The chart of accounts has no account named ${query.account}.` });
    }
    await waitFor(query.minPosition);
    const page = await deps.ledgerQueries.entries({
      account: query.account,
      paymentId: query.paymentId,
      from: query.from === undefined ? undefined : instant(query.from),
      to: query.to === undefined ? undefined : instant(query.to),
      limit: query.limit,
      cursor: query.cursor,
    });
    if (!page.ok) {
      throw new HttpProblem({
        code: 'invalid_cursor',
        detail: 'The cursor is not one this API issued.',
        errors: [{ path: 'cursor', message: 'is not valid' }],
      });
    }
    sendJson(res, 200, { data: page.value.data.map(ledgerEntryWireForm), nextCursor: page.value.nextCursor });
  });

  route(app, 'get', '/v1/ledger/trial-balance', ...read, async (req, res) => {
    const query = parseOrThrow(TrialBalanceQuery, req.query);
    await waitFor(query.minPosition);
    const asOf = await asOfOf(query.asOf);
    const totals = await deps.ledgerQueries.trialBalance(asOf);
    sendJson(res, 200, canonicalize(TrialBalanceSchema, { object: 'ledger_trial_balance', asOf: asOfAnswer(asOf, totals.checkpoint), data: totals.data }));
  });
}
