import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { moneyOf } from '../../src/domain/money.js';
import { StripePaymentProvider } from '../../src/infrastructure/stripe/stripe-payment-provider.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

const KEY = 'sk_test_fake123';
const fake = new FakeStripeServer();
let address: { host: string; port: number; protocol: 'http' };
const sleeps: number[] = [];

beforeAll(async () => {
  address = await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.failNext(0);
  fake.hangNext(0);
  sleeps.length = 0;
});

const provider = (overrides: { maxRetries?: number; timeoutMs?: number } = {}) => new StripePaymentProvider({
  secretKey: KEY,
  ...address,
  timeoutMs: overrides.timeoutMs ?? 5_000,
  retry: {
    maxRetries: overrides.maxRetries ?? 2,
    initialDelayMs: 10,
    maxDelayMs: 40,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  },
});

let keys = 0;
const authorizeRequest = (paymentMethod: string, captureMethod: 'automatic' | 'manual', idempotencyKey = `create:pay_${++keys}`) => ({
  paymentId: `pay_${keys}`,
  amount: 5_000,
  currency: toCurrencyCode('EUR'),
  paymentMethod,
  captureMethod,
  customerId: 'cus_42',
  description: 'order 7',
  metadata: { orderId: 'ord_7' },
  idempotencyKey,
});

async function approved(captureMethod: 'automatic' | 'manual', paymentMethod = 'pm_card_visa') {
  const result = await provider().authorize(authorizeRequest(paymentMethod, captureMethod));
  if (result.status !== 'approved') throw new Error(`approved expected, got ${JSON.stringify(result)}`);
  return result.providerPaymentId;
}

describe('StripePaymentProvider against a fake Stripe, through the SDK', () => {
  it('creates and confirms an automatic-capture intent, carrying the key and our ids in metadata', async () => {
    const request = authorizeRequest('pm_card_visa', 'automatic');
    const result = await provider().authorize(request);
    expect(result).toMatchObject({ status: 'approved', providerPaymentId: expect.stringMatching(/^pi_/) });
    const intent = fake.paymentIntents.get((result as { providerPaymentId: string }).providerPaymentId);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 5_000, amount_received: 5_000, currency: 'eur', capture_method: 'automatic' });
    expect(intent?.metadata).toEqual({ orderId: 'ord_7', paymentId: request.paymentId, customerId: 'cus_42' });
    const [sent] = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent?.idempotencyKey).toBe(request.idempotencyKey);
    expect(sent?.params).toMatchObject({ amount: '5000', confirm: 'true', payment_method: 'pm_card_visa', metadata: { customerId: 'cus_42' } });
  });

  it('authorizes a manual-capture intent, then captures it in full', async () => {
    const id = await approved('manual');
    expect(fake.paymentIntents.get(id)).toMatchObject({ status: 'requires_capture', amount_capturable: 5_000 });
    expect(await provider().capture({ providerPaymentId: id, amount: 5_000, currency: 'EUR', idempotencyKey: 'capture:pay_x:5000' })).toEqual({ status: 'ok' });
    expect(fake.paymentIntents.get(id)).toMatchObject({ status: 'succeeded', amount_received: 5_000, amount_capturable: 0 });
    expect(fake.requestsTo('POST', `/v1/payment_intents/${id}/capture`)[0]?.idempotencyKey).toBe('capture:pay_x:5000');
  });

  it('captures part of an authorization with amount_to_capture; a second capture is refused as provider state, not thrown', async () => {
    const id = await approved('manual');
    expect(await provider().capture({ providerPaymentId: id, amount: 1_200, currency: 'EUR', idempotencyKey: 'capture:p:1200' })).toEqual({ status: 'ok' });
    expect(fake.requestsTo('POST', `/v1/payment_intents/${id}/capture`)[0]?.params).toEqual({ amount_to_capture: '1200' });
    expect(fake.paymentIntents.get(id)).toMatchObject({ status: 'succeeded', amount_received: 1_200, amount_capturable: 0 });
    expect(await provider().capture({ providerPaymentId: id, amount: 1_000, currency: 'EUR', idempotencyKey: 'capture:p:1000' }))
      .toMatchObject({ status: 'failed', code: 'payment_intent_unexpected_state' });
  });

  it('cancels an authorization with Stripe\'s cancellation reason', async () => {
    const id = await approved('manual');
    expect(await provider().cancel({ providerPaymentId: id, reason: 'requested_by_customer', idempotencyKey: 'cancel:p' })).toEqual({ status: 'ok' });
    expect(fake.paymentIntents.get(id)).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer', amount_capturable: 0 });
    expect(await provider().capture({ providerPaymentId: id, amount: 5_000, currency: 'EUR', idempotencyKey: 'capture:p:5000' }))
      .toMatchObject({ status: 'failed', code: 'payment_intent_unexpected_state' });
  });

  it('sends amounts in Stripe\'s minor units: 150 ISK travels as 15000', async () => {
    const result = await provider().authorize({ ...authorizeRequest('pm_card_visa', 'automatic'), amount: 150, currency: toCurrencyCode('ISK') });
    const intent = fake.paymentIntents.get((result as { providerPaymentId: string }).providerPaymentId);
    expect(intent).toMatchObject({ amount: 15_000, currency: 'isk' });
    const refund = await provider().refund({ providerPaymentId: intent?.id ?? '', amount: 50, currency: 'ISK', idempotencyKey: 're_isk' });
    expect(fake.refunds.get((refund as { providerRefundId: string }).providerRefundId)).toMatchObject({ amount: 5_000 });
  });

  it('an amount Stripe cannot count is the port\'s invalid_request and sends nothing', async () => {
    expect(await provider().authorize({ ...authorizeRequest('pm_card_visa', 'automatic'), amount: 12_345, currency: toCurrencyCode('MGA') }))
      .toMatchObject({ status: 'invalid_request', param: 'amount' });
    expect(fake.requests).toHaveLength(0);
  });

  it('an unknown intent is a failed action (resource_missing)', async () => {
    expect(await provider().cancel({ providerPaymentId: 'pi_nope', reason: null, idempotencyKey: 'cancel:q' })).toMatchObject({ status: 'failed', code: 'resource_missing' });
  });

  it('refunds part of a captured payment, the same refund for the same key', async () => {
    const id = await approved('automatic');
    const first = await provider().refund({ providerPaymentId: id, amount: 2_000, currency: 'EUR', idempotencyKey: 're_1' });
    expect(first).toMatchObject({ status: 'succeeded', providerRefundId: expect.stringMatching(/^re_/) });
    const again = await provider().refund({ providerPaymentId: id, amount: 2_000, currency: 'EUR', idempotencyKey: 're_1' });
    expect(again).toEqual(first);
    expect(fake.refunds.size).toBe([...fake.refunds.values()].filter((r) => r.payment_intent !== id).length + 1);
    expect(fake.requestsTo('POST', '/v1/refunds').map((r) => [r.idempotencyKey, r.replayed])).toEqual([['re_1', false], ['re_1', true]]);
    expect(await provider().retrieveRefund((first as { providerRefundId: string }).providerRefundId)).toEqual(first);
  });

  it('a refund of pm_card_refundFail is pending, then failed with Stripe\'s reason', async () => {
    const id = await approved('automatic', 'pm_card_refundFail');
    const pending = await provider().refund({ providerPaymentId: id, amount: 5_000, currency: 'EUR', idempotencyKey: 're_2' });
    expect(pending).toMatchObject({ status: 'pending' });
    expect(await provider().retrieveRefund((pending as { providerRefundId: string }).providerRefundId))
      .toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
  });

  it('a refund larger than what is left is a bug in the caller: it throws', async () => {
    const id = await approved('automatic');
    await expect(provider().refund({ providerPaymentId: id, amount: 5_001, currency: 'EUR', idempotencyKey: 're_3' })).rejects.toThrow(/greater than unrefunded/);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', null],
  ])('a decline of %s is a declined authorization (%s / %s) naming Stripe\'s intent', async (pm, failureCode, declineCode) => {
    const result = await provider().authorize(authorizeRequest(pm, 'manual'));
    expect(result).toMatchObject({ status: 'declined', failureCode, declineCode, providerPaymentId: expect.stringMatching(/^pi_/) });
    const intent = fake.paymentIntents.get((result as { providerPaymentId: string }).providerPaymentId);
    expect(intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: failureCode } });
  });

  it('an unknown payment method is the port\'s invalid_request, and creates nothing', async () => {
    const before = fake.paymentIntents.size;
    expect(await provider().authorize(authorizeRequest('pm_card_made_up', 'manual'))).toMatchObject({ status: 'invalid_request', param: 'paymentMethod', message: expect.stringContaining('No such PaymentMethod') });
    expect(fake.paymentIntents.size).toBe(before);
  });

  it('a 500 then success is retried with backoff and the same idempotency key: one intent', async () => {
    const before = fake.paymentIntents.size;
    fake.failNext(2);
    const request = authorizeRequest('pm_card_visa', 'manual');
    expect(await provider().authorize(request)).toMatchObject({ status: 'approved' });
    const attempts = fake.requestsTo('POST', '/v1/payment_intents');
    expect(attempts.map((a) => [a.status, a.idempotencyKey])).toEqual([[500, request.idempotencyKey], [500, request.idempotencyKey], [200, request.idempotencyKey]]);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThanOrEqual(10);
    expect(fake.paymentIntents.size).toBe(before + 1);
  });

  it('a 429 is retried too', async () => {
    fake.failNext(1, 429);
    expect(await provider().authorize(authorizeRequest('pm_card_visa', 'manual'))).toMatchObject({ status: 'approved' });
    expect(fake.requestsTo('POST', '/v1/payment_intents').map((a) => a.status)).toEqual([429, 200]);
  });

  it('past the retry bound, 5xx is ProviderUnavailable and nothing was created', async () => {
    const before = fake.paymentIntents.size;
    fake.failNext(10, 503);
    await expect(provider({ maxRetries: 2 }).authorize(authorizeRequest('pm_card_visa', 'manual'))).rejects.toBeInstanceOf(ProviderUnavailable);
    expect(fake.requestsTo('POST', '/v1/payment_intents')).toHaveLength(3);
    expect(fake.paymentIntents.size).toBe(before);
  });

  it('a Stripe that never answers times out, is retried with the same key, then is ProviderUnavailable', async () => {
    const id = await approved('manual');
    fake.requests.length = 0;
    fake.hangNext(10);
    const error = await provider({ maxRetries: 1, timeoutMs: 150 }).capture({ providerPaymentId: id, amount: 5_000, currency: 'EUR', idempotencyKey: 'capture:h:5000' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    const attempts = fake.requestsTo('POST', `/v1/payment_intents/${id}/capture`);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((a) => a.idempotencyKey))).toEqual(new Set(['capture:h:5000']));
    fake.hangNext(0);
    expect(await provider().capture({ providerPaymentId: id, amount: 5_000, currency: 'EUR', idempotencyKey: 'capture:h:5000' })).toEqual({ status: 'ok' });
  });

  it('a rejected key is loud: not a domain outcome', async () => {
    const bad = new StripePaymentProvider({ secretKey: 'sk_test_wrong-key', ...address, retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 } });
    await expect(bad.authorize(authorizeRequest('pm_card_visa', 'manual'))).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });
});

describe('the fake Stripe keeps Stripe\'s idempotency rules (through the SDK directly)', () => {
  const sdk = () => new Stripe(KEY, { ...address, maxNetworkRetries: 0 });

  it('the same key with other parameters is a 400 idempotency_error; with the same ones, a replay', async () => {
    const params = { amount: 100, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, payment_method_types: ['card'] };
    const a = await sdk().paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    const b = await sdk().paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    expect(b.id).toBe(a.id);
    const error = await sdk().paymentIntents.create({ ...params, amount: 101 }, { idempotencyKey: 'idem-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(400);
  });

  it('a decline is saved for its key and replayed as the same decline', async () => {
    const params = { amount: 100, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true };
    const decline = () => sdk().paymentIntents.create(params, { idempotencyKey: 'idem-2' }).then(
      () => { throw new Error('a decline expected'); },
      (e: unknown) => e as Stripe.errors.StripeCardError,
    );
    const first = await decline();
    const second = await decline();
    expect(first).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(second).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(second.payment_intent?.id).toBe(first.payment_intent?.id);
    expect(second.decline_code).toBe('generic_decline');
  });

  it('walks requires_payment_method → requires_confirmation → requires_capture without confirm=true', async () => {
    const created = await sdk().paymentIntents.create({ amount: 300, currency: 'usd', capture_method: 'manual' });
    expect(created.status).toBe('requires_payment_method');
    const confirmed = await sdk().paymentIntents.confirm(created.id, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('requires_capture');
    const withPm = await sdk().paymentIntents.create({ amount: 300, currency: 'usd', payment_method: 'pm_card_visa' });
    expect(withPm.status).toBe('requires_confirmation');
  });
});

describe('PaymentCommandHandlers on the Stripe adapter', () => {
  it('a create replayed after its append was lost sends the same Idempotency-Key, and Stripe replays one intent', async () => {
    const store = new InMemoryEventStore();
    const handlers = new PaymentCommandHandlers(store, provider(), new SystemClock(), new SystemIdGenerator());
    const ctx: CommandContext = { correlationId: 'req-1', actor: 'test', idempotency: { key: 'client-key-1', firstSeenAt: new Date('2026-01-01T00:00:00Z') } };
    const input = { customerId: 'cus_1', amount: moneyOf(5_000, 'EUR'), paymentMethod: 'pm_card_visa', captureMethod: 'manual' as const, description: null, metadata: {} };
    // Intent first: the request's append (the 1st) goes through, the outcome's (the 2nd, after Stripe answered) is lost.
    let appends = 0;
    store.beforeAppend = () => (++appends === 2 ? Promise.reject(new Error('connection lost')) : Promise.resolve());
    await expect(handlers.create(input, ctx)).rejects.toThrow('connection lost');
    const result = await handlers.create(input, ctx);
    expect(result.ok).toBe(true);
    const sent = fake.requestsTo('POST', '/v1/payment_intents');
    expect(sent).toHaveLength(2);
    expect(sent[0]?.idempotencyKey).toMatch(/^create:pay_/);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    expect(sent.map((s) => s.replayed)).toEqual([false, true]);
    const intentIds = new Set([...fake.paymentIntents.values()].filter((pi) => pi.metadata.customerId === 'cus_1').map((pi) => pi.id));
    expect(intentIds.size).toBe(1);
    const paymentId = result.ok ? result.value.payment.id : '';
    expect([...fake.paymentIntents.values()].find((pi) => pi.metadata.customerId === 'cus_1')?.metadata.paymentId).toBe(paymentId);
  });
});
