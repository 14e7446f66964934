import { toCurrencyCode } from '../../src/domain/currency.js';
import { toPaymentId } from '../../src/domain/ids.js';
import { moneyOf } from '../../src/domain/money.js';
import type { CreatePayment, PaymentEvent } from '../../src/domain/payment/index.js';

export const PAYMENT_ID = toPaymentId('pay_01JD0000000000000000000000');
const USD = toCurrencyCode('USD');

export const createCommand = (overrides: Partial<CreatePayment> = {}): CreatePayment => ({
  type: 'CreatePayment',
  paymentId: PAYMENT_ID,
  customerId: 'cus_1',
  amount: moneyOf(10_000, 'USD'),
  paymentMethod: 'pm_card_visa',
  captureMethod: 'manual',
  description: null,
  metadata: {},
  authorization: { status: 'approved', providerPaymentId: 'pi_1' },
  ...overrides,
});

export const authorized = (amount = 10_000, currency = USD): PaymentEvent => ({
  type: 'PaymentAuthorized',
  data: {
    paymentId: PAYMENT_ID,
    customerId: 'cus_1',
    amount,
    currency,
    paymentMethod: 'pm_card_visa',
    captureMethod: 'manual',
    providerPaymentId: 'pi_1',
    description: null,
    metadata: {},
  },
});

export const captured = (amount: number, amountReleased: number): PaymentEvent => ({
  type: 'PaymentCaptured',
  data: { paymentId: PAYMENT_ID, customerId: 'cus_1', amount, currency: USD, amountReleased },
});

export const canceled = (amountReleased = 10_000): PaymentEvent => ({
  type: 'PaymentCanceled',
  data: { paymentId: PAYMENT_ID, customerId: 'cus_1', currency: USD, amountReleased, reason: null },
});

export const failed = (): PaymentEvent => ({
  type: 'PaymentFailed',
  data: {
    paymentId: PAYMENT_ID,
    customerId: 'cus_1',
    amount: 10_000,
    currency: USD,
    paymentMethod: 'pm_card_chargeDeclined',
    captureMethod: 'manual',
    providerPaymentId: 'pi_1',
    failureCode: 'card_declined',
    declineCode: 'generic_decline',
    failureMessage: 'Your card was declined.',
    description: null,
    metadata: {},
  },
});
