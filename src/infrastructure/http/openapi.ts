import { z } from 'zod';
import { IDEMPOTENT_REPLAYED_HEADER, LEDGER_POSITION_HEADER } from './command-runner.js';
import { LEDGER_RESPONSE_SCHEMAS, ledgerPaths } from './ledger-openapi.js';
import { MRR_RESPONSE_SCHEMAS, mrrPaths } from './mrr-openapi.js';
import { STRIPE_WEBHOOK_RESPONSE_SCHEMAS, stripeWebhookPaths } from './stripe-webhook-openapi.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import {
  ActivityPageSchema,
  CancelPaymentBody,
  CapturePaymentBody,
  CreatePaymentBody,
  CreateRefundBody,
  CustomerIdSchema,
  HealthSchema,
  LimitSchema,
  PaymentIdSchema,
  PaymentListSchema,
  PaymentStatusSchema,
  PaymentViewSchema,
  PositionSchema,
  ProblemSchema,
  ProjectionStatusListSchema,
  ReadinessSchema,
  RefundIdSchema,
  RefundListSchema,
  RefundStatusSchema,
  RefundViewSchema,
  MAX_REPORT_DAYS,
  RevenueReportQuery,
  RevenueReportSchema,
} from './schemas.js';
import { CSV_CONTENT_TYPE, REVENUE_COLUMNS } from './routes/reports.js';
import { SUBSCRIPTION_REQUEST_SCHEMAS, SUBSCRIPTION_RESPONSE_SCHEMAS, subscriptionPaths } from './subscription-openapi.js';
import { WEBHOOK_REQUEST_SCHEMAS, WEBHOOK_RESPONSE_SCHEMAS, webhookPaths } from './webhook-openapi.js';
import { DISPUTE_REQUEST_SCHEMAS, DISPUTE_RESPONSE_SCHEMAS, disputePaths } from './dispute-openapi.js';

/*
 * /openapi.json, generated from the same zod schemas that validate requests, so the
 * document cannot drift from what the server accepts. Built once per app.
 */

type JsonObject = Record<string, unknown>;

const ref = (id: string): JsonObject => ({ $ref: `#/components/schemas/${id}` });

/** A standalone JSON Schema for one zod schema, without the document-level keys OpenAPI does not want inline. */
function inlineSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

function componentSchemas(entries: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(entries)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }).schemas;
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(generated)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
    out[id] = rest;
  }
  return out;
}

const header = (description: string, schema: z.ZodType): JsonObject => ({ description, schema: inlineSchema(schema) });

const IdempotencyKeyHeader = z.string().min(1).max(255).regex(/^[\x20-\x7e]+$/);
const EtagHeaderSchema = z.string().regex(/^"\d+"$/).meta({ examples: ['"3"'] });

const responseHeaders = {
  LedgerPosition: header('Where the command\'s events sit in the global log. Pass it as `minPosition` to read your own write.', PositionSchema),
  ETag: header('Strong ETag: the payment\'s stream revision, quoted. Send it back in If-Match to make a command conditional.', EtagHeaderSchema),
  IdempotentReplayed: header('`true` when this is the stored response of an earlier request with the same Idempotency-Key.', z.literal('true')),
  RetryAfter: header('Seconds to wait before retrying.', z.string().regex(/^\d+$/)),
  RequestId: header('The request\'s id (yours from X-Request-Id when it was sane, otherwise generated). Quote it when reporting a problem.', z.string()),
  Location: header('Path of the new payment.', z.string()),
  WWWAuthenticate: header('RFC 6750 bearer challenge, e.g. `Bearer realm="ledger", error="invalid_token", error_description="The token has expired"`.', z.string()),
  RateLimitLimit: header('Requests allowed per window for the allowance this request drew on (the credential\'s; after failed authentication, the client address\'s).', z.string().regex(/^\d+$/)),
  RateLimitRemaining: header('Requests left in the current window.', z.string().regex(/^\d+$/)),
  RateLimitReset: header('Seconds until the window resets.', z.string().regex(/^\d+$/)),
  RateLimitPolicy: header('`<limit>;w=<window seconds>`.', z.string()),
};

const rateLimitHeaders: JsonObject = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimitLimit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimitRemaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimitReset' },
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimitPolicy' },
};

const problem = (description: string, retryAfter = false, headers: JsonObject = {}): JsonObject => ({
  description,
  headers: {
    [REQUEST_ID_HEADER]: { $ref: '#/components/headers/RequestId' },
    ...(retryAfter ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } : {}),
    ...headers,
  },
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } },
});

/** The answers every authenticated operation can give before it runs. */
function securityResponses(scope: string): JsonObject {
  const challenge = { 'WWW-Authenticate': { $ref: '#/components/headers/WWWAuthenticate' } };
  return {
    '401': problem(
      '`unauthorized`: no credential, a malformed Authorization header, or a token that is invalid, expired or revoked (`reason` says which). Nothing was done.',
      false,
      { ...challenge, ...rateLimitHeaders },
    ),
    '403': problem(
      `\`insufficient_scope\`: the credential lacks \`${scope}\`${scope === 'admin' ? '' : ' (or `admin`)'}; or \`forbidden\`: a customer-scoped credential asked for another customer${scope === 'admin' ? ' or an operator endpoint' : ''}. Nothing was done.`,
      false,
      challenge,
    ),
    '429': problem(
      '`rate_limited`: this credential\'s allowance is spent, or (after failed authentications) this client address\'s. Retry after Retry-After seconds.',
      true,
      rateLimitHeaders,
    ),
  };
}

/** Security requirement and the description line naming the scope an operation needs. */
function secured(scope: string, description?: string): JsonObject {
  const needs =
    scope === 'admin'
      ? 'Requires scope `admin` on a credential not confined to one customer.'
      : `Requires scope \`${scope}\` (\`admin\` implies every scope).`;
  return { security: [{ bearerAuth: [scope] }], description: description ? `${needs} ${description}` : needs };
}

const CUSTOMER_SCOPED_COMMAND =
  'A customer-scoped credential acts only for its customer: creating for another is 403 `forbidden`; another customer\'s payment is 404 `payment_not_found`, as if it did not exist.';

const json = (description: string, schemaRef: string, headers: JsonObject = {}): JsonObject => ({
  description,
  headers: { [REQUEST_ID_HEADER]: { $ref: '#/components/headers/RequestId' }, ...headers },
  content: { 'application/json': { schema: ref(schemaRef) } },
});

const commandSuccessHeaders = (withLocation: boolean): JsonObject => ({
  [LEDGER_POSITION_HEADER]: { $ref: '#/components/headers/LedgerPosition' },
  ETag: { $ref: '#/components/headers/ETag' },
  [IDEMPOTENT_REPLAYED_HEADER]: { $ref: '#/components/headers/IdempotentReplayed' },
  ...(withLocation ? { Location: { $ref: '#/components/headers/Location' } } : {}),
});

const p = (name: string): JsonObject => ({ $ref: `#/components/parameters/${name}` });

function commandErrorResponses(bodyLimitBytes: number, onExisting: boolean): JsonObject {
  return {
    '400': problem('Validation failed (`errors` names each field), malformed JSON, or a malformed If-Match / Idempotency-Key header. Nothing was written.'),
    ...(onExisting ? { '404': problem('No such payment (including a malformed id).') } : {}),
    '409': problem(
      onExisting
        ? '`illegal_transition` (the payment\'s status does not allow this), `payment_operation_pending` (a capture or cancel is still with the payment provider; Retry-After), `concurrency_conflict`, or `idempotency_key_in_use` (a request with the same key is still running; Retry-After).'
        : '`payment_already_exists`, or `idempotency_key_in_use` (a request with the same key is still running; Retry-After).',
      true,
    ),
    ...(onExisting ? { '412': problem('`revision_mismatch`: If-Match did not match the payment\'s current revision (see `currentRevision`).') } : {}),
    '413': problem(`The body is larger than ${bodyLimitBytes} bytes.`),
    '415': problem('The body is not application/json.'),
    '422': problem(
      onExisting
        ? '`capture_exceeds_authorized`, `invalid_amount`, or `idempotency_key_reused` (the key was first used with a different request).'
        : '`provider_invalid_request` (e.g. an unknown payment method; `errors` names the field), `invalid_amount`, or `idempotency_key_reused`.',
    ),
    '500': problem('Unexpected error; quote the request id. With an Idempotency-Key, retrying is safe.'),
    '502': problem('`provider_failed`: the payment provider refused the operation.'),
    '503': problem('`provider_unavailable` or `request_timeout`: retry after Retry-After (with the same Idempotency-Key).', true),
  };
}

/** The revenue report's query parameters, from the schema that validates them. */
function reportParameters(): Record<string, JsonObject> {
  const shape = RevenueReportQuery.shape;
  return {
    ReportFrom: { name: 'from', in: 'query', required: true, description: 'First UTC day included.', schema: inlineSchema(shape.from) },
    ReportTo: { name: 'to', in: 'query', required: true, description: 'Last UTC day included.', schema: inlineSchema(shape.to) },
    ReportGranularity: { name: 'granularity', in: 'query', required: false, schema: inlineSchema(shape.granularity) },
    ReportCurrency: { name: 'currency', in: 'query', required: false, schema: inlineSchema(shape.currency) },
  };
}

export interface OpenApiOptions {
  readonly bodyLimitBytes: number;
  /** Whether GET /metrics needs an admin credential. */
  readonly metricsAuth?: 'none' | 'admin';
}

export function buildOpenApiDocument(options: OpenApiOptions): JsonObject {
  const requestSchemas = componentSchemas(
    {
      CreatePaymentRequest: CreatePaymentBody,
      CapturePaymentRequest: CapturePaymentBody,
      CancelPaymentRequest: CancelPaymentBody,
      CreateRefundRequest: CreateRefundBody,
      ...SUBSCRIPTION_REQUEST_SCHEMAS,
      ...WEBHOOK_REQUEST_SCHEMAS,
      ...DISPUTE_REQUEST_SCHEMAS,
    },
    'input',
  );
  const responseSchemas = componentSchemas(
    {
      Payment: PaymentViewSchema,
      Refund: RefundViewSchema,
      PaymentList: PaymentListSchema,
      RefundList: RefundListSchema,
      ActivityPage: ActivityPageSchema,
      Problem: ProblemSchema,
      ProjectionStatusList: ProjectionStatusListSchema,
      Health: HealthSchema,
      Readiness: ReadinessSchema,
      ...LEDGER_RESPONSE_SCHEMAS,
      RevenueReport: RevenueReportSchema,
      ...MRR_RESPONSE_SCHEMAS,
      ...SUBSCRIPTION_RESPONSE_SCHEMAS,
      ...WEBHOOK_RESPONSE_SCHEMAS,
      ...STRIPE_WEBHOOK_RESPONSE_SCHEMAS,
      ...DISPUTE_RESPONSE_SCHEMAS,
    },
    'output',
  );

  const commandParameters = [p('IdempotencyKey'), p('RequestId')];
  const onPaymentParameters = [p('PaymentId'), p('IfMatch'), ...commandParameters];
  /** A command on one payment (capture, cancel): optional body, the payment back. */
  const paymentCommand = (operationId: string, summary: string, description: string, requestSchema: string, answer: string): JsonObject => ({
    post: {
      operationId,
      summary,
      ...secured('payments:write', description),
      parameters: onPaymentParameters,
      requestBody: { required: false, content: { 'application/json': { schema: ref(requestSchema) } } },
      responses: {
        '200': json(answer, 'Payment', { ...commandSuccessHeaders(false), ...rateLimitHeaders }),
        ...commandErrorResponses(options.bodyLimitBytes, true),
        ...securityResponses('payments:write'),
      },
    },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Ledger',
      version: '1.0.0',
      description: [
        'Event-sourced payments. Commands (POST) append events and answer with `Ledger-Position` and a strong `ETag` (the stream revision).',
        'Queries read projections; pass `?minPosition=<Ledger-Position>` to wait (at most 5 s) until your write is visible.',
        'Every POST takes an `Idempotency-Key`: the same key with the same request replays the first response byte for byte (`Idempotent-Replayed: true`);',
        'with a different request it is a 422; while the first is still running, a 409. Keys are kept for 24 hours. Errors are RFC 9457 problem details.',
        'Every /v1 operation needs `Authorization: Bearer <token>` (a JWT or an API key) carrying the scope the operation names: `payments:write` for commands,',
        '`payments:read` for queries, `admin` (which implies every scope) for /v1/admin. A missing or bad credential is 401 with `WWW-Authenticate`; a missing scope, 403.',
        '`subscriptions:write` / `subscriptions:read` for subscriptions, invoices and test clocks.',
        'A customer-scoped credential sees and touches only its customer\'s payments, subscriptions and invoices. Requests are rate limited per credential, and failed authentications per',
        'client address (429 with Retry-After; RateLimit-* headers describe the allowance). /healthz, /readyz and /openapi.json need no credential.',
      ].join(' '),
    },
    security: [{ bearerAuth: [] }],
    paths: {
      '/v1/payments': {
        post: {
          operationId: 'createPayment',
          summary: 'Create a payment (authorize, and capture unless captureMethod is manual)',
          ...secured(
            'payments:write',
            'A card the provider declines still creates the payment: the answer is 201 with `status: "failed"` and `failure` saying why. ' +
              'An unknown payment method creates nothing: 422 `provider_invalid_request` naming `paymentMethod`. ' +
              CUSTOMER_SCOPED_COMMAND,
          ),
          parameters: commandParameters,
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreatePaymentRequest') } } },
          responses: {
            '201': json('The payment, as created: `requires_capture`, `succeeded`, or `failed` (declined).', 'Payment', { ...commandSuccessHeaders(true), ...rateLimitHeaders }),
            ...commandErrorResponses(options.bodyLimitBytes, false),
            ...securityResponses('payments:write'),
          },
        },
        get: {
          operationId: 'listPayments',
          summary: 'List payments, newest first',
          ...secured(
            'payments:read',
            'A customer-scoped credential lists only its customer\'s payments: without `customerId` that filter is implied; `customerId` naming another customer is 403 `forbidden`.',
          ),
          parameters: [p('CustomerIdQuery'), p('StatusQuery'), p('Limit'), p('Cursor'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': json('A page of payments.', 'PaymentList', rateLimitHeaders),
            '400': problem('A query parameter is invalid (`errors` names it), including an unknown parameter or an invalid cursor.'),
            '503': problem('`read_model_behind`: the read model did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/customers/{id}/activity': {
        get: {
          operationId: 'listCustomerActivity',
          summary: 'A customer\'s activity timeline, newest first',
          ...secured(
            'payments:read',
            'One entry per payment created, captured, canceled or failed, per refund requested, succeeded or failed, ' +
              'per subscription fact (created, renewed, activated, past due, unpaid, expired, canceled, paused, resumed, price changed, ' +
              'cancel-at-period-end or payment method changed) and per invoice issued, paid, payment failed, marked uncollectible or voided. ' +
              'A customer-scoped credential reads only its own customer: another customer is 403 `forbidden`. ' +
              'Live entries reach `customer:<id>` Socket.IO subscribers as `change` messages of type `activity`.',
          ),
          parameters: [
            { name: 'id', in: 'path', required: true, schema: inlineSchema(CustomerIdSchema) },
            p('Limit'),
            p('Cursor'),
            p('MinPosition'),
            p('RequestId'),
          ],
          responses: {
            '200': json('A page of entries, newest first.', 'ActivityPage', rateLimitHeaders),
            '400': problem('A parameter is invalid (`errors` names it), including an unknown parameter or an invalid cursor.'),
            '503': problem('`read_model_behind`: the activity feed did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/payments/{id}': {
        get: {
          operationId: 'getPayment',
          summary: 'Get a payment',
          ...secured('payments:read', 'Another customer\'s payment is, for a customer-scoped credential, 404 as if it did not exist.'),
          parameters: [p('PaymentId'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': json('The payment.', 'Payment', { ETag: { $ref: '#/components/headers/ETag' }, ...rateLimitHeaders }),
            '304': { description: 'Not modified (If-None-Match matched the ETag).' },
            '400': problem('A query parameter is invalid.'),
            '404': problem('No such payment (including a malformed id, and another customer\'s payment for a customer-scoped credential).'),
            '503': problem('`read_model_behind`: the read model did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/payments/{id}/capture': paymentCommand(
        'capturePayment',
        'Capture an authorized payment, fully or partly',
        `The rest of the authorization is released. The body is optional. ${CUSTOMER_SCOPED_COMMAND}`,
        'CapturePaymentRequest',
        'The captured payment.',
      ),
      '/v1/payments/{id}/cancel': paymentCommand(
        'cancelPayment',
        'Cancel an authorized payment, releasing the authorization',
        `The body is optional. ${CUSTOMER_SCOPED_COMMAND}`,
        'CancelPaymentRequest',
        'The canceled payment.',
      ),
      '/v1/reports/revenue': {
        get: {
          operationId: 'revenueReport',
          summary: 'Revenue per UTC day or month and currency: gross captured, refunded, net, and counts',
          ...secured(
            'reports:read',
            'Days are UTC: an event counts on the UTC date of its `occurredAt`. A customer-scoped credential is 403 `forbidden` (reports sum every customer). ' +
              `The range is at most ${MAX_REPORT_DAYS} days, both ends included. \`Accept: text/csv\` answers the same rows as CSV with a header line; ` +
              'either form is streamed page by page, so a long range starts arriving at once.',
          ),
          parameters: [p('ReportFrom'), p('ReportTo'), p('ReportGranularity'), p('ReportCurrency'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': {
              description: 'The report, in (period, currency) order.',
              headers: { [REQUEST_ID_HEADER]: { $ref: '#/components/headers/RequestId' }, ...rateLimitHeaders },
              content: {
                'application/json': { schema: ref('RevenueReport') },
                [CSV_CONTENT_TYPE.split(';')[0] as string]: {
                  schema: { type: 'string', description: `A header line \`${REVENUE_COLUMNS.join(',')}\`, then one CRLF-terminated line per row.` },
                },
              },
            },
            '400': problem('A query parameter is invalid (`errors` names it): a date that is not `YYYY-MM-DD` or does not exist, `to` before `from`, a range too long, an unknown currency or parameter.'),
            '503': problem('`read_model_behind`: the read model did not reach minPosition in time.', true),
            ...securityResponses('reports:read'),
          },
        },
      },
      '/v1/refunds': {
        post: {
          operationId: 'createRefund',
          summary: 'Refund a succeeded payment, in full or in part',
          ...secured(
            'refunds:write',
            'Reserves the amount on the payment (refundable = captured − refunded − reserved), then asks the processor. ' +
              'The answer is the refund as it stands: `succeeded`, `failed`, or `pending` while the processor is still working ' +
              '(the service finishes it in the background). If-Match is not supported here (400). ' +
              'A customer-scoped credential may refund only its customer\'s payments (another\'s is 404).',
          ),
          parameters: commandParameters,
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateRefundRequest') } } },
          responses: {
            '201': json('The refund.', 'Refund', { ...commandSuccessHeaders(true), ...rateLimitHeaders }),
            '400': problem('Validation failed (`errors` names each field), malformed JSON, an If-Match header, or a malformed Idempotency-Key. Nothing was written.'),
            '404': problem('`payment_not_found`: no such payment (or another customer\'s).'),
            '409': problem(
              '`amount_exceeds_refundable` (`refundable` names what may still be refunded), `payment_not_refundable` (not succeeded or partially_refunded), ' +
                '`concurrency_conflict`, or `idempotency_key_in_use`.',
              true,
            ),
            '413': problem(`The body is larger than ${options.bodyLimitBytes} bytes.`),
            '415': problem('The body is not application/json.'),
            '422': problem('`idempotency_key_reused`.'),
            '500': problem('Unexpected error; quote the request id. With an Idempotency-Key, retrying is safe.'),
            '503': problem('`request_timeout` or `service_unavailable`: retry after Retry-After (with the same Idempotency-Key).', true),
            ...securityResponses('refunds:write'),
          },
        },
        get: {
          operationId: 'listRefunds',
          summary: 'List refunds, newest first',
          ...secured(
            'payments:read',
            'Filters combine. A customer-scoped credential lists only refunds of its customer\'s payments: without `customerId` that filter is implied; `customerId` naming another customer is 403 `forbidden`.',
          ),
          parameters: [p('PaymentIdQuery'), p('CustomerIdQuery'), p('RefundStatusQuery'), p('Limit'), p('Cursor'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': json('A page of refunds.', 'RefundList', rateLimitHeaders),
            '400': problem('A query parameter is invalid (`errors` names it), including an unknown parameter or an invalid cursor.'),
            '503': problem('`read_model_behind`: the refunds read model did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/refunds/{id}': {
        get: {
          operationId: 'getRefund',
          summary: 'Get a refund',
          ...secured('payments:read', 'A refund of another customer\'s payment is, for a customer-scoped credential, 404 as if it did not exist.'),
          parameters: [p('RefundId'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': json('The refund.', 'Refund', { ETag: { $ref: '#/components/headers/ETag' }, ...rateLimitHeaders }),
            '304': { description: 'Not modified (If-None-Match matched the ETag).' },
            '400': problem('A query parameter is invalid.'),
            '404': problem('`refund_not_found`: no such refund (including a malformed id, and another customer\'s refund for a customer-scoped credential).'),
            '503': problem('`read_model_behind`: the refunds read model did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/payments/{id}/refunds': {
        get: {
          operationId: 'listPaymentRefunds',
          summary: 'List a payment\'s refunds, newest first',
          ...secured('payments:read', 'Another customer\'s payment is, for a customer-scoped credential, 404 as if it did not exist.'),
          parameters: [p('PaymentId'), p('Limit'), p('Cursor'), p('MinPosition'), p('RequestId')],
          responses: {
            '200': json('A page of the payment\'s refunds.', 'RefundList', rateLimitHeaders),
            '400': problem('A query parameter is invalid, including an unknown parameter or an invalid cursor.'),
            '404': problem('`payment_not_found`: no such payment (including a malformed id, and another customer\'s payment for a customer-scoped credential).'),
            '503': problem('`read_model_behind`: a read model did not reach minPosition in time.', true),
            ...securityResponses('payments:read'),
          },
        },
      },
      '/v1/admin/projections': {
        get: {
          operationId: 'listProjections',
          summary: 'Status of every projection: checkpoint, lag, and where and why a failed one stopped',
          ...secured('admin'),
          parameters: [p('RequestId')],
          responses: { '200': json('Every projection.', 'ProjectionStatusList', rateLimitHeaders), ...securityResponses('admin') },
        },
      },
      '/healthz': {
        get: { operationId: 'liveness', summary: 'Liveness (no I/O)', security: [], responses: { '200': json('The process is up.', 'Health') } },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary: 'Readiness: every dependency check passes within its timeout',
          security: [],
          responses: {
            '200': json('Ready.', 'Readiness'),
            '503': problem('`not_ready`: `checks` says which check failed or timed out.', true),
          },
        },
      },
      ...ledgerPaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }),
      ...mrrPaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }),
      ...stripeWebhookPaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }),
      ...subscriptionPaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }, options.bodyLimitBytes),
      ...webhookPaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }),
      ...disputePaths({ secured, securityResponses, json, problem, p, inlineSchema, rateLimitHeaders }),
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          ...(options.metricsAuth === 'admin' ? secured('admin') : { security: [], description: 'Open on this deployment: keep it off the public network.' }),
          responses: {
            '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...(options.metricsAuth === 'admin' ? securityResponses('admin') : {}),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A JWT or an API key (`ledger token create --scope <scopes> [--customer <id>]`). Scopes: payments:write, payments:read, refunds:write, ' +
            'subscriptions:write, subscriptions:read, ledger:read, reports:read, admin (implies all). ' +
            'A token with a customer is confined to that customer\'s payments, refunds, subscriptions and invoices.',
        },
      },
      schemas: { ...requestSchemas, ...responseSchemas },
      headers: responseHeaders,
      parameters: {
        PaymentId: { name: 'id', in: 'path', required: true, schema: inlineSchema(PaymentIdSchema) },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Makes the POST safe to retry: 1 to 255 printable ASCII characters, unique per operation (a UUID is ideal). Kept 24 hours.',
          schema: inlineSchema(IdempotencyKeyHeader),
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The resource\'s ETag (a payment\'s, a subscription\'s): the command applies only if it is still at that revision (else 412).',
          schema: inlineSchema(EtagHeaderSchema),
        },
        RequestId: {
          name: REQUEST_ID_HEADER,
          in: 'header',
          required: false,
          description: 'Your id for the request (1 to 128 of A-Z a-z 0-9 . _ : -); echoed, logged, and recorded as the correlation id of the events.',
          schema: inlineSchema(z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/)),
        },
        MinPosition: {
          name: 'minPosition',
          in: 'query',
          required: false,
          description: 'Wait (at most 5 s) until the read model has applied this Ledger-Position; 503 with Retry-After if it does not in time.',
          schema: inlineSchema(PositionSchema),
        },
        CustomerIdQuery: {
          name: 'customerId',
          in: 'query',
          required: false,
          description: 'Only this customer\'s payments. Implied for a customer-scoped credential; another customer than its own is 403.',
          schema: inlineSchema(CustomerIdSchema),
        },
        StatusQuery: { name: 'status', in: 'query', required: false, schema: inlineSchema(PaymentStatusSchema) },
        RefundId: { name: 'id', in: 'path', required: true, schema: inlineSchema(RefundIdSchema) },
        PaymentIdQuery: { name: 'paymentId', in: 'query', required: false, description: 'Only this payment\'s refunds.', schema: inlineSchema(PaymentIdSchema) },
        RefundStatusQuery: { name: 'status', in: 'query', required: false, schema: inlineSchema(RefundStatusSchema) },
        Limit: { name: 'limit', in: 'query', required: false, schema: inlineSchema(LimitSchema) },
        ...reportParameters(),
        Cursor: { name: 'cursor', in: 'query', required: false, description: 'nextCursor of the previous page.', schema: inlineSchema(z.string().min(1).max(512)) },
      },
    },
  };
}
