import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { AuthorizeRequest } from '../../src/application/ports/payment-provider.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { moneyOf } from '../../src/domain/money.js';
import { StripePaymentProvider } from '../../src/infrastructure/stripe/stripe-payment-provider.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/*
 * Saved cards (issue 10): a subscription's renewal charges a PaymentMethod saved to a Stripe
 * Customer, off-session. Through the real SDK against the fake Stripe, which keeps the API
 * reference's rules for `customer`, `off_session` and `error_on_requires_action`.
 */

const KEY = 'sk_test_fake123';
const fake = new FakeStripeServer();
let address: { host: string; port: number; protocol: 'http' };

beforeAll(async () => {
  address = await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.requests.length = 0;
});

const provider = () => new StripePaymentProvider({ secretKey: KEY, ...address, timeoutMs: 5_000, retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 } });

let keys = 0;
const request = (paymentMethod: string, saved: Pick<AuthorizeRequest, 'offSession' | 'providerCustomerId'>): AuthorizeRequest => ({
  paymentId: `pay_off${++keys}`,
  customerId: 'customer-7',
  amount: 2_000,
  currency: toCurrencyCode('USD'),
  paymentMethod,
  captureMethod: 'automatic',
  description: 'Invoice in_1',
  metadata: {},
  idempotencyKey: `create:pay_off${keys}`,
  ...saved,
});

describe('the Stripe adapter charges a saved card', () => {
  it('off-session as its customer: sends customer and off_session, and not error_on_requires_action', async () => {
    const result = await provider().authorize(request('pm_card_visa', { offSession: true, providerCustomerId: 'cus_Saved1' }));
    expect(result).toMatchObject({ status: 'approved' });
    const [sent] = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent?.params).toMatchObject({ customer: 'cus_Saved1', off_session: 'true', confirm: 'true', payment_method: 'pm_card_visa' });
    expect(sent?.params).not.toHaveProperty('error_on_requires_action');
    const intent = fake.paymentIntents.get((result as { providerPaymentId: string }).providerPaymentId);
    expect(intent).toMatchObject({ status: 'succeeded', customer: 'cus_Saved1' });
  });

  it('a card that needs authentication, off-session, is a decline with decline code authentication_required; a replay of its key is the same decline', async () => {
    const req = request('pm_card_authenticationRequired', { offSession: true, providerCustomerId: 'cus_Saved1' });
    const first = await provider().authorize(req);
    expect(first).toMatchObject({ status: 'declined', failureCode: 'authentication_required', declineCode: 'authentication_required', providerPaymentId: expect.stringMatching(/^pi_/) });
    const again = await provider().authorize(req);
    expect(again).toEqual(first);
    const sent = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent.map((s) => [s.idempotencyKey, s.replayed])).toEqual([[req.idempotencyKey, false], [req.idempotencyKey, true]]);
    expect(fake.paymentIntents.get((first as { providerPaymentId: string }).providerPaymentId)?.status).toBe('requires_payment_method');
  });

  it('on-session with a customer: sends customer and error_on_requires_action (never off_session), and a card that needs authentication still declines', async () => {
    const result = await provider().authorize(request('pm_card_authenticationRequired', { providerCustomerId: 'cus_Saved2' }));
    expect(result).toMatchObject({ status: 'declined', declineCode: 'authentication_required' });
    const [sent] = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent?.params).toMatchObject({ customer: 'cus_Saved2', error_on_requires_action: 'true' });
    expect(sent?.params).not.toHaveProperty('off_session');
  });

  it('a customer Stripe does not know is the port\'s invalid_request naming providerCustomerId, and creates nothing', async () => {
    fake.missingCustomers.add('cus_Gone');
    const before = fake.paymentIntents.size;
    const result = await provider().authorize(request('pm_card_visa', { offSession: true, providerCustomerId: 'cus_Gone' }));
    expect(result).toMatchObject({ status: 'invalid_request', param: 'providerCustomerId', message: expect.stringContaining('No such customer') });
    expect(fake.paymentIntents.size).toBe(before);
  });

  it('without a customer sends no customer', async () => {
    await provider().authorize(request('pm_card_visa', {}));
    const [sent] = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent?.params).not.toHaveProperty('customer');
  });
});

describe('the fake Stripe keeps the reference\'s rules for off-session (through the SDK directly)', () => {
  const sdk = () => new Stripe(KEY, { ...address, maxNetworkRetries: 0 });
  const base = { amount: 100, currency: 'usd', payment_method: 'pm_card_visa', payment_method_types: ['card'] };
  const refusal = (params: Stripe.PaymentIntentCreateParams) => sdk().paymentIntents.create(params).then(
    () => { throw new Error('a refusal expected'); },
    (e: unknown) => e as Stripe.errors.StripeError,
  );

  it('refuses off_session without confirm=true', async () => {
    const error = await refusal({ ...base, off_session: true });
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.param).toBe('off_session');
  });

  it('refuses off_session with error_on_requires_action', async () => {
    const error = await refusal({ ...base, confirm: true, off_session: true, error_on_requires_action: true });
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.param).toBe('error_on_requires_action');
  });

  it('refuses a customer that is not a Customer id', async () => {
    const error = await refusal({ ...base, confirm: true, customer: 'nobody' });
    expect(error.param).toBe('customer');
  });

  it('pm_card_authenticationRequired on-session, with nothing said, waits for the customer (requires_action)', async () => {
    const intent = await sdk().paymentIntents.create({ ...base, payment_method: 'pm_card_authenticationRequired', confirm: true });
    expect(intent.status).toBe('requires_action');
  });
});

describe('PaymentCommandHandlers on the Stripe adapter, off-session', () => {
  it('a renewal-like create records offSession and the customer, and its retry after a lost outcome asks Stripe the very same (same key, same parameters)', async () => {
    const store = new InMemoryEventStore();
    const handlers = new PaymentCommandHandlers(store, provider(), new SystemClock(), new SystemIdGenerator());
    const ctx: CommandContext = { correlationId: 'req-1', actor: 'billing', idempotency: { key: 'in_1:attempt:1', firstSeenAt: new Date('2026-01-01T00:00:00Z') } };
    const input = {
      customerId: 'customer-8',
      amount: moneyOf(2_000, 'USD'),
      paymentMethod: 'pm_card_authenticationRequired',
      providerCustomerId: 'cus_Saved3',
      offSession: true,
      captureMethod: 'automatic' as const,
      description: null,
      metadata: {},
    };
    let appends = 0;
    store.beforeAppend = () => (++appends === 2 ? Promise.reject(new Error('connection lost')) : Promise.resolve());
    await expect(handlers.create(input, ctx)).rejects.toThrow('connection lost');
    const result = await handlers.create(input, ctx);
    // A decline, not an outage: the payment failed with the code dunning records.
    expect(result.ok && result.value.payment).toMatchObject({ status: 'failed', providerCustomerId: 'cus_Saved3', failure: { code: 'authentication_required', declineCode: 'authentication_required' } });
    const sent = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent).toHaveLength(2);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    // Stripe replays only for the same parameters: the idempotency_error a changed request would get is not what happened.
    expect(sent.map((s) => [s.status, s.replayed])).toEqual([[402, false], [402, true]]);
    expect(sent[1]?.params).toMatchObject({ off_session: 'true', customer: 'cus_Saved3' });
  });
});
