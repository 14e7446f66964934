import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import type { PaymentCommandResult } from '../../src/application/payments/payment-command-handlers.js';
import { PAYMENT_INTENT_COMPLETER_ACTOR, PaymentIntentCompleter } from '../../src/application/payments/payment-intent-completer.js';
import { PaymentIntents } from '../../src/application/payments/payment-intents.js';
import type { EventStore, NewEvent } from '../../src/application/ports/event-store.js';
import type { PaymentIntentQueue, PendingPaymentItem } from '../../src/application/ports/payment-intent-queue.js';
import type { AuthorizeRequest, AuthorizeResult, PaymentProvider, ProviderActionResult } from '../../src/application/ports/payment-provider.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import type { PaymentId } from '../../src/domain/ids.js';
import { moneyOf } from '../../src/domain/money.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { foldPaymentIntents } from '../../src/projections/payment-intents/payment-intents-projection.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/*
 * Intent first, the crash the issue names: the processor moved money and our append of the
 * outcome failed. The request is in the log, so (a) a retry with the same Idempotency-Key
 * completes it, asking the processor again with the same key (which answers the same: no
 * second charge), and (b) with no retry, the completer records the outcome.
 */

const OUTCOME_TYPES = new Set(['PaymentAuthorized', 'PaymentFailed', 'PaymentCaptured', 'PaymentCanceled', 'PaymentOperationRefused']);

/** The EventStore port with the next outcome append failing once, as a crash or a lost connection right after the processor call. */
class FailingOutcomeStore implements EventStore {
  failNextOutcome = false;
  failed = 0;
  constructor(readonly inner: InMemoryEventStore) {}
  append(...args: Parameters<EventStore['append']>): ReturnType<EventStore['append']> {
    const [, events] = args;
    if (this.failNextOutcome && events.some((e: NewEvent) => OUTCOME_TYPES.has(e.type))) {
      this.failNextOutcome = false;
      this.failed++;
      return Promise.reject(new Error('connection lost after the processor call'));
    }
    return this.inner.append(args[0], args[1], args[2]);
  }
  readStream(...args: Parameters<EventStore['readStream']>) {
    return this.inner.readStream(...args);
  }
  readAll(...args: Parameters<EventStore['readAll']>) {
    return this.inner.readAll(...args);
  }
  subscribeToAll(...args: Parameters<EventStore['subscribeToAll']>) {
    return this.inner.subscribeToAll(...args);
  }
  headPosition() {
    return this.inner.headPosition();
  }
  close() {
    return this.inner.close();
  }
}

/**
 * The simulated processor, with a memory of what it was asked, as a real processor keeps
 * one: a request under a key it has seen is the same request (Stripe's idempotency), so
 * `charges` counts distinct authorizations, `captures` distinct captures.
 */
class RecordingProvider implements PaymentProvider {
  readonly name = 'recording';
  readonly keys: string[] = [];
  readonly authorizations = new Map<string, AuthorizeResult>();
  readonly captures = new Set<string>();
  readonly cancels = new Set<string>();
  unavailable = 0;
  private readonly inner = new SimulatedPaymentProvider();

  private gate(key: string): void {
    this.keys.push(key);
    if (this.unavailable > 0) {
      this.unavailable--;
      throw new ProviderUnavailable('processor unreachable');
    }
  }
  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.gate(request.idempotencyKey);
    const known = this.authorizations.get(request.idempotencyKey);
    if (known) return known;
    const result = await this.inner.authorize(request);
    this.authorizations.set(request.idempotencyKey, result);
    return result;
  }
  async capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult> {
    this.gate(request.idempotencyKey);
    this.captures.add(`${request.providerPaymentId}:${request.amount}`);
    return this.inner.capture(request);
  }
  async cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult> {
    this.gate(request.idempotencyKey);
    this.cancels.add(request.providerPaymentId);
    return this.inner.cancel(request);
  }
  refund(): never {
    throw new Error('not used');
  }
  retrieveRefund(): never {
    throw new Error('not used');
  }
  get charges(): number {
    return this.authorizations.size;
  }
  retrievePayment(id: string) {
    return this.inner.retrievePayment(id);
  }
  retrieveDispute(id: string) {
    return this.inner.retrieveDispute(id);
  }
  retrieveRefundDetails(id: string) {
    return this.inner.retrieveRefundDetails(id);
  }
}

/** The payment_intents projection's rows, folded from the in-memory log; grace and leases are the SQL queue's business. */
class LogIntentQueue implements PaymentIntentQueue {
  readonly rescheduled: { item: PendingPaymentItem; attempts: number }[] = [];
  constructor(private readonly store: InMemoryEventStore) {}
  claimDue(limit: number): Promise<PendingPaymentItem[]> {
    const { upserts } = foldPaymentIntents(this.store.events.filter((e) => e.type.startsWith('Payment')));
    return Promise.resolve(
      upserts.slice(0, limit).map((r) => ({ paymentId: r.payment_id as PaymentId, requestEventId: r.request_event_id, operation: r.operation, attempts: 0 })),
    );
  }
  reschedule(item: PendingPaymentItem, attempts: number): Promise<void> {
    this.rescheduled.push({ item, attempts });
    return Promise.resolve();
  }
}

const input = {
  customerId: 'cus_1',
  amount: moneyOf(5_000, 'EUR'),
  paymentMethod: 'pm_card_visa',
  captureMethod: 'manual' as const,
  description: null,
  metadata: {},
};
const keyed = (key: string): CommandContext => ({ correlationId: `req-${key}`, actor: 'test', idempotency: { key, firstSeenAt: new Date('2026-01-01T00:00:00Z') } });
const keyless: CommandContext = { correlationId: 'req-keyless', actor: 'test' };

function setup() {
  const log = new InMemoryEventStore();
  const store = new FailingOutcomeStore(log);
  const provider = new RecordingProvider();
  const ids = new SystemIdGenerator();
  const clock = { now: () => new Date() };
  const handlers = new PaymentCommandHandlers(store, provider, clock, ids);
  const intents = new PaymentIntents(store, provider, clock, ids);
  const queue = new LogIntentQueue(log);
  const completer = new PaymentIntentCompleter(intents, queue, { graceMs: 0, batchSize: 10, claimLeaseMs: 1_000, retryMinMs: 1, retryMaxMs: 2, idlePollMs: 1 });
  const types = (paymentId: string) => log.events.filter((e) => e.streamId === `payment-${paymentId}`).map((e) => e.type);
  return { log, store, provider, handlers, completer, queue, types };
}

async function ok(result: Promise<PaymentCommandResult>) {
  const r = await result;
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

/** The one payment stream in the log (a create that crashed never told us its id). */
const onlyPaymentId = (log: InMemoryEventStore): string => {
  const streams = new Set(log.events.filter((e) => e.streamId.startsWith('payment-')).map((e) => e.streamId));
  expect(streams.size).toBe(1);
  return [...streams][0]!.slice('payment-'.length);
};

describe('a create whose outcome append fails after the processor authorized', () => {
  it('(a) a retry with the same key completes it: the processor is asked again under the same key, and charges once', async () => {
    const { log, store, provider, handlers, types } = setup();
    store.failNextOutcome = true;
    await expect(handlers.create(input, keyed('create-a'))).rejects.toThrow('connection lost');
    const id = onlyPaymentId(log);
    expect(types(id)).toEqual(['PaymentRequested']);
    expect(provider.charges).toBe(1);

    const retried = await ok(handlers.create(input, keyed('create-a')));
    expect(retried.payment).toMatchObject({ id, status: 'requires_capture', revision: '1', pendingOperation: null });
    expect(types(id)).toEqual(['PaymentRequested', 'PaymentAuthorized']);
    expect(provider.keys).toEqual([`create:${id}`, `create:${id}`]);
    expect(provider.charges).toBe(1);
    // And a further retry replays the same answer without asking again.
    expect(await ok(handlers.create(input, keyed('create-a')))).toEqual({ ...retried, replayed: true });
    expect(provider.keys).toHaveLength(2);
  });

  it('(b) with no retry (keyless), the completer asks under the key the request recorded and records the outcome', async () => {
    const { log, store, provider, completer, types } = setup();
    store.failNextOutcome = true;
    await expect(new PaymentCommandHandlers(store, provider, { now: () => new Date() }, new SystemIdGenerator()).create(input, keyless)).rejects.toThrow();
    const id = onlyPaymentId(log);
    const firstKey = provider.keys[0]!;
    expect(firstKey).toMatch(new RegExp(`^create:${id}:`));

    expect(await completer.runOnce()).toEqual(['answered']);
    expect(types(id)).toEqual(['PaymentRequested', 'PaymentAuthorized']);
    expect(provider.keys).toEqual([firstKey, firstKey]);
    expect(provider.charges).toBe(1);
    const outcome = log.events.at(-1)!;
    expect(outcome.metadata).toMatchObject({ actor: PAYMENT_INTENT_COMPLETER_ACTOR, correlationId: 'req-keyless', causationId: log.events[0]!.id });
    // Nothing is left pending.
    expect(await completer.runOnce()).toEqual([]);
  });
});

describe('a capture whose outcome append fails after the processor captured', () => {
  it('(a) a same-key retry completes it with the same processor key; the processor captured once', async () => {
    const { store, provider, handlers, types } = setup();
    const { payment } = await ok(handlers.create(input, keyed('c-create')));
    store.failNextOutcome = true;
    await expect(handlers.capture(payment.id, 2_000, keyed('capture-a'))).rejects.toThrow('connection lost');
    expect(types(payment.id)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested']);

    // Meanwhile nothing else may reach the processor: a cancel is refused.
    expect(await handlers.cancel(payment.id, null, keyed('cancel-meanwhile'))).toEqual({
      ok: false,
      error: { code: 'payment_operation_pending', paymentId: payment.id, operation: 'capture' },
    });

    const retried = await ok(handlers.capture(payment.id, 2_000, keyed('capture-a')));
    expect(retried.payment).toMatchObject({ status: 'succeeded', amountCaptured: 2_000, amountReleased: 3_000, revision: '3' });
    expect(provider.keys.filter((k) => k.startsWith('capture:'))).toEqual([`capture:${payment.id}:2000`, `capture:${payment.id}:2000`]);
    expect(provider.captures.size).toBe(1);
    expect(types(payment.id)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested', 'PaymentCaptured']);
  });

  it('(b) with no retry, the completer records the capture', async () => {
    const { store, handlers, completer, provider, types } = setup();
    const { payment } = await ok(handlers.create(input, keyless));
    store.failNextOutcome = true;
    await expect(handlers.capture(payment.id, undefined, keyless)).rejects.toThrow();
    expect(await completer.runOnce()).toEqual(['answered']);
    expect(types(payment.id).slice(-2)).toEqual(['PaymentCaptureRequested', 'PaymentCaptured']);
    expect(provider.captures.size).toBe(1);
  });
});

describe('a cancel whose outcome append fails after the processor canceled', () => {
  it('(a) a same-key retry completes it, and answers what a first success would have', async () => {
    const { store, provider, handlers, types } = setup();
    const { payment } = await ok(handlers.create(input, keyed('x-create')));
    store.failNextOutcome = true;
    await expect(handlers.cancel(payment.id, 'abandoned', keyed('cancel-a'))).rejects.toThrow();
    const retried = await ok(handlers.cancel(payment.id, 'abandoned', keyed('cancel-a')));
    expect(retried.payment).toMatchObject({ status: 'canceled', cancellationReason: 'abandoned', amountReleased: 5_000, revision: '3' });
    expect(provider.keys.filter((k) => k.startsWith('cancel:'))).toEqual([`cancel:${payment.id}`, `cancel:${payment.id}`]);
    expect(types(payment.id).slice(-2)).toEqual(['PaymentCancelRequested', 'PaymentCanceled']);
  });

  it('(b) with no retry, the completer records the cancel with the reason the request gave', async () => {
    const { log, store, handlers, completer } = setup();
    const { payment } = await ok(handlers.create(input, keyless));
    store.failNextOutcome = true;
    await expect(handlers.cancel(payment.id, 'duplicate', keyless)).rejects.toThrow();
    expect(await completer.runOnce()).toEqual(['answered']);
    expect(log.events.at(-1)).toMatchObject({ type: 'PaymentCanceled', data: { reason: 'duplicate', amountReleased: 5_000 } });
  });
});

describe('an unreachable processor after the request', () => {
  it('answers provider_unavailable and leaves the request pending; the completer backs off and completes it later', async () => {
    const { provider, handlers, completer, queue, types, log } = setup();
    provider.unavailable = 1;
    expect(await handlers.create(input, keyless)).toMatchObject({ ok: false, error: { code: 'provider_unavailable' } });
    const id = onlyPaymentId(log);
    expect(types(id)).toEqual(['PaymentRequested']);

    provider.unavailable = 1;
    expect(await completer.runOnce()).toEqual(['unavailable']);
    expect(queue.rescheduled).toMatchObject([{ item: { paymentId: id, operation: 'create' }, attempts: 1 }]);
    expect(await completer.runOnce()).toEqual(['answered']);
    expect(types(id)).toEqual(['PaymentRequested', 'PaymentAuthorized']);
  });
});

describe('the completer and a late client retry racing on one pending request', () => {
  it('write the outcome once, and both answer it', async () => {
    const { log, store, handlers, completer, provider, types } = setup();
    const { payment } = await ok(handlers.create(input, keyed('r-create')));
    store.failNextOutcome = true;
    await expect(handlers.capture(payment.id, 1_000, keyed('capture-race'))).rejects.toThrow();

    // Both have asked the processor and are about to append the outcome when the other lands first.
    let raced: Promise<unknown> | undefined;
    log.beforeAppend = async () => {
      if (raced) return;
      raced = completer.runOnce();
      await raced;
    };
    const retried = await ok(handlers.capture(payment.id, 1_000, keyed('capture-race')));
    expect(await raced).toEqual(['answered']);
    expect(types(payment.id)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested', 'PaymentCaptured']);
    // The retry's own append was recognised as the completer's write: it answers that write.
    expect(retried.replayed).toBe(true);
    expect(retried.payment).toMatchObject({ status: 'succeeded', amountCaptured: 1_000, revision: '3' });
    expect(retried.position).toEqual(log.events.at(-1)!.position);
    expect(provider.captures.size).toBe(1);
  });

  it('two completers (two instances past a lost lease) write once', async () => {
    const { log, store, handlers, completer, provider, types } = setup();
    store.failNextOutcome = true;
    await expect(handlers.create(input, keyless)).rejects.toThrow();
    const id = onlyPaymentId(log);
    const second = new PaymentIntentCompleter(new PaymentIntents(new InMemoryEventStore(log), provider, { now: () => new Date() }, new SystemIdGenerator()), new LogIntentQueue(log));
    const results = await Promise.all([completer.runOnce(), second.runOnce()]);
    expect(results.flat().every((r) => r === 'answered' || r === 'not_pending')).toBe(true);
    expect(types(id)).toEqual(['PaymentRequested', 'PaymentAuthorized']);
    expect(provider.charges).toBe(1);
  });
});
