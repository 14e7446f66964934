import type { z } from 'zod';
import type { OpenApiHelpers } from './ledger-openapi.js';
import {
  AdvanceTestClockBody,
  CancelSubscriptionBody,
  ChangePriceBody,
  CreateSubscriptionBody,
  CreateTestClockBody,
  InvoiceIdSchema,
  InvoiceListSchema,
  InvoiceViewSchema,
  ListInvoicesQuery,
  ListSubscriptionInvoicesQuery,
  ListSubscriptionsQuery,
  SubscriptionIdSchema,
  SubscriptionListSchema,
  SubscriptionViewSchema,
  TestClockIdSchema,
  TestClockViewSchema,
  UpdateSubscriptionBody,
} from './subscription-schemas.js';

/*
 * The subscriptions', invoices' and test clocks' part of /openapi.json (docs/architecture.md,
 * "Subscriptions"). openapi.ts owns the document and hands its helpers in.
 */

type JsonObject = Record<string, unknown>;

export const SUBSCRIPTION_REQUEST_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  CreateSubscriptionRequest: CreateSubscriptionBody,
  UpdateSubscriptionRequest: UpdateSubscriptionBody,
  CancelSubscriptionRequest: CancelSubscriptionBody,
  ChangeSubscriptionPriceRequest: ChangePriceBody,
  CreateTestClockRequest: CreateTestClockBody,
  AdvanceTestClockRequest: AdvanceTestClockBody,
};

export const SUBSCRIPTION_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  Subscription: SubscriptionViewSchema,
  SubscriptionList: SubscriptionListSchema,
  Invoice: InvoiceViewSchema,
  InvoiceList: InvoiceListSchema,
  TestClock: TestClockViewSchema,
};

const WRITE = 'subscriptions:write';
const READ = 'subscriptions:read';
const CUSTOMER_SCOPED =
  'A customer-scoped credential acts only for its customer: creating for another is 403 `forbidden`; another customer\'s subscription is 404 `subscription_not_found`, as if it did not exist.';
const NOT_CUSTOMER_SCOPED = 'Test clocks belong to no customer: a customer-scoped credential is refused (403 `forbidden`) whatever its scopes.';
const ASYNC_BILLING =
  'The first invoice and its charge run in the background right after the answer (the billing process manager): a new subscription is `incomplete` ' +
  '(or `trialing`) and becomes `active` when that invoice is paid. Follow it with GET and `?minPosition=<Ledger-Position>` (the write is visible at once; ' +
  'the invoice\'s outcome shortly after), or the Socket.IO topic `subscription:<id>`. Unpaid 23 hours after creation, it ends `incomplete_expired`.';

function queryParameters(h: OpenApiHelpers, schema: z.ZodObject, skip: readonly string[]): JsonObject[] {
  const shape = schema.shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .filter(([name]) => !skip.includes(name))
    .map(([name, s]) => ({ name, in: 'query', required: false, schema: h.inlineSchema(s) }));
}

export function subscriptionPaths(h: OpenApiHelpers, bodyLimitBytes: number): JsonObject {
  const pathId = (schema: z.ZodType): JsonObject => ({ name: 'id', in: 'path', required: true, schema: h.inlineSchema(schema) });
  const successHeaders = (withLocation: boolean): JsonObject => ({
    'Ledger-Position': { $ref: '#/components/headers/LedgerPosition' },
    ETag: { $ref: '#/components/headers/ETag' },
    'Idempotent-Replayed': { $ref: '#/components/headers/IdempotentReplayed' },
    ...(withLocation ? { Location: { $ref: '#/components/headers/Location' } } : {}),
    ...h.rateLimitHeaders,
  });
  const body = (schemaRef: string, required: boolean): JsonObject => ({ required, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaRef}` } } } });
  const commandErrors = (scope: string, extra: JsonObject): JsonObject => ({
    '400': h.problem('`validation_failed` (`errors` names each field), malformed JSON, an unknown query parameter, or a malformed If-Match / Idempotency-Key header. Nothing was written.'),
    '409': h.problem('`idempotency_key_in_use` (a request with the same key is still running; Retry-After), `concurrency_conflict`, or as listed.', true),
    '413': h.problem(`The body is larger than ${bodyLimitBytes} bytes.`),
    '415': h.problem('The body is not application/json.'),
    '422': h.problem('`idempotency_key_reused` (the key was first used with a different request), or as listed.'),
    '500': h.problem('Unexpected error; quote the request id. With an Idempotency-Key, retrying is safe.'),
    '503': h.problem('`request_timeout`: retry after Retry-After (with the same Idempotency-Key).', true),
    ...extra,
    ...h.securityResponses(scope),
  });
  const onSubscription = (operationId: string, summary: string, description: string, requestRef: string | null, bodyRequired: boolean, extra: JsonObject): JsonObject => ({
    post: {
      operationId,
      summary,
      ...h.secured(WRITE, `${description} ${CUSTOMER_SCOPED}`),
      parameters: [pathId(SubscriptionIdSchema), h.p('IfMatch'), h.p('IdempotencyKey'), h.p('RequestId')],
      ...(requestRef ? { requestBody: body(requestRef, bodyRequired) } : {}),
      responses: {
        '200': h.json('The subscription as the command left it.', 'Subscription', successHeaders(false)),
        '404': h.problem('`subscription_not_found` (including a malformed id, and another customer\'s).'),
        '412': h.problem('`revision_mismatch`: If-Match did not match the subscription\'s revision (see `currentRevision`).'),
        ...commandErrors(WRITE, extra),
      },
    },
  });
  const queryErrors = (extra: JsonObject = {}): JsonObject => ({
    '400': h.problem('A query parameter is invalid (`errors` names it), including an unknown parameter or an invalid cursor.'),
    ...extra,
    '503': h.problem('`read_model_behind`: the billing read model did not reach minPosition in time.', true),
    ...h.securityResponses(READ),
  });
  const listParams = (schema: z.ZodObject): JsonObject[] => [...queryParameters(h, schema, ['limit', 'cursor', 'minPosition']), h.p('Limit'), h.p('Cursor'), h.p('MinPosition'), h.p('RequestId')];
  const ended = '`subscription_ended` (canceled or incomplete_expired), `illegal_subscription_transition` (its status does not allow this; `subscriptionStatus` says which)';

  return {
    '/v1/subscriptions': {
      post: {
        operationId: 'createSubscription',
        summary: 'Create a subscription (a price billed every interval, optionally after a trial, optionally on a test clock)',
        ...h.secured(WRITE, `${ASYNC_BILLING} A customer-scoped credential creates only for its customer and cannot use \`testClock\` (403 \`forbidden\`). If-Match is not supported (400).`),
        parameters: [h.p('IdempotencyKey'), h.p('RequestId')],
        requestBody: body('CreateSubscriptionRequest', true),
        responses: {
          '201': h.json('The subscription as created: `incomplete` or `trialing`.', 'Subscription', successHeaders(true)),
          '404': h.problem('`test_clock_not_found`: `testClock` names no test clock.'),
          ...commandErrors(WRITE, {}),
        },
      },
      get: {
        operationId: 'listSubscriptions',
        summary: 'List subscriptions, newest first',
        ...h.secured(READ, 'Filters combine. A customer-scoped credential lists only its customer\'s: without `customerId` that filter is implied; another customer is 403 `forbidden`.'),
        parameters: listParams(ListSubscriptionsQuery),
        responses: { '200': h.json('A page of subscriptions.', 'SubscriptionList', h.rateLimitHeaders), ...queryErrors() },
      },
    },
    '/v1/subscriptions/{id}': {
      get: {
        operationId: 'getSubscription',
        summary: 'Get a subscription',
        ...h.secured(READ, 'Another customer\'s subscription is, for a customer-scoped credential, 404 as if it did not exist.'),
        parameters: [pathId(SubscriptionIdSchema), h.p('MinPosition'), h.p('RequestId')],
        responses: {
          '200': h.json('The subscription.', 'Subscription', { ETag: { $ref: '#/components/headers/ETag' }, ...h.rateLimitHeaders }),
          ...queryErrors({ '404': h.problem('`subscription_not_found` (including a malformed id, and another customer\'s).') }),
        },
      },
      patch: {
        operationId: 'updateSubscription',
        summary: 'Change the payment method, cancel at period end (or undo it), or replace the metadata',
        ...h.secured(WRITE, `At least one field. ${CUSTOMER_SCOPED}`),
        parameters: [pathId(SubscriptionIdSchema), h.p('IfMatch'), h.p('IdempotencyKey'), h.p('RequestId')],
        requestBody: body('UpdateSubscriptionRequest', true),
        responses: {
          '200': h.json('The subscription as the command left it.', 'Subscription', successHeaders(false)),
          '404': h.problem('`subscription_not_found`.'),
          '412': h.problem('`revision_mismatch`.'),
          ...commandErrors(WRITE, { '409': h.problem(`${ended}, \`idempotency_key_in_use\` or \`concurrency_conflict\`.`, true) }),
        },
      },
    },
    '/v1/subscriptions/{id}/cancel': onSubscription(
      'cancelSubscription',
      'Cancel a subscription now',
      'With `prorate`, the unused part of a paid period is credited (recorded on the cancellation). To cancel at the period\'s end instead, PATCH `cancelAtPeriodEnd`.',
      'CancelSubscriptionRequest',
      false,
      { '409': h.problem(`\`subscription_ended\`, \`idempotency_key_in_use\` or \`concurrency_conflict\`.`, true) },
    ),
    '/v1/subscriptions/{id}/pause': onSubscription(
      'pauseSubscription',
      'Pause a subscription: no renewals, no invoices until resumed',
      'Only a trialing, active or past_due subscription can be paused; pausing a paused one changes nothing. No body.',
      null,
      false,
      { '409': h.problem(`${ended}, \`idempotency_key_in_use\` or \`concurrency_conflict\`.`, true) },
    ),
    '/v1/subscriptions/{id}/resume': onSubscription(
      'resumeSubscription',
      'Resume a paused subscription: a new billing cycle starts now, invoiced at once',
      'No body.',
      null,
      false,
      { '409': h.problem(`${ended}, \`idempotency_key_in_use\` or \`concurrency_conflict\`.`, true) },
    ),
    '/v1/subscriptions/{id}/change-price': onSubscription(
      'changeSubscriptionPrice',
      'Change the price, prorating the rest of the period',
      'Same interval: with `prorate` (default) an invoice credits the old price\'s unused time and charges the new price\'s. Another interval restarts the cycle now, ' +
        'invoiced in full, with a credit for the unused time. The currency cannot change. During a trial the new price applies from the trial\'s end.',
      'ChangeSubscriptionPriceRequest',
      true,
      {
        '409': h.problem(`${ended}, \`idempotency_key_in_use\` or \`concurrency_conflict\`.`, true),
        '422': h.problem('`subscription_currency_mismatch` (the price must keep the subscription\'s currency), or `idempotency_key_reused`.'),
      },
    ),
    '/v1/subscriptions/{id}/invoices': {
      get: {
        operationId: 'listSubscriptionInvoices',
        summary: 'A subscription\'s invoices, newest first',
        ...h.secured(READ, 'Another customer\'s subscription is, for a customer-scoped credential, 404 as if it did not exist.'),
        parameters: [pathId(SubscriptionIdSchema), ...listParams(ListSubscriptionInvoicesQuery)],
        responses: {
          '200': h.json('A page of invoices.', 'InvoiceList', h.rateLimitHeaders),
          ...queryErrors({ '404': h.problem('`subscription_not_found`.') }),
        },
      },
    },
    '/v1/invoices': {
      get: {
        operationId: 'listInvoices',
        summary: 'List invoices, newest first',
        ...h.secured(READ, 'Filters combine. A customer-scoped credential lists only its customer\'s: without `customerId` that filter is implied; another customer is 403 `forbidden`.'),
        parameters: listParams(ListInvoicesQuery),
        responses: { '200': h.json('A page of invoices.', 'InvoiceList', h.rateLimitHeaders), ...queryErrors() },
      },
    },
    '/v1/invoices/{id}': {
      get: {
        operationId: 'getInvoice',
        summary: 'Get an invoice',
        ...h.secured(READ, 'Another customer\'s invoice is, for a customer-scoped credential, 404 as if it did not exist.'),
        parameters: [pathId(InvoiceIdSchema), h.p('MinPosition'), h.p('RequestId')],
        responses: {
          '200': h.json('The invoice.', 'Invoice', { ETag: { $ref: '#/components/headers/ETag' }, ...h.rateLimitHeaders }),
          ...queryErrors({ '404': h.problem('`invoice_not_found` (including a malformed id, and another customer\'s).') }),
        },
      },
    },
    '/v1/test-clocks': {
      post: {
        operationId: 'createTestClock',
        summary: 'Create a test clock: a frozen time that subscriptions created on it live by',
        ...h.secured(WRITE, `\`frozenTime\` is Unix seconds or ISO 8601; answers show ISO 8601. If-Match is not supported (400). ${NOT_CUSTOMER_SCOPED}`),
        parameters: [h.p('IdempotencyKey'), h.p('RequestId')],
        requestBody: body('CreateTestClockRequest', true),
        responses: { '201': h.json('The test clock, `ready`.', 'TestClock', successHeaders(true)), ...commandErrors(WRITE, {}) },
      },
    },
    '/v1/test-clocks/{id}': {
      get: {
        operationId: 'getTestClock',
        summary: 'Get a test clock, with every advance (who asked, from, to, when it finished)',
        ...h.secured(READ, `Read from the clock's own stream: always current. ${NOT_CUSTOMER_SCOPED}`),
        parameters: [pathId(TestClockIdSchema), h.p('RequestId')],
        responses: {
          '200': h.json('The test clock.', 'TestClock', { ETag: { $ref: '#/components/headers/ETag' }, ...h.rateLimitHeaders }),
          '400': h.problem('A query parameter is invalid.'),
          '404': h.problem('`test_clock_not_found`.'),
          ...h.securityResponses(READ),
        },
      },
    },
    '/v1/test-clocks/{id}/advance': {
      post: {
        operationId: 'advanceTestClock',
        summary: 'Move a test clock forward, running everything that falls due on it in between; answers when done',
        ...h.secured(
          WRITE,
          'Renewals, invoices, charges, dunning retries and incomplete expiries of the clock\'s subscriptions run in time order, each at its due time on the clock; ' +
            'the answer (200, `ready`) comes when all of it has, so a test can assert right after. Not 202: there is no later point to poll for. ' +
            'Other clocks and real-clock subscriptions are untouched. The advance is recorded with who asked. ' +
            'An advance longer than the request timeout answers 503 `request_timeout` while it goes on: ask for the same `frozenTime` again, which waits for it. ' +
            `If-Match is not supported (400). ${NOT_CUSTOMER_SCOPED}`,
        ),
        parameters: [pathId(TestClockIdSchema), h.p('IdempotencyKey'), h.p('RequestId')],
        requestBody: body('AdvanceTestClockRequest', true),
        responses: {
          '200': h.json('The test clock, `ready` at the new time.', 'TestClock', successHeaders(false)),
          '404': h.problem('`test_clock_not_found`.'),
          ...commandErrors(WRITE, {
            '409': h.problem('`test_clock_advancing` (another advance, to another time, is running; Retry-After), `idempotency_key_in_use` or `concurrency_conflict`.', true),
            '422': h.problem('`test_clock_backwards` (not later than the frozen time), `test_clock_advance_too_far` (more than two years at once), or `idempotency_key_reused`.'),
            '503': h.problem('`billing_not_settled` (the processor unreachable, or the billing read model not keeping up: ask again for the same advance) or `request_timeout`.', true),
          }),
        },
      },
    },
  };
}
