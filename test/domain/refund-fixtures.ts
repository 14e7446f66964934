import { toCurrencyCode } from '../../src/domain/currency.js';
import { toRefundId } from '../../src/domain/ids.js';
import type { PaymentEvent } from '../../src/domain/payment/index.js';
import type { RefundRequested } from '../../src/domain/refund/index.js';
import { PAYMENT_ID } from './fixtures.js';

const USD = toCurrencyCode('USD');
export const REFUND_ID = toRefundId('re_01JD0000000000000000000001');
export const refundId = (n: number) => toRefundId(`re_01JE${String(n).padStart(22, '0')}`);

const ref = (id = REFUND_ID, amount: number) => ({ paymentId: PAYMENT_ID, customerId: 'cus_1', currency: USD, refundId: id, amount });

export const reserved = (amount: number, id = REFUND_ID): PaymentEvent => ({
  type: 'PaymentRefundReserved',
  data: { ...ref(id, amount), reason: 'requested_by_customer', metadata: { order: '7' } },
});
export const settled = (amount: number, id = REFUND_ID): PaymentEvent => ({ type: 'PaymentRefundSettled', data: ref(id, amount) });
export const released = (amount: number, id = REFUND_ID): PaymentEvent => ({ type: 'PaymentRefundReleased', data: { ...ref(id, amount), outcome: 'failed' } });

export const refundRequested = (amount = 1_000, id = REFUND_ID): RefundRequested => ({
  type: 'RefundRequested',
  data: { ...ref(id, amount), reason: null, metadata: {} },
});
