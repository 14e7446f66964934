/**
 * RFC 9457 problem details: every error this API answers is one of these, served as
 * `application/problem+json`. `code` is the stable, machine-readable name; `type` is the
 * same name as a URI, so a client can use either.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://ledger.dev/problems/';

export interface FieldError {
  /** Dotted path into the request: `amount`, `metadata.order_id`, or a header / query name. */
  readonly path: string;
  readonly message: string;
}

/** What the problem catalogue knows about each code: the HTTP status and a fixed title. */
const CATALOGUE = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_cursor: { status: 400, title: 'The cursor is not valid' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  insufficient_scope: { status: 403, title: 'The credential lacks the scope this needs' },
  not_found: { status: 404, title: 'No such resource' },
  payment_not_found: { status: 404, title: 'No such payment' },
  refund_not_found: { status: 404, title: 'No such refund' },
  account_not_found: { status: 404, title: 'No such ledger account' },
  subscription_not_found: { status: 404, title: 'No such subscription' },
  invoice_not_found: { status: 404, title: 'No such invoice' },
  test_clock_not_found: { status: 404, title: 'No such test clock' },
  // outbound webhooks
  webhook_endpoint_not_found: { status: 404, title: 'No such webhook endpoint' },
  webhook_delivery_not_found: { status: 404, title: 'No such webhook delivery' },
  webhook_delivery_in_flight: { status: 409, title: 'The delivery is being sent right now' },
  webhook_url_refused: { status: 422, title: 'The webhook URL may not be used' },
  dispute_not_found: { status: 404, title: 'No such dispute' },
  dispute_not_accepting_evidence: { status: 409, title: 'The dispute takes no more evidence' },
  dispute_inconsistent: { status: 409, title: 'The processor\'s dispute contradicts ours' },
  dispute_evidence_unsupported: { status: 501, title: 'This payment provider cannot submit dispute evidence' },
  revision_mismatch: { status: 412, title: 'The resource has changed' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request body must be JSON' },
  illegal_transition: { status: 409, title: 'The payment cannot do that in its current status' },
  payment_already_exists: { status: 409, title: 'The payment already exists' },
  payment_operation_pending: { status: 409, title: 'An operation on the payment is still with the payment provider' },
  concurrency_conflict: { status: 409, title: 'The resource was changed concurrently' },
  subscription_already_exists: { status: 409, title: 'The subscription already exists' },
  subscription_ended: { status: 409, title: 'The subscription has ended' },
  illegal_subscription_transition: { status: 409, title: 'The subscription cannot do that in its current status' },
  subscription_not_due: { status: 409, title: 'Nothing is due on the subscription yet' },
  test_clock_already_exists: { status: 409, title: 'The test clock already exists' },
  test_clock_advancing: { status: 409, title: 'The test clock is advancing' },
  payment_not_refundable: { status: 409, title: 'The payment cannot be refunded in its current status' },
  amount_exceeds_refundable: { status: 409, title: 'The refund exceeds what is still refundable' },
  idempotency_key_in_use: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with another request' },
  capture_exceeds_authorized: { status: 422, title: 'The capture exceeds the amount capturable' },
  invalid_amount: { status: 422, title: 'The amount is not valid' },
  provider_invalid_request: { status: 422, title: 'The payment provider rejected the request' },
  subscription_currency_mismatch: { status: 422, title: 'The price is in another currency than the subscription' },
  invalid_trial: { status: 422, title: 'The trial is not valid' },
  test_clock_backwards: { status: 422, title: 'A test clock only moves forward' },
  test_clock_advance_too_far: { status: 422, title: 'The advance is too long' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  provider_failed: { status: 502, title: 'The payment provider refused the operation' },
  provider_unavailable: { status: 503, title: 'The payment provider is unavailable' },
  read_model_behind: { status: 503, title: 'The read model has not caught up yet' },
  request_timeout: { status: 503, title: 'The request took too long' },
  not_ready: { status: 503, title: 'The service is not ready' },
  authentication_unavailable: { status: 503, title: 'Credentials cannot be checked right now' },
  service_unavailable: { status: 503, title: 'A service this depends on is unavailable' },
  billing_not_settled: { status: 503, title: 'The billing work could not finish' },
  // Stripe webhooks and their inbox (routes/stripe-webhooks.ts, routes/webhook-inbox.ts).
  webhook_signature_invalid: { status: 400, title: 'The webhook signature is not valid' },
  webhooks_not_configured: { status: 503, title: 'Webhooks are not configured' },
  inbox_entry_not_found: { status: 404, title: 'No such inbox entry' },
  inbox_entry_not_retryable: { status: 409, title: 'The inbox entry cannot be retried in its current status' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof CATALOGUE;
export const PROBLEM_CODES = Object.keys(CATALOGUE) as ProblemCode[];

export const problemStatus = (code: ProblemCode): number => CATALOGUE[code].status;
export const problemTitle = (code: ProblemCode): string => CATALOGUE[code].title;
export const problemType = (code: ProblemCode): string => `${PROBLEM_TYPE_BASE}${code}`;

/** A problem before it knows which request it answers. */
export interface ProblemSpec {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly errors?: readonly FieldError[] | undefined;
  /** Members beyond the standard ones, e.g. `currentRevision`. Must not reuse a standard name. */
  readonly extensions?: Readonly<Record<string, unknown>> | undefined;
  /** Seconds, for 503s, 429s and 409s a client should retry. */
  readonly retryAfterSeconds?: number | undefined;
  /** Response headers that belong to the problem, lower-case names, e.g. `www-authenticate`. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: ProblemCode;
  readonly requestId: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

export function problemDocument(spec: ProblemSpec, at: { readonly instance: string; readonly requestId: string }): ProblemDocument {
  return {
    ...(spec.extensions ?? {}),
    type: problemType(spec.code),
    title: problemTitle(spec.code),
    status: problemStatus(spec.code),
    detail: spec.detail,
    instance: at.instance,
    code: spec.code,
    requestId: at.requestId,
    ...(spec.errors ? { errors: spec.errors } : {}),
  };
}

/** Thrown by route code to answer with a problem; the error handler turns it into the response. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(readonly spec: ProblemSpec) {
    super(`${spec.code}: ${spec.detail}`);
  }
}

export const validationProblem = (errors: readonly FieldError[], detail = 'One or more fields are invalid; see errors.'): HttpProblem =>
  new HttpProblem({ code: 'validation_failed', detail, errors });
