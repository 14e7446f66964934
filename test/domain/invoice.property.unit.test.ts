import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../src/domain/ids.js';
import type { InvoiceCommand, InvoiceState } from '../../src/domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS, decideInvoice, evolveInvoice } from '../../src/domain/invoice/index.js';

const invoiceId = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
const pay = (n: number): PaymentId => `pay_01JBZ5Q5N000000000000000${String(n).padStart(2, '0')}` as PaymentId;
const T0 = Date.parse('2026-02-01T00:00:00Z');

const step = (now: Date): fc.Arbitrary<InvoiceCommand> =>
  fc.oneof(
    fc.integer({ min: 1, max: 6 }).map((n): InvoiceCommand => ({ type: 'AttemptInvoicePayment', invoiceId, attempt: n, paymentId: pay(n), now })),
    fc.integer({ min: 1, max: 6 }).map((n): InvoiceCommand => ({ type: 'RecordInvoicePaymentSucceeded', invoiceId, paymentId: pay(n), now })),
    fc.integer({ min: 1, max: 6 }).map((n): InvoiceCommand => ({ type: 'RecordInvoicePaymentFailure', invoiceId, paymentId: pay(n), failureCode: 'card_declined', now, retryScheduleDays: DEFAULT_RETRY_SCHEDULE_DAYS })),
    fc.constant<InvoiceCommand>({ type: 'MarkInvoiceUncollectible', invoiceId, now }),
    fc.constant<InvoiceCommand>({ type: 'VoidInvoice', invoiceId, now }),
  );

const scenario = fc.tuple(
  fc.integer({ min: 0, max: 100_000 }),
  fc.array(fc.integer({ min: 0, max: 3 * 86_400_000 }), { maxLength: 30 }).chain((gaps) => {
    let t = T0;
    return gaps.length === 0 ? fc.constant([] as InvoiceCommand[]) : fc.tuple(...gaps.map((g) => step(new Date((t += g)))));
  }),
);

describe('invoice properties over random command sequences', () => {
  it('decided events apply; attempts are consecutive; at most one succeeds; paid means paid in full; paid and void stay so', () => {
    fc.assert(
      fc.property(scenario, ([amount, commands]) => {
        const issued = decideInvoice({ exists: false }, {
          type: 'IssueInvoice',
          invoice: { invoiceId, subscriptionId: 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId, customerId: 'cus_1', currency: toCurrencyCode('JPY') },
          billingReason: 'subscription_cycle',
          lines: [{ kind: 'subscription', amount, description: 'plan', periodStart: '2026-02-01T00:00:00.000Z', periodEnd: '2026-03-01T00:00:00.000Z' }],
          periodStart: '2026-02-01T00:00:00.000Z',
          periodEnd: '2026-03-01T00:00:00.000Z',
          testClock: null,
          now: new Date(T0),
        });
        if (!issued.ok) throw new Error(issued.error.code);
        let state: InvoiceState = issued.value.reduce<InvoiceState>(evolveInvoice, { exists: false });
        for (const cmd of commands) {
          if (!state.exists) throw new Error('lost the invoice');
          const wasFinal = state.status === 'paid' || state.status === 'void';
          const decided = decideInvoice(state, cmd);
          if (!decided.ok) continue;
          if (wasFinal) expect(decided.value).toEqual([]);
          state = decided.value.reduce<InvoiceState>(evolveInvoice, state);
          if (!state.exists) throw new Error('lost the invoice');
          expect(state.attempts.map((a) => a.attempt)).toEqual(state.attempts.map((_, i) => i + 1));
          expect(state.attempts.filter((a) => a.outcome === 'succeeded').length).toBeLessThanOrEqual(1);
          expect(state.attempts.filter((a) => a.outcome === 'pending').length).toBeLessThanOrEqual(1);
          if (state.status === 'paid') expect(state.amountPaid).toBe(state.total);
          else expect(state.amountPaid).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
