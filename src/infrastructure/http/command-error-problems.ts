import type { PaymentCommandError } from '../../application/payments/payment-command-errors.js';
import type { RefundCommandError } from '../../application/ports/refund-commands.js';
import type { ProblemSpec } from './problem.js';

/** Seconds a client should wait before retrying a command the provider could not take. */
const PROVIDER_RETRY_AFTER_SECONDS = 2;

/**
 * Every way a payment command can be refused, as the problem the client sees. The switch
 * is exhaustive, so a new error code in the application layer fails to compile here
 * until someone decides its status.
 */
export function problemForCommandError(error: PaymentCommandError | RefundCommandError): ProblemSpec {
  switch (error.code) {
    case 'payment_not_found':
      return { code: 'payment_not_found', detail: `No payment has the id ${error.paymentId}.` };
    case 'payment_already_exists':
      return { code: 'payment_already_exists', detail: `A payment with the id ${error.paymentId} already exists.` };
    case 'invalid_amount':
      return { code: 'invalid_amount', detail: error.message, errors: [{ path: 'amount', message: error.message }] };
    case 'capture_exceeds_authorized':
      return {
        code: 'capture_exceeds_authorized',
        detail: `Cannot capture ${error.requested}; only ${error.capturable} is capturable.`,
        errors: [{ path: 'amount', message: `must be at most ${error.capturable}` }],
        extensions: { requested: error.requested, capturable: error.capturable },
      };
    case 'illegal_transition':
      return {
        code: 'illegal_transition',
        detail: `Cannot ${error.command} a payment whose status is ${error.from}.`,
        extensions: { paymentStatus: error.from, command: error.command },
      };
    case 'customer_forbidden':
      return {
        code: 'forbidden',
        detail: `This credential may not act for customer ${error.customerId}.`,
        errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to' }],
      };
    case 'revision_mismatch':
      return {
        code: 'revision_mismatch',
        detail:
          error.actual === null
            ? `If-Match expected revision ${error.expected}, but the payment does not exist.`
            : `If-Match expected revision ${error.expected}, but the payment is at revision ${error.actual}.`,
        extensions: { expectedRevision: error.expected, currentRevision: error.actual },
      };
    case 'concurrency_conflict':
      return {
        code: 'concurrency_conflict',
        detail: `The payment kept changing during ${error.attempts} attempts; retry the request.`,
        retryAfterSeconds: 1,
      };
    case 'provider_invalid_request':
      return {
        code: 'provider_invalid_request',
        detail: error.message,
        errors: [{ path: error.param, message: error.message }],
      };
    case 'provider_unavailable':
      // The provider's own words may name hosts or internals; the client needs only "retry".
      return {
        code: 'provider_unavailable',
        detail: 'The payment provider could not be reached; retry the request.',
        retryAfterSeconds: PROVIDER_RETRY_AFTER_SECONDS,
      };
    case 'payment_not_refundable':
    case 'amount_exceeds_refundable':
      return refundProblem(error);
    case 'refund_already_reserved':
      return { code: 'illegal_transition', detail: `Refund ${error.refundId} already has a reservation on this payment.` };
    case 'refund_reservation_not_open':
      return { code: 'illegal_transition', detail: `Refund ${error.refundId} has no open reservation (${error.reservation}).` };
    case 'payment_operation_pending':
      return {
        code: 'payment_operation_pending',
        detail: `A ${error.operation} of payment ${error.paymentId} is still with the payment provider; retry when it is answered.`,
        extensions: { pendingOperation: error.operation },
        retryAfterSeconds: PROVIDER_RETRY_AFTER_SECONDS,
      };
    case 'no_operation_pending':
      // The handlers look for the outcome before recording one: reaching here means someone else answered it meanwhile.
      return { code: 'concurrency_conflict', detail: `The ${error.operation} of payment ${error.paymentId} was answered concurrently; retry the request.`, retryAfterSeconds: 1 };
    case 'provider_failed':
      return {
        code: 'provider_failed',
        detail: `The payment provider refused the operation (${error.providerCode}).`,
        extensions: { providerCode: error.providerCode },
      };
  }
}

/** The refund refusals both payment and refund commands can answer. */
export function refundProblem(
  error: Extract<PaymentCommandError | RefundCommandError, { code: 'payment_not_refundable' | 'amount_exceeds_refundable' }>,
): ProblemSpec {
  if (error.code === 'payment_not_refundable') {
    return {
      code: 'payment_not_refundable',
      detail: `Payment ${error.paymentId} is ${error.status}; only a succeeded or partially_refunded payment can be refunded.`,
      extensions: { paymentStatus: error.status },
    };
  }
  return {
    code: 'amount_exceeds_refundable',
    detail: `Cannot refund ${error.requested}; only ${error.refundable} ${error.currency} (minor units) is still refundable.`,
    errors: [{ path: 'amount', message: `must be at most ${error.refundable}` }],
    extensions: { requested: error.requested, refundable: error.refundable, currency: error.currency },
  };
}

/**
 * Outcomes a retry with the same Idempotency-Key may turn out differently: server-side
 * failures and lost races. Their responses are not kept; the key is released instead.
 */
export const isRetryableOutcome = (status: number, code: string | undefined): boolean =>
  status >= 500 || code === 'concurrency_conflict' || code === 'payment_operation_pending';
