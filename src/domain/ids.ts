import type { Brand } from './brand.js';

export type PaymentId = Brand<string, 'PaymentId'>;
export type CustomerId = Brand<string, 'CustomerId'>;

/** Prefixed, time-ordered ids: `pay_` + 26 Crockford base32 characters (48-bit time, 80-bit entropy). */
const ID_BODY = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const PAYMENT_ID_PREFIX = 'pay_';

export const isPaymentId = (value: string): value is PaymentId =>
  value.startsWith(PAYMENT_ID_PREFIX) && ID_BODY.test(value.slice(PAYMENT_ID_PREFIX.length));

/** For an id this service generated or already checked: a malformed one is a bug, so it throws. */
export function toPaymentId(value: string): PaymentId {
  if (!isPaymentId(value)) throw new Error(`not a payment id: ${JSON.stringify(value)}`);
  return value;
}

/** Customer ids come from the caller: printable, bounded, no whitespace or separators we use in topics. */
const CUSTOMER_ID = /^[A-Za-z0-9_\-.]{1,64}$/;
export const isCustomerId = (value: string): value is CustomerId => CUSTOMER_ID.test(value);

export const paymentStream = (id: PaymentId): string => `payment-${id}`;

export type RefundId = Brand<string, 'RefundId'>;
export const REFUND_ID_PREFIX = 're_';

export const isRefundId = (value: string): value is RefundId =>
  value.startsWith(REFUND_ID_PREFIX) && ID_BODY.test(value.slice(REFUND_ID_PREFIX.length));

/** For an id this service generated or already checked: a malformed one is a bug, so it throws. */
export function toRefundId(value: string): RefundId {
  if (!isRefundId(value)) throw new Error(`not a refund id: ${JSON.stringify(value)}`);
  return value;
}

export const refundStream = (id: RefundId): string => `refund-${id}`;

export type SubscriptionId = Brand<string, 'SubscriptionId'>;
export const SUBSCRIPTION_ID_PREFIX = 'sub_';

export const isSubscriptionId = (value: string): value is SubscriptionId =>
  value.startsWith(SUBSCRIPTION_ID_PREFIX) && ID_BODY.test(value.slice(SUBSCRIPTION_ID_PREFIX.length));

/** For an id this service generated or already checked: a malformed one is a bug, so it throws. */
export function toSubscriptionId(value: string): SubscriptionId {
  if (!isSubscriptionId(value)) throw new Error(`not a subscription id: ${JSON.stringify(value)}`);
  return value;
}

export const subscriptionStream = (id: SubscriptionId): string => `subscription-${id}`;

export type InvoiceId = Brand<string, 'InvoiceId'>;
export const INVOICE_ID_PREFIX = 'in_';

export const isInvoiceId = (value: string): value is InvoiceId =>
  value.startsWith(INVOICE_ID_PREFIX) && ID_BODY.test(value.slice(INVOICE_ID_PREFIX.length));

export const invoiceStream = (id: InvoiceId): string => `invoice-${id}`;

export type TestClockId = Brand<string, 'TestClockId'>;
export const TEST_CLOCK_ID_PREFIX = 'clock_';

export const isTestClockId = (value: string): value is TestClockId =>
  value.startsWith(TEST_CLOCK_ID_PREFIX) && ID_BODY.test(value.slice(TEST_CLOCK_ID_PREFIX.length));

export const testClockStream = (id: TestClockId): string => `testclock-${id}`;

export type DisputeId = Brand<string, 'DisputeId'>;
export const DISPUTE_ID_PREFIX = 'dp_';

/** Ours (`dp_` + 26 Crockford characters), not the processor's (Stripe's are `dp_1…` of another length). */
export const isDisputeId = (value: string): value is DisputeId =>
  value.startsWith(DISPUTE_ID_PREFIX) && ID_BODY.test(value.slice(DISPUTE_ID_PREFIX.length));

/** For an id this service generated or already checked: a malformed one is a bug, so it throws. */
export function toDisputeId(value: string): DisputeId {
  if (!isDisputeId(value)) throw new Error(`not a dispute id: ${JSON.stringify(value)}`);
  return value;
}

export const disputeStream = (id: DisputeId): string => `dispute-${id}`;
