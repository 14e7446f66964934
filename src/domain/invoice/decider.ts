import { MAX_AMOUNT_MINOR } from '../money.js';
import type { InvoiceId, PaymentId } from '../ids.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { InvoiceError } from './errors.js';
import { InvoiceEventNotApplicable } from './errors.js';
import type { BillingReason, InvoiceEvent, InvoiceLine, InvoiceReference } from './events.js';
import type { ExistingInvoice, InvoiceAttempt, InvoiceState } from './state.js';
import { INVOICE_TERMINAL_STATUSES, initialInvoiceState } from './state.js';

/*
 * The invoice's decider (docs/architecture.md, "Subscriptions"). Outcomes reported twice
 * (the process manager after a restart, a webhook and the payment path both) decide no
 * events the second time; attempts are numbered, and one attempt is one payment.
 */

/** Stripe's default-like schedule: retry 1, 3 and 5 days after the first failure, then give up. */
export const DEFAULT_RETRY_SCHEDULE_DAYS: readonly number[] = [1, 3, 5];
export const MAX_RETRY_SCHEDULE_LENGTH = 10;
export const MAX_INVOICE_LINES = 50;
const DAY_MS = 86_400_000;

export interface IssueInvoice {
  readonly type: 'IssueInvoice';
  readonly invoice: InvoiceReference;
  readonly billingReason: BillingReason;
  readonly lines: readonly InvoiceLine[];
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly testClock: string | null;
  readonly now: Date;
}

export interface AttemptInvoicePayment {
  readonly type: 'AttemptInvoicePayment';
  readonly invoiceId: InvoiceId;
  readonly attempt: number;
  readonly paymentId: PaymentId;
  readonly now: Date;
}

export interface RecordInvoicePaymentSucceeded {
  readonly type: 'RecordInvoicePaymentSucceeded';
  readonly invoiceId: InvoiceId;
  readonly paymentId: PaymentId;
  readonly now: Date;
}

export interface RecordInvoicePaymentFailure {
  readonly type: 'RecordInvoicePaymentFailure';
  readonly invoiceId: InvoiceId;
  readonly paymentId: PaymentId;
  readonly failureCode: string;
  readonly now: Date;
  /** Days after the first failure at which to retry; the configured dunning schedule. */
  readonly retryScheduleDays: readonly number[];
}

export interface MarkInvoiceUncollectible {
  readonly type: 'MarkInvoiceUncollectible';
  readonly invoiceId: InvoiceId;
  readonly now: Date;
}

export interface VoidInvoice {
  readonly type: 'VoidInvoice';
  readonly invoiceId: InvoiceId;
  readonly now: Date;
}

export type InvoiceCommand = IssueInvoice | AttemptInvoicePayment | RecordInvoicePaymentSucceeded | RecordInvoicePaymentFailure | MarkInvoiceUncollectible | VoidInvoice;

const referenceOf = (r: InvoiceReference): InvoiceReference => ({ invoiceId: r.invoiceId, subscriptionId: r.subscriptionId, customerId: r.customerId, currency: r.currency });

function existing(state: InvoiceState, event: InvoiceEvent): ExistingInvoice {
  if (!state.exists) throw new InvoiceEventNotApplicable(event, 'not_created', 'the invoice was never issued');
  if (state.invoiceId !== event.data.invoiceId) throw new InvoiceEventNotApplicable(event, 'other_invoice', `the stream is ${state.invoiceId}`);
  if (INVOICE_TERMINAL_STATUSES.includes(state.status)) throw new InvoiceEventNotApplicable(event, 'final', `the invoice is ${state.status}`);
  return state;
}

function settleAttempt(
  s: ExistingInvoice,
  event: InvoiceEvent,
  paymentId: PaymentId,
  outcome: InvoiceAttempt['outcome'],
  failureCode: string | null,
  settledAt: string,
): readonly InvoiceAttempt[] {
  // A success may follow a recorded failure (the processor's later word wins: the money moved); a failure only a pending attempt.
  const i = s.attempts.findIndex((a) => a.paymentId === paymentId && (a.outcome === 'pending' || (outcome === 'succeeded' && a.outcome === 'failed')));
  if (i < 0) throw new InvoiceEventNotApplicable(event, 'unknown_attempt', `no open attempt paid with ${paymentId}`);
  return s.attempts.map((a, j) => (j === i ? { ...a, outcome, failureCode, settledAt } : a));
}

export function evolveInvoice(state: InvoiceState, event: InvoiceEvent): ExistingInvoice {
  switch (event.type) {
    case 'InvoiceIssued': {
      if (state.exists) throw new InvoiceEventNotApplicable(event, 'already_created', 'the invoice already exists');
      const d = event.data;
      return {
        exists: true,
        ...referenceOf(d),
        status: 'open',
        billingReason: d.billingReason,
        lines: d.lines,
        total: d.total,
        amountPaid: 0,
        periodStart: d.periodStart,
        periodEnd: d.periodEnd,
        issuedAt: d.issuedAt,
        testClock: d.testClock,
        attempts: [],
        nextAttemptAt: null,
        paidAt: null,
      };
    }
    case 'InvoicePaymentAttempted': {
      const s = existing(state, event);
      const d = event.data;
      return { ...s, nextAttemptAt: null, attempts: [...s.attempts, { attempt: d.attempt, paymentId: d.paymentId, at: d.at, outcome: 'pending', failureCode: null, settledAt: null }] };
    }
    case 'InvoicePaid': {
      const s = existing(state, event);
      const d = event.data;
      const attempts = d.paymentId === null ? s.attempts : settleAttempt(s, event, d.paymentId, 'succeeded', null, d.at);
      return { ...s, status: 'paid', amountPaid: d.amountPaid, paidAt: d.at, nextAttemptAt: null, attempts };
    }
    case 'InvoicePaymentFailed': {
      const s = existing(state, event);
      return { ...s, attempts: settleAttempt(s, event, event.data.paymentId, 'failed', event.data.failureCode, event.data.at), nextAttemptAt: event.data.nextAttemptAt };
    }
    case 'InvoiceMarkedUncollectible':
      return { ...existing(state, event), status: 'uncollectible', nextAttemptAt: null };
    case 'InvoiceVoided':
      return { ...existing(state, event), status: 'void', nextAttemptAt: null };
  }
}

export const foldInvoice = (events: readonly InvoiceEvent[], from: InvoiceState = initialInvoiceState): InvoiceState => events.reduce<InvoiceState>(evolveInvoice, from);

type Decision = Result<InvoiceEvent[], InvoiceError>;

function issue(cmd: IssueInvoice): Decision {
  if (cmd.lines.length === 0 || cmd.lines.length > MAX_INVOICE_LINES) return err({ code: 'invalid_invoice', message: `an invoice has 1 to ${MAX_INVOICE_LINES} lines` });
  if (cmd.lines.some((l) => !Number.isSafeInteger(l.amount) || Math.abs(l.amount) > MAX_AMOUNT_MINOR)) {
    return err({ code: 'invalid_invoice', message: `line amounts are integer minor units up to ${MAX_AMOUNT_MINOR}` });
  }
  const sum = cmd.lines.reduce((total, l) => total + l.amount, 0);
  const total = Math.max(0, sum);
  if (total > MAX_AMOUNT_MINOR) return err({ code: 'invalid_invoice', message: `the total exceeds ${MAX_AMOUNT_MINOR}` });
  const at = cmd.now.toISOString();
  const ref = referenceOf(cmd.invoice);
  const issued: InvoiceEvent = {
    type: 'InvoiceIssued',
    data: { ...ref, billingReason: cmd.billingReason, lines: cmd.lines, total, periodStart: cmd.periodStart, periodEnd: cmd.periodEnd, issuedAt: at, testClock: cmd.testClock },
  };
  // Nothing due (a trial's end at a zero price, a credit larger than the charge): paid as issued.
  return ok(total === 0 ? [issued, { type: 'InvoicePaid', data: { ...ref, amountPaid: 0, paymentId: null, at } }] : [issued]);
}

function attempt(s: ExistingInvoice, cmd: AttemptInvoicePayment): Decision {
  const same = s.attempts.find((a) => a.attempt === cmd.attempt);
  if (same && same.paymentId === cmd.paymentId) return ok([]);
  if (s.status !== 'open') return err({ code: 'invoice_final', invoiceId: s.invoiceId, status: s.status });
  const expected = s.attempts.length + 1;
  if (cmd.attempt !== expected || s.attempts.some((a) => a.outcome === 'pending')) {
    return err({ code: 'invoice_attempt_out_of_order', invoiceId: s.invoiceId, expected, attempt: cmd.attempt });
  }
  if (s.nextAttemptAt !== null && cmd.now.getTime() < Date.parse(s.nextAttemptAt)) return err({ code: 'invoice_not_due', invoiceId: s.invoiceId, dueAt: s.nextAttemptAt });
  return ok([{ type: 'InvoicePaymentAttempted', data: { ...referenceOf(s), attempt: cmd.attempt, paymentId: cmd.paymentId, at: cmd.now.toISOString() } }]);
}

function failure(s: ExistingInvoice, cmd: RecordInvoicePaymentFailure): Decision {
  const pending = s.attempts.find((a) => a.paymentId === cmd.paymentId);
  if (pending === undefined) return err({ code: 'invoice_payment_unknown', invoiceId: s.invoiceId, paymentId: cmd.paymentId });
  if (pending.outcome !== 'pending') return ok([]);
  const schedule = cmd.retryScheduleDays;
  if (schedule.length > MAX_RETRY_SCHEDULE_LENGTH || schedule.some((d, i) => !(d > 0) || (i > 0 && d <= (schedule[i - 1] as number)))) {
    return err({ code: 'invalid_invoice', message: `the retry schedule is up to ${MAX_RETRY_SCHEDULE_LENGTH} increasing positive day counts` });
  }
  // Retries count from the first failure: with [1, 3, 5], on days 1, 3 and 5 after it.
  const failed = s.attempts.filter((a) => a.outcome === 'failed');
  const failures = failed.length;
  const firstFailure = Date.parse(failed[0]?.settledAt ?? cmd.now.toISOString());
  const days = schedule[failures];
  const nextAttemptAt = days === undefined ? null : new Date(firstFailure + days * DAY_MS).toISOString();
  return ok([{ type: 'InvoicePaymentFailed', data: { ...referenceOf(s), attempt: pending.attempt, paymentId: cmd.paymentId, failureCode: cmd.failureCode, at: cmd.now.toISOString(), nextAttemptAt } }]);
}

export function decideInvoice(state: InvoiceState, cmd: InvoiceCommand): Decision {
  if (cmd.type === 'IssueInvoice') {
    if (state.exists) return err({ code: 'invoice_already_exists', invoiceId: state.invoiceId });
    return issue(cmd);
  }
  if (!state.exists) return err({ code: 'invoice_not_found', invoiceId: cmd.invoiceId });
  const s = state;
  switch (cmd.type) {
    case 'AttemptInvoicePayment':
      return attempt(s, cmd);
    case 'RecordInvoicePaymentSucceeded': {
      const known = s.attempts.find((a) => a.paymentId === cmd.paymentId);
      if (known === undefined) return err({ code: 'invoice_payment_unknown', invoiceId: s.invoiceId, paymentId: cmd.paymentId });
      if (known.outcome === 'succeeded') return ok([]);
      // Money taken on a voided (or otherwise paid) invoice must be given back: refused loudly, the caller refunds.
      if (s.status === 'paid' || s.status === 'void') return err({ code: 'invoice_final', invoiceId: s.invoiceId, status: s.status });
      return ok([{ type: 'InvoicePaid', data: { ...referenceOf(s), amountPaid: s.total, paymentId: cmd.paymentId, at: cmd.now.toISOString() } }]);
    }
    case 'RecordInvoicePaymentFailure':
      if (s.status === 'paid' || s.status === 'void') return ok([]);
      return failure(s, cmd);
    case 'MarkInvoiceUncollectible':
      if (s.status === 'uncollectible') return ok([]);
      if (s.status !== 'open') return err({ code: 'invoice_final', invoiceId: s.invoiceId, status: s.status });
      return ok([{ type: 'InvoiceMarkedUncollectible', data: { ...referenceOf(s), at: cmd.now.toISOString() } }]);
    case 'VoidInvoice':
      if (s.status === 'void') return ok([]);
      if (s.status === 'paid') return err({ code: 'invoice_final', invoiceId: s.invoiceId, status: s.status });
      return ok([{ type: 'InvoiceVoided', data: { ...referenceOf(s), at: cmd.now.toISOString() } }]);
  }
}
