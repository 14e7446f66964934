import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import type { PaymentCommandResult } from '../../src/application/payments/payment-command-handlers.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { moneyOf } from '../../src/domain/money.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

const ctx: CommandContext = { correlationId: 'req-1', actor: 'test' };
const input = {
  customerId: 'cus_1',
  amount: moneyOf(5_000, 'EUR'),
  paymentMethod: 'pm_card_visa',
  captureMethod: 'manual' as const,
  description: null,
  metadata: {},
};

function setup() {
  const store = new InMemoryEventStore();
  const handlers = new PaymentCommandHandlers(store, new SimulatedPaymentProvider(), new SystemClock(), new SystemIdGenerator());
  return { store, handlers };
}

async function created(handlers: PaymentCommandHandlers) {
  const result = await handlers.create(input, ctx);
  if (!result.ok) throw new Error(result.error.code);
  return result.value;
}

describe('PaymentCommandHandlers', () => {
  it('creates, then partially captures, writing metadata on every event', async () => {
    const { store, handlers } = setup();
    const payment = await created(handlers);
    expect(payment.payment).toMatchObject({ status: 'requires_capture', amount: 5_000, currency: 'EUR', revision: '1', pendingOperation: null });
    const capture = await handlers.capture(payment.payment.id, 1_000, ctx);
    expect(capture).toMatchObject({ ok: true, value: { payment: { status: 'succeeded', amountCaptured: 1_000, amountReleased: 4_000, revision: '3' } } });
    // Intent first: each request is in the log before the processor is asked.
    expect(store.events.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested', 'PaymentCaptured']);
    for (const e of store.events) expect(e.metadata).toMatchObject({ correlationId: 'req-1', actor: 'test', schemaVersion: 1 });
    // The outcome names its request as its cause.
    expect(store.events[3]?.metadata.causationId).toBe(store.events[2]?.id);
  });

  it('an unknown payment method answers provider_invalid_request and ends its request as a failed payment; a retry answers the same', async () => {
    const { store, handlers } = setup();
    const keyed = { ...ctx, idempotency: { key: 'k-invalid', firstSeenAt: new Date('2026-01-01T00:00:00Z') } };
    const result = await handlers.create({ ...input, paymentMethod: 'pm_nope' }, keyed);
    expect(result).toMatchObject({ ok: false, error: { code: 'provider_invalid_request', param: 'paymentMethod' } });
    expect(store.events.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentFailed']);
    expect(store.events[1]?.data).toMatchObject({ failureCode: 'invalid_request', providerPaymentId: null, invalidParam: 'paymentMethod' });
    expect(await handlers.create({ ...input, paymentMethod: 'pm_nope' }, keyed)).toEqual(result);
    expect(store.events).toHaveLength(2);
  });

  it('If-Match on a stale revision is refused and appends nothing', async () => {
    const { store, handlers } = setup();
    const payment = await created(handlers);
    const result = await handlers.capture(payment.payment.id, undefined, { ...ctx, expectedRevision: streamRevision(7) });
    expect(result).toEqual({ ok: false, error: { code: 'revision_mismatch', expected: '7', actual: '1' } });
    expect(store.events).toHaveLength(2);
  });

  it('retries a concurrency conflict and then decides on the new state', async () => {
    const { store, handlers } = setup();
    const payment = await created(handlers);
    // A concurrent cancel lands between our read and our append.
    let slipped = false;
    store.beforeAppend = async () => {
      if (slipped) return;
      slipped = true;
      await handlers.cancel(payment.payment.id, null, ctx);
    };
    const result = await handlers.capture(payment.payment.id, undefined, ctx);
    expect(result).toEqual({ ok: false, error: { code: 'illegal_transition', from: 'canceled', command: 'capture' } });
    expect(store.events.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCancelRequested', 'PaymentCanceled']);
  });

  it('the same idempotency key yields the same payment id and never writes twice', async () => {
    const { store, handlers } = setup();
    const idem = { ...ctx, idempotency: { key: 'k-1', firstSeenAt: new Date('2026-01-01T00:00:00Z') } };
    const first = await handlers.create(input, idem);
    const second = await handlers.create(input, idem);
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.value.payment.id).toBe(first.value.payment.id);
    expect(second.value.replayed).toBe(true);
    expect(store.events).toHaveLength(2);
    // Another actor with the same key is someone else's request.
    const other = await handlers.create(input, { ...idem, actor: 'other' });
    expect(other.ok && other.value.payment.id).not.toBe(first.value.payment.id);
  });

  it("a key's first attempt creates without reading the stream; a retry that took over reads it and recognises the write", async () => {
    const { store, handlers } = setup();
    let reads = 0;
    const readStream = store.readStream.bind(store);
    store.readStream = (...args: Parameters<typeof store.readStream>) => {
      reads++;
      return readStream(...args);
    };
    const firstSeenAt = new Date('2026-01-01T00:00:00Z');
    const first = await handlers.create(input, { ...ctx, idempotency: { key: 'k-fresh', firstSeenAt, firstAttempt: true } });
    expect(reads).toBe(0);
    const takeover = await handlers.create(input, { ...ctx, idempotency: { key: 'k-fresh', firstSeenAt, firstAttempt: false } });
    expect(reads).toBeGreaterThan(0);
    if (!first.ok || !takeover.ok) throw new Error('both calls succeed');
    expect(takeover.value.replayed).toBe(true);
    expect(takeover.value.payment).toEqual(first.value.payment);
    expect(store.events).toHaveLength(2);
  });

  it('a first attempt that loses a race with its own retry still writes once and answers the write', async () => {
    const store = new InMemoryEventStore();
    const handlers = new PaymentCommandHandlers(store, new SimulatedPaymentProvider(), { now: () => new Date() }, new SystemIdGenerator());
    const firstSeenAt = new Date('2026-01-01T00:00:00Z');
    let racer: Promise<PaymentCommandResult> | undefined;
    store.beforeAppend = async () => {
      if (racer) return;
      racer = handlers.create(input, { ...ctx, idempotency: { key: 'k-fresh-race', firstSeenAt, firstAttempt: false } });
      await racer;
    };
    const first = await handlers.create(input, { ...ctx, idempotency: { key: 'k-fresh-race', firstSeenAt, firstAttempt: true } });
    const second = await racer!;
    expect(store.events).toHaveLength(2);
    if (!first.ok || !second.ok) throw new Error('both calls succeed');
    expect(first.value.replayed).toBe(true);
    expect(first.value.payment).toEqual(second.value.payment);
  });

  it('a retry that races the first call with the same key answers what the log holds (the other racer\'s write), marked replayed', async () => {
    const store = new InMemoryEventStore();
    // Each call reads a later time, so an answer built from the loser's own clock would show.
    let tick = 0;
    const clock = { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, ++tick)) };
    const handlers = new PaymentCommandHandlers(store, new SimulatedPaymentProvider(), clock, new SystemIdGenerator());
    const idem = { ...ctx, idempotency: { key: 'k-race', firstSeenAt: new Date('2026-01-01T00:00:00Z') } };
    let racer: Promise<PaymentCommandResult> | undefined;
    store.beforeAppend = async () => {
      if (racer) return;
      // The retry slips in while the first call is about to append, and writes first.
      racer = handlers.create(input, idem);
      await racer;
    };
    const first = await handlers.create(input, idem);
    const second = await racer!;
    expect(store.events).toHaveLength(2);
    if (!first.ok || !second.ok) throw new Error('both calls succeed');
    expect(second.value.replayed).toBe(false);
    // The first call's events were recognised, not written: it answers the racer's write.
    expect(first.value.replayed).toBe(true);
    expect(first.value.payment).toEqual(second.value.payment);
    expect(first.value.payment.createdAt).toBe(store.events[0]!.metadata.occurredAt);
    expect(first.value.position).toEqual(second.value.position);
  });

  it('a declined card creates a failed payment', async () => {
    const { handlers } = setup();
    const result = await handlers.create({ ...input, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }, ctx);
    expect(result).toMatchObject({ ok: true, value: { payment: { status: 'failed', failure: { code: 'card_declined', declineCode: 'insufficient_funds' } } } });
  });
});

describe('PaymentCommandHandlers with a customer-scoped caller', () => {
  it('refuses to create for another customer and hides other customers payments', async () => {
    const { store, handlers } = setup();
    const scoped = { ...ctx, customerScope: 'cus_other' };
    expect(await handlers.create(input, scoped)).toEqual({ ok: false, error: { code: 'customer_forbidden', customerId: 'cus_1' } });
    const payment = await created(handlers);
    expect(await handlers.capture(payment.payment.id, undefined, scoped)).toEqual({ ok: false, error: { code: 'payment_not_found', paymentId: payment.payment.id } });
    expect(await handlers.cancel(payment.payment.id, null, scoped)).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
    expect(store.events).toHaveLength(2);
    expect(await handlers.capture(payment.payment.id, undefined, { ...ctx, customerScope: 'cus_1' })).toMatchObject({ ok: true });
  });
});

describe('PaymentCommandHandlers with an idempotency key that is used again after it expired', () => {
  it('creates a new payment with new event ids instead of colliding with the old write', async () => {
    const { store, handlers } = setup();
    const first = await handlers.create(input, { ...ctx, idempotency: { key: 'k', firstSeenAt: new Date('2026-01-01T00:00:00Z') } });
    const later = await handlers.create(input, { ...ctx, idempotency: { key: 'k', firstSeenAt: new Date('2026-01-03T00:00:00Z') } });
    expect(first.ok && later.ok).toBe(true);
    if (!first.ok || !later.ok) return;
    expect(later.value.payment.id).not.toBe(first.value.payment.id);
    expect(later.value.replayed).toBe(false);
    expect(new Set(store.events.map((e) => e.id)).size).toBe(4);
  });
});

describe('PaymentCommandHandlers replaying a command whose write happened (its answer was lost or not recorded)', () => {
  const keyed = (key: string): CommandContext => ({ ...ctx, idempotency: { key, firstSeenAt: new Date('2026-01-01T00:00:00Z') } });
  const replayOf = (first: PaymentCommandResult) => {
    if (!first.ok) throw new Error(first.error.code);
    return { ok: true, value: { ...first.value, replayed: true } };
  };

  it('a create retried after a later capture answers what the create answered: requires_capture, its revision and position', async () => {
    const { store, handlers } = setup();
    const first = await handlers.create(input, keyed('create-1'));
    expect(first).toMatchObject({ ok: true, value: { payment: { status: 'requires_capture', revision: '1' }, replayed: false } });
    if (!first.ok) return;
    const capture = await handlers.capture(first.value.payment.id, 1_500, keyed('capture-1'));
    expect(capture).toMatchObject({ ok: true, value: { payment: { status: 'succeeded', amountCaptured: 1_500 } } });

    const retried = await handlers.create(input, keyed('create-1'));
    expect(retried).toEqual(replayOf(first));
    expect(retried).toMatchObject({ value: { payment: { status: 'requires_capture', amountCapturable: 5_000, amountCaptured: 0, revision: '1' } } });
    expect(retried.ok && retried.value.position).toEqual(store.events[1]?.position);
    expect(store.events.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested', 'PaymentCaptured']);
  });

  it('a create retried after someone else canceled the payment still answers requires_capture', async () => {
    const { handlers } = setup();
    const first = await handlers.create(input, keyed('create-2'));
    if (!first.ok) throw new Error(first.error.code);
    expect(await handlers.cancel(first.value.payment.id, 'duplicate', ctx)).toMatchObject({ ok: true, value: { payment: { status: 'canceled' } } });
    expect(await handlers.create(input, keyed('create-2'))).toEqual(replayOf(first));
  });

  it('an automatic-capture create replays both of its outcome events (revision 2), not less', async () => {
    const { store, handlers } = setup();
    const first = await handlers.create({ ...input, captureMethod: 'automatic' }, keyed('create-3'));
    expect(first).toMatchObject({ ok: true, value: { payment: { status: 'succeeded', revision: '2' } } });
    expect(await handlers.create({ ...input, captureMethod: 'automatic' }, keyed('create-3'))).toEqual(replayOf(first));
    expect(store.events).toHaveLength(3);
  });

  it('a capture and a cancel retried with their keys answer what they answered, and append nothing', async () => {
    const { store, handlers } = setup();
    const a = await created(handlers);
    const capture = await handlers.capture(a.payment.id, 2_000, keyed('capture-2'));
    expect(capture).toMatchObject({ ok: true, value: { payment: { status: 'succeeded', revision: '3' }, replayed: false } });
    expect(await handlers.capture(a.payment.id, 2_000, keyed('capture-2'))).toEqual(replayOf(capture));

    const b = await created(handlers);
    const cancel = await handlers.cancel(b.payment.id, 'abandoned', keyed('cancel-1'));
    expect(cancel).toMatchObject({ ok: true, value: { payment: { status: 'canceled', cancellationReason: 'abandoned' } } });
    expect(await handlers.cancel(b.payment.id, 'abandoned', keyed('cancel-1'))).toEqual(replayOf(cancel));
    expect(store.events).toHaveLength(8);
  });
});

describe('PaymentCommandHandlers with an id that is not a payment id', () => {
  it('answers payment_not_found without touching the store', async () => {
    const { store, handlers } = setup();
    let reads = 0;
    const readStream = store.readStream.bind(store);
    store.readStream = (...args) => {
      reads += 1;
      return readStream(...args);
    };
    expect(await handlers.capture('pay_nope', undefined, ctx)).toEqual({ ok: false, error: { code: 'payment_not_found', paymentId: 'pay_nope' } });
    expect(await handlers.cancel('../x', null, ctx)).toEqual({ ok: false, error: { code: 'payment_not_found', paymentId: '../x' } });
    expect(reads).toBe(0);
  });
});
