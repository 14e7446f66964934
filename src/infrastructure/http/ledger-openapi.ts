import type { z } from 'zod';
import {
  AccountBalanceQuery,
  AccountBalanceSchema,
  LedgerAccountListSchema,
  LedgerEntryListSchema,
  ListLedgerEntriesQuery,
  TrialBalanceQuery,
  TrialBalanceSchema,
} from './ledger-schemas.js';

/*
 * The ledger's part of /openapi.json. openapi.ts owns the document and its helpers and
 * hands them in, so the ledger operations read like the payment ones.
 */

type JsonObject = Record<string, unknown>;

export interface OpenApiHelpers {
  readonly secured: (scope: string, description?: string) => JsonObject;
  readonly securityResponses: (scope: string) => JsonObject;
  readonly json: (description: string, schemaRef: string, headers?: JsonObject) => JsonObject;
  readonly problem: (description: string, retryAfter?: boolean) => JsonObject;
  readonly p: (name: string) => JsonObject;
  readonly inlineSchema: (schema: z.ZodType) => JsonObject;
  readonly rateLimitHeaders: JsonObject;
}

export const LEDGER_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  LedgerAccountList: LedgerAccountListSchema,
  LedgerAccountBalance: AccountBalanceSchema,
  LedgerEntryList: LedgerEntryListSchema,
  LedgerTrialBalance: TrialBalanceSchema,
};

const SCOPE = 'ledger:read';
const NOT_CUSTOMER_SCOPED = 'The ledger spans every customer: a customer-scoped credential is refused (403 `forbidden`) even with this scope.';

/** Query parameters of a strict zod object, each as an OpenAPI parameter. */
function queryParameters(h: OpenApiHelpers, schema: z.ZodObject, skip: readonly string[] = []): JsonObject[] {
  const shape = schema.shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .filter(([name]) => !skip.includes(name))
    .map(([name, s]) => ({ name, in: 'query', required: false, schema: h.inlineSchema(s) }));
}

export function ledgerPaths(h: OpenApiHelpers): JsonObject {
  const errors = (extra: JsonObject = {}): JsonObject => ({
    '400': h.problem('`validation_failed`: a query parameter is invalid (each named in `errors`).'),
    ...extra,
    '503': h.problem('`read_model_behind`: the ledger did not reach minPosition (or a position asOf) in time.', true),
    ...h.securityResponses(SCOPE),
  });
  return {
    '/v1/ledger/accounts': {
      get: {
        operationId: 'listLedgerAccounts',
        summary: 'The chart of accounts',
        ...h.secured(SCOPE, `Each account with its kind and normal balance; inactive ones are reserved for later features. ${NOT_CUSTOMER_SCOPED}`),
        parameters: [h.p('RequestId')],
        responses: { '200': h.json('Every account.', 'LedgerAccountList', h.rateLimitHeaders), ...h.securityResponses(SCOPE) },
      },
    },
    '/v1/ledger/accounts/{account}/balance': {
      get: {
        operationId: 'getLedgerAccountBalance',
        summary: 'An account\'s balance, now or at a point in time',
        ...h.secured(SCOPE, `Per currency (or only \`currency\`), shown on the account's normal side. ${NOT_CUSTOMER_SCOPED}`),
        parameters: [
          { name: 'account', in: 'path', required: true, schema: { type: 'string', examples: ['revenue'] } },
          ...queryParameters(h, AccountBalanceQuery, ['minPosition']),
          h.p('MinPosition'),
          h.p('RequestId'),
        ],
        responses: {
          '200': h.json('The balance.', 'LedgerAccountBalance', h.rateLimitHeaders),
          ...errors({ '404': h.problem('`account_not_found`: the chart of accounts has no such account.') }),
        },
      },
    },
    '/v1/ledger/entries': {
      get: {
        operationId: 'listLedgerEntries',
        summary: 'Journal entries, newest first',
        ...h.secured(SCOPE, `One entry per money-moving event, with its postings; filtered by account, payment and time, paged with \`cursor\`. ${NOT_CUSTOMER_SCOPED}`),
        parameters: [...queryParameters(h, ListLedgerEntriesQuery, ['minPosition', 'limit', 'cursor']), h.p('Limit'), h.p('Cursor'), h.p('MinPosition'), h.p('RequestId')],
        responses: {
          '200': h.json('A page of entries.', 'LedgerEntryList', h.rateLimitHeaders),
          ...errors({ '404': h.problem('`account_not_found`: `account` is not in the chart of accounts.') }),
        },
      },
    },
    '/v1/ledger/trial-balance': {
      get: {
        operationId: 'getLedgerTrialBalance',
        summary: 'Debits and credits per currency (always equal)',
        ...h.secured(SCOPE, NOT_CUSTOMER_SCOPED),
        parameters: [...queryParameters(h, TrialBalanceQuery, ['minPosition']), h.p('MinPosition'), h.p('RequestId')],
        responses: { '200': h.json('The trial balance.', 'LedgerTrialBalance', h.rateLimitHeaders), ...errors() },
      },
    },
  };
}
