import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../src/domain/ids.js';
import type { InvoiceCommand, InvoiceEvent, InvoiceLine, InvoiceState } from '../../src/domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS, decideInvoice, foldInvoice } from '../../src/domain/invoice/index.js';

const invoiceId = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
const ref = { invoiceId, subscriptionId: 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId, customerId: 'cus_1', currency: toCurrencyCode('USD') };
const pay = (n: number): PaymentId => `pay_01JBZ5Q5N000000000000000${String(n).padStart(2, '0')}` as PaymentId;
const at = (iso: string): Date => new Date(iso);
const line = (amount: number, kind: InvoiceLine['kind'] = 'subscription'): InvoiceLine => ({
  kind,
  amount,
  description: kind,
  periodStart: '2026-02-01T00:00:00.000Z',
  periodEnd: '2026-03-01T00:00:00.000Z',
});
const issue = (...lines: InvoiceLine[]): InvoiceCommand => ({
  type: 'IssueInvoice',
  invoice: ref,
  billingReason: 'subscription_cycle',
  lines: lines.length > 0 ? lines : [line(2_000)],
  periodStart: '2026-02-01T00:00:00.000Z',
  periodEnd: '2026-03-01T00:00:00.000Z',
  testClock: null,
  now: at('2026-02-01T00:00:00Z'),
});
const attempt = (n: number, now = '2026-02-01T00:00:00Z'): InvoiceCommand => ({ type: 'AttemptInvoicePayment', invoiceId, attempt: n, paymentId: pay(n), now: at(now) });
const failed = (n: number, now: string): InvoiceCommand => ({
  type: 'RecordInvoicePaymentFailure',
  invoiceId,
  paymentId: pay(n),
  failureCode: 'card_declined',
  now: at(now),
  retryScheduleDays: DEFAULT_RETRY_SCHEDULE_DAYS,
});
const succeeded = (n: number, now = '2026-02-01T00:00:05Z'): InvoiceCommand => ({ type: 'RecordInvoicePaymentSucceeded', invoiceId, paymentId: pay(n), now: at(now) });

function given(...commands: InvoiceCommand[]): { state: InvoiceState; events: InvoiceEvent[] } {
  let state: InvoiceState = { exists: false };
  const events: InvoiceEvent[] = [];
  for (const cmd of commands) {
    const decided = decideInvoice(state, cmd);
    if (!decided.ok) throw new Error(`given ${cmd.type} failed: ${decided.error.code}`);
    events.push(...decided.value);
    state = foldInvoice(decided.value, state);
  }
  return { state, events };
}

describe('issuing', () => {
  it('is open with its total; issuing again is refused (one invoice per period)', () => {
    const { state } = given(issue(line(2_000), line(-500, 'proration_credit')));
    expect(state).toMatchObject({ status: 'open', total: 1_500, amountPaid: 0, attempts: [] });
    expect(decideInvoice(state, issue())).toMatchObject({ ok: false, error: { code: 'invoice_already_exists' } });
  });

  it('nothing due (a credit at least the charge): paid as issued, without a payment', () => {
    const { state, events } = given(issue(line(1_000), line(-1_500, 'proration_credit')));
    expect(events.map((e) => e.type)).toEqual(['InvoiceIssued', 'InvoicePaid']);
    expect(state).toMatchObject({ status: 'paid', total: 0, amountPaid: 0 });
  });

  it('refuses no lines and amounts that are not minor units', () => {
    expect(decideInvoice({ exists: false }, { ...issue(), lines: [] } as InvoiceCommand)).toMatchObject({ ok: false, error: { code: 'invalid_invoice' } });
    expect(decideInvoice({ exists: false }, issue(line(10.5)))).toMatchObject({ ok: false, error: { code: 'invalid_invoice' } });
  });
});

describe('paying', () => {
  it('one attempt, paid: the attempt and the amount are on the invoice; reported twice, paid once', () => {
    const { state } = given(issue(), attempt(1), succeeded(1));
    expect(state).toMatchObject({ status: 'paid', amountPaid: 2_000, paidAt: '2026-02-01T00:00:05.000Z', attempts: [{ attempt: 1, paymentId: pay(1), outcome: 'succeeded' }] });
    expect(decideInvoice(state, succeeded(1))).toEqual({ ok: true, value: [] });
    expect(decideInvoice(state, attempt(1))).toEqual({ ok: true, value: [] });
  });

  it('attempts are numbered: a repeat of the same attempt is nothing, a skipped or overlapping one is refused', () => {
    const { state } = given(issue(), attempt(1));
    expect(decideInvoice(state, attempt(1))).toEqual({ ok: true, value: [] });
    expect(decideInvoice(state, attempt(2))).toMatchObject({ ok: false, error: { code: 'invoice_attempt_out_of_order', expected: 2 } });
    expect(decideInvoice(given(issue()).state, attempt(2))).toMatchObject({ ok: false, error: { code: 'invoice_attempt_out_of_order', expected: 1 } });
  });

  it('an outcome for a payment the invoice never attempted is refused', () => {
    expect(decideInvoice(given(issue(), attempt(1)).state, succeeded(7))).toMatchObject({ ok: false, error: { code: 'invoice_payment_unknown' } });
  });
});

describe('dunning', () => {
  it('retries 1, 3 and 5 days after the first failure, never early, then the schedule is spent', () => {
    const first = given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'));
    expect(first.state).toMatchObject({ status: 'open', nextAttemptAt: '2026-02-02T00:00:10.000Z' });
    expect(decideInvoice(first.state, attempt(2, '2026-02-02T00:00:09Z'))).toMatchObject({ ok: false, error: { code: 'invoice_not_due', dueAt: '2026-02-02T00:00:10.000Z' } });
    const third = given(
      issue(),
      attempt(1),
      failed(1, '2026-02-01T00:00:10Z'),
      attempt(2, '2026-02-02T00:00:10Z'),
      failed(2, '2026-02-02T00:00:20Z'),
      attempt(3, '2026-02-04T00:00:10Z'),
      failed(3, '2026-02-04T00:00:20Z'),
    );
    expect(third.state).toMatchObject({ nextAttemptAt: '2026-02-06T00:00:10.000Z' });
    const spent = given(
      issue(),
      attempt(1),
      failed(1, '2026-02-01T00:00:10Z'),
      attempt(2, '2026-02-02T00:00:10Z'),
      failed(2, '2026-02-02T00:00:20Z'),
      attempt(3, '2026-02-04T00:00:10Z'),
      failed(3, '2026-02-04T00:00:20Z'),
      attempt(4, '2026-02-06T00:00:10Z'),
      failed(4, '2026-02-06T00:00:20Z'),
    );
    expect(spent.events.at(-1)).toMatchObject({ type: 'InvoicePaymentFailed', data: { attempt: 4, nextAttemptAt: null } });
    // A failure reported twice is recorded once.
    expect(decideInvoice(spent.state, failed(4, '2026-02-06T00:00:30Z'))).toEqual({ ok: true, value: [] });
  });

  it('a retry that succeeds pays the invoice; so does a success reported after its attempt was recorded failed', () => {
    expect(given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'), attempt(2, '2026-02-02T00:00:10Z'), succeeded(2, '2026-02-02T00:00:11Z')).state).toMatchObject({
      status: 'paid',
      amountPaid: 2_000,
    });
    const late = given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'), succeeded(1, '2026-02-01T00:05:00Z')).state;
    expect(late).toMatchObject({ status: 'paid', attempts: [{ attempt: 1, outcome: 'succeeded' }] });
  });

  it('spent: uncollectible (still payable), or void; paid and void invoices stay so', () => {
    const open = given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'));
    const uncollectible = given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'), { type: 'MarkInvoiceUncollectible', invoiceId, now: at('2026-02-06T00:00:00Z') }).state;
    expect(uncollectible).toMatchObject({ status: 'uncollectible', nextAttemptAt: null });
    expect(decideInvoice(uncollectible, attempt(2, '2026-02-07T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'invoice_final', status: 'uncollectible' } });
    const voided = given(issue(), { type: 'VoidInvoice', invoiceId, now: at('2026-02-02T00:00:00Z') }).state;
    expect(voided).toMatchObject({ status: 'void' });
    expect(decideInvoice(voided, { type: 'VoidInvoice', invoiceId, now: at('2026-02-03T00:00:00Z') })).toEqual({ ok: true, value: [] });
    expect(decideInvoice(given(issue(), attempt(1), succeeded(1)).state, { type: 'VoidInvoice', invoiceId, now: at('2026-02-03T00:00:00Z') })).toMatchObject({
      ok: false,
      error: { code: 'invoice_final', status: 'paid' },
    });
    expect(open.state).toMatchObject({ status: 'open' });
  });

  it('money taken on a voided invoice is refused loudly, so the caller refunds it', () => {
    const voidedMidAttempt = given(issue(), attempt(1), { type: 'VoidInvoice', invoiceId, now: at('2026-02-01T00:00:01Z') }).state;
    expect(decideInvoice(voidedMidAttempt, succeeded(1))).toMatchObject({ ok: false, error: { code: 'invoice_final', status: 'void' } });
  });
});

describe('reading invoice events back', () => {
  it('round-trips what the decider writes and refuses data whose ids would lie', async () => {
    const { upcastInvoiceEvent } = await import('../../src/domain/invoice/index.js');
    const { events } = given(issue(), attempt(1), failed(1, '2026-02-01T00:00:10Z'), attempt(2, '2026-02-02T00:00:10Z'), succeeded(2, '2026-02-02T00:00:11Z'));
    for (const e of events) expect(upcastInvoiceEvent(e.type, JSON.parse(JSON.stringify(e.data)), 1)).toEqual(e);
    expect(() => upcastInvoiceEvent('InvoicePaid', { ...events.at(-1)!.data, paymentId: 're_x' }, 1)).toThrow(/payment id/);
    expect(() => upcastInvoiceEvent('InvoiceIssued', { ...events[0]!.data, total: 1.5 }, 1)).toThrow(/total/);
    expect(() => upcastInvoiceEvent('InvoiceSent', events[0]!.data, 1)).toThrow(/not an invoice event/);
  });
});
