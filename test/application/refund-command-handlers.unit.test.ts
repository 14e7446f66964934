import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import type { CreateRefundInput } from '../../src/application/ports/refund-commands.js';
import { RefundCommandHandlers } from '../../src/application/refunds/refund-command-handlers.js';
import { moneyOf } from '../../src/domain/money.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

const ctx: CommandContext = { correlationId: 'req-1', actor: 'test' };
const keyed = (key: string): CommandContext => ({ ...ctx, idempotency: { key, firstSeenAt: new Date('2026-01-01T00:00:00Z') } });
const refundInput = (paymentId: string, amount?: number): CreateRefundInput => ({ paymentId, amount, reason: 'requested_by_customer', metadata: { order: '42' } });

/** A provider whose refunds can be switched off, to leave work for the process manager. */
class FlakyProvider extends SimulatedPaymentProvider {
  refundsDown = false;
  override refund(request: Parameters<SimulatedPaymentProvider['refund']>[0]) {
    return this.refundsDown ? Promise.reject(new ProviderUnavailable('down')) : super.refund(request);
  }
}

async function setup(paymentMethod = 'pm_card_visa') {
  const store = new InMemoryEventStore();
  const provider = new FlakyProvider();
  const payments = new PaymentCommandHandlers(store, provider, new SystemClock(), new SystemIdGenerator());
  const refunds = new RefundCommandHandlers(store, provider, new SystemClock(), new SystemIdGenerator());
  const created = await payments.create(
    { customerId: 'cus_1', amount: moneyOf(10_000, 'EUR'), paymentMethod, captureMethod: 'automatic', description: null, metadata: {} },
    ctx,
  );
  if (!created.ok) throw new Error(created.error.code);
  const paymentId = created.value.payment.id;
  const payment = async () => {
    const { events } = await store.readStream(`payment-${paymentId}`);
    return events;
  };
  const count = async () => (await store.readAll({ maxCount: 10_000 })).length;
  return { store, provider, refunds, paymentId, payment, count };
}

describe('RefundCommandHandlers', () => {
  it('reserves, requests, refunds and settles: the refund succeeds and the payment is partially refunded', async () => {
    const { refunds, paymentId, payment, store } = await setup();
    const result = await refunds.create(refundInput(paymentId, 3_000), ctx);
    expect(result).toMatchObject({
      ok: true,
      value: { refund: { object: 'refund', paymentId, amount: 3_000, currency: 'EUR', status: 'succeeded', reason: 'requested_by_customer', failureReason: null, metadata: { order: '42' }, revision: '1' }, replayed: false },
    });
    if (!result.ok) return;
    expect(result.value.refund.id).toMatch(/^re_/);
    expect((await payment()).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentRefundReserved', 'PaymentRefundSettled']);
    const refundEvents = (await store.readStream(`refund-${result.value.refund.id}`)).events;
    expect(refundEvents.map((e) => e.type)).toEqual(['RefundRequested', 'RefundSucceeded']);
    // Ledger-Position is the command's last write: the settlement on the payment.
    expect(result.value.position).toEqual((await payment()).at(-1)?.position);
  });

  it('an omitted amount refunds everything refundable; then the payment is refunded and refuses more', async () => {
    const { refunds, paymentId, count } = await setup();
    expect(await refunds.create(refundInput(paymentId), ctx)).toMatchObject({ ok: true, value: { refund: { amount: 10_000, status: 'succeeded' } } });
    const before = await count();
    expect(await refunds.create(refundInput(paymentId, 1), ctx)).toEqual({
      ok: false,
      error: { code: 'payment_not_refundable', paymentId, status: 'refunded' },
    });
    expect(await count()).toBe(before);
  });

  it('refuses more than refundable, naming it, and appends nothing', async () => {
    const { refunds, paymentId, count } = await setup();
    await refunds.create(refundInput(paymentId, 4_000), ctx);
    const before = await count();
    expect(await refunds.create(refundInput(paymentId, 6_001), ctx)).toEqual({
      ok: false,
      error: { code: 'amount_exceeds_refundable', requested: 6_001, refundable: 6_000, currency: 'EUR' },
    });
    expect(await count()).toBe(before);
  });

  it("another customer's payment, or no payment, is payment_not_found", async () => {
    const { refunds, paymentId, count } = await setup();
    const before = await count();
    expect(await refunds.create(refundInput(paymentId, 1), { ...ctx, customerScope: 'cus_2' })).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
    expect(await refunds.create(refundInput('pay_01JD0000000000000000000009', 1), ctx)).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
    expect(await refunds.create(refundInput('nope', 1), ctx)).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
    expect(await count()).toBe(before);
    expect(await refunds.create(refundInput(paymentId, 1), { ...ctx, customerScope: 'cus_1' })).toMatchObject({ ok: true });
  });

  it('pm_card_refundFail: the refund answers pending and its amount stays reserved', async () => {
    const { refunds, paymentId, payment } = await setup('pm_card_refundFail');
    expect(await refunds.create(refundInput(paymentId, 2_500), ctx)).toMatchObject({ ok: true, value: { refund: { status: 'pending', revision: '0' } } });
    expect((await payment()).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentRefundReserved']);
    expect(await refunds.create(refundInput(paymentId, 7_501), ctx)).toMatchObject({ ok: false, error: { code: 'amount_exceeds_refundable', refundable: 7_500 } });
  });

  it('a provider that cannot be reached leaves the refund pending (the process manager asks again)', async () => {
    const { refunds, paymentId, provider } = await setup();
    provider.refundsDown = true;
    expect(await refunds.create(refundInput(paymentId, 1_000), ctx)).toMatchObject({ ok: true, value: { refund: { status: 'pending' } } });
  });

  it('the same Idempotency-Key is the same refund: a retry writes nothing new and finishes what the first left', async () => {
    const { refunds, paymentId, provider, count } = await setup();
    provider.refundsDown = true;
    const first = await refunds.create(refundInput(paymentId, 1_000), keyed('k1'));
    provider.refundsDown = false;
    const retry = await refunds.create(refundInput(paymentId, 1_000), keyed('k1'));
    expect(first.ok && retry.ok && retry.value.refund.id === first.value.refund.id).toBe(true);
    expect(retry).toMatchObject({ ok: true, value: { replayed: true, refund: { status: 'succeeded' } } });
    const after = await count();
    expect(await refunds.create(refundInput(paymentId, 1_000), keyed('k1'))).toMatchObject({ ok: true, value: { replayed: true, refund: { status: 'succeeded' } } });
    expect(await count()).toBe(after);
    const other = await refunds.create(refundInput(paymentId, 1_000), keyed('k2'));
    expect(other.ok && first.ok && other.value.refund.id !== first.value.refund.id).toBe(true);
  });

  it('concurrent refunds on one payment never reserve more than captured', async () => {
    const { refunds, paymentId, payment } = await setup();
    const amounts = Array.from({ length: 20 }, (_, i) => 300 + ((i * 7919) % 1_500));
    const results = await Promise.all(amounts.map((a) => refunds.create(refundInput(paymentId, a), ctx)));
    const accepted = results.flatMap((r) => (r.ok ? [r.value.refund.amount] : []));
    for (const r of results) if (!r.ok) expect(['amount_exceeds_refundable', 'concurrency_conflict']).toContain(r.error.code);
    const sum = accepted.reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(10_000);
    const settled = (await payment()).filter((e) => e.type === 'PaymentRefundSettled').reduce((a, e) => a + (e.data as { amount: number }).amount, 0);
    expect(settled).toBe(sum);
  });
});
