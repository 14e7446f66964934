import type { PaymentId, RefundId } from '../ids.js';
import type { RefundReason } from '../refund/events.js';
import { MAX_AMOUNT_MINOR } from '../money.js';
import type { Money } from '../money.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { PaymentError } from './errors.js';
import { EventNotApplicable, illegalTransition } from './errors.js';
import type { CancellationReason, PaymentAuthorized, PaymentFailed, PaymentCanceled, PaymentCaptured, PaymentDetails, PaymentEvent, PaymentIntentEvent } from './events.js';
import { referenceOf } from './events.js';
import type { PaymentRefundEvent, PaymentRefundReleased } from './refund-events.js';
import type { ExistingPayment, PaymentState, RefundReservationEntry } from './state.js';
import { REFUNDABLE_STATUSES, initialState } from './state.js';

/**
 * What the card processor said when asked to authorize. The provider call is I/O, so it
 * happens before decide; the provider port answers in this same shape.
 */
export type AuthorizationOutcome =
  | { readonly status: 'approved'; readonly providerPaymentId: string }
  | {
      readonly status: 'declined';
      readonly providerPaymentId: string | null;
      readonly failureCode: string;
      readonly declineCode: string | null;
      readonly message: string;
    };

/** What the payer asks for: the payment's details before it has an id, the amount as Money. */
export interface PaymentRequest extends Omit<PaymentDetails, 'paymentId' | 'amount' | 'currency'> {
  readonly amount: Money;
}

/** The details a request becomes once it has an id: what the events record and the processor is asked for. */
export const paymentDetails = (paymentId: PaymentId, request: PaymentRequest): PaymentDetails => ({
  paymentId,
  customerId: request.customerId,
  amount: request.amount.amount,
  currency: request.amount.currency,
  paymentMethod: request.paymentMethod,
  captureMethod: request.captureMethod,
  description: request.description,
  metadata: request.metadata,
  ...savedCardOf(request),
});

/**
 * The saved-card fields as events carry them: only when set, so a payment without them
 * records what it always did.
 */
const savedCardOf = (d: Pick<PaymentDetails, 'providerCustomerId' | 'offSession'>): Pick<PaymentDetails, 'providerCustomerId' | 'offSession'> => ({
  ...(d.providerCustomerId ? { providerCustomerId: d.providerCustomerId } : {}),
  ...(d.offSession === true ? { offSession: true } : {}),
});

export interface CreatePayment extends PaymentRequest {
  readonly type: 'CreatePayment';
  readonly paymentId: PaymentId;
  readonly authorization: AuthorizationOutcome;
}

export interface CapturePayment {
  readonly type: 'CapturePayment';
  readonly paymentId: PaymentId;
  /** Minor units in the payment's currency; absent means "everything authorized". */
  readonly amount?: number | undefined;
}

export interface CancelPayment {
  readonly type: 'CancelPayment';
  readonly paymentId: PaymentId;
  readonly reason?: CancellationReason | null | undefined;
}

/** Claims refund money on the payment, checked against refundable in the same decision. */
export interface ReserveRefund {
  readonly type: 'ReserveRefund';
  readonly paymentId: PaymentId;
  readonly refundId: RefundId;
  /** Minor units in the payment's currency; absent means "everything still refundable". */
  readonly amount?: number | undefined;
  readonly reason: RefundReason | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The refund succeeded: its reserved money is refunded for good. */
export interface SettleRefund {
  readonly type: 'SettleRefund';
  readonly paymentId: PaymentId;
  readonly refundId: RefundId;
}

/** The refund failed or was canceled: its reserved money is refundable again. */
export interface ReleaseRefund {
  readonly type: 'ReleaseRefund';
  readonly paymentId: PaymentId;
  readonly refundId: RefundId;
  readonly outcome: PaymentRefundReleased['data']['outcome'];
}

/**
 * Intent first: record that we are about to ask the processor to authorize, before asking.
 * The outcome is recorded later by RecordAuthorization.
 */
export interface RequestPayment extends PaymentRequest {
  readonly type: 'RequestPayment';
  readonly paymentId: PaymentId;
  /** The processor idempotency key every attempt at this authorization uses. */
  readonly providerKey: string;
}

/** Intent first: record that we are about to ask the processor to capture (absent amount: everything capturable). */
export interface RequestCapture {
  readonly type: 'RequestCapture';
  readonly paymentId: PaymentId;
  readonly amount?: number | undefined;
}

/** Intent first: record that we are about to ask the processor to cancel. */
export interface RequestCancel {
  readonly type: 'RequestCancel';
  readonly paymentId: PaymentId;
  readonly reason?: CancellationReason | null | undefined;
}

/** The processor's answer to a pending create; `invalid_request`: it would not even consider it. */
export type RequestedAuthorizationOutcome =
  | AuthorizationOutcome
  | { readonly status: 'invalid_request'; readonly param: string; readonly message: string };

/** The processor's answer to a pending capture or cancel. */
export type OperationOutcome = { readonly status: 'ok' } | { readonly status: 'failed'; readonly code: string; readonly message: string };

export interface RecordAuthorization {
  readonly type: 'RecordAuthorization';
  readonly paymentId: PaymentId;
  readonly authorization: RequestedAuthorizationOutcome;
}

export interface RecordOperationOutcome {
  readonly type: 'RecordOperationOutcome';
  readonly paymentId: PaymentId;
  readonly operation: 'capture' | 'cancel';
  readonly outcome: OperationOutcome;
}

/**
 * The processor idempotency keys of capture and cancel: a function of what is asked, so a
 * retry or the completer asks the processor the very same request. Bound to the amount: a
 * capture of another amount after a refused one is a different request, not a replay.
 */
export const captureProviderKey = (paymentId: PaymentId, amount: number): string => `capture:${paymentId}:${amount}`;
export const cancelProviderKey = (paymentId: PaymentId): string => `cancel:${paymentId}`;

/**
 * CreatePayment, CapturePayment and CancelPayment decide in one step, from an answer the
 * processor already gave: what streams written before intents hold, and what tests build
 * streams with. The command handlers use the Request… and Record… pairs.
 */
export type PaymentCommand =
  | CreatePayment
  | CapturePayment
  | CancelPayment
  | ReserveRefund
  | SettleRefund
  | ReleaseRefund
  | RequestPayment
  | RequestCapture
  | RequestCancel
  | RecordAuthorization
  | RecordOperationOutcome;

/**
 * A payment as its authorization leaves it; nothing captured or released yet. Written out
 * field by field (no rest/spread): replaying the read model runs this for every payment.
 */
const opened = (
  d: PaymentDetails,
  outcome: Pick<ExistingPayment, 'status' | 'amountCapturable' | 'providerPaymentId' | 'failure'>,
): ExistingPayment => ({
  exists: true,
  paymentId: d.paymentId,
  customerId: d.customerId,
  amount: d.amount,
  currency: d.currency,
  paymentMethod: d.paymentMethod,
  captureMethod: d.captureMethod,
  description: d.description,
  metadata: d.metadata,
  providerCustomerId: d.providerCustomerId ?? null,
  offSession: d.offSession === true,
  status: outcome.status,
  amountCapturable: outcome.amountCapturable,
  amountCaptured: 0,
  amountReleased: 0,
  amountRefunded: 0,
  refundReservations: {},
  providerPaymentId: outcome.providerPaymentId,
  failure: outcome.failure,
  cancellationReason: null,
  pendingOperation: null,
});

function existing(state: PaymentState, event: PaymentCaptured | PaymentCanceled | PaymentRefundEvent | PaymentIntentEvent): ExistingPayment {
  if (!state.exists) throw new EventNotApplicable(event, 'not_created', 'the payment was never created');
  if (event.data.currency !== state.currency) {
    throw new EventNotApplicable(event, 'currency_differs', `the event is in ${event.data.currency}, the payment in ${state.currency}`);
  }
  return state;
}

/** Money settled (captured or given back) never exceeds what was authorized. */
function withinAmount(next: ExistingPayment, event: PaymentCaptured | PaymentCanceled): ExistingPayment {
  const settled = next.amountCaptured + next.amountReleased;
  if (settled > next.amount) {
    throw new EventNotApplicable(event, 'exceeds_amount', `captured + released (${settled}) would exceed the amount ${next.amount}`);
  }
  return next;
}

/** Money reserved by refunds still in flight. */
export const amountReserved = (p: ExistingPayment): number =>
  Object.values(p.refundReservations).reduce((sum, r) => (r.status === 'open' ? sum + r.amount : sum), 0);

/** What a new refund may still take: captured − settled refunds − open reservations. */
export const refundable = (p: ExistingPayment): number => p.amountCaptured - p.amountRefunded - amountReserved(p);

const withReservation = (p: ExistingPayment, refundId: string, entry: RefundReservationEntry): Record<string, RefundReservationEntry> => {
  const next: Record<string, RefundReservationEntry> = { ...p.refundReservations };
  // defineProperty: a refund id is ours (re_…), but a record key must never reach a prototype.
  Object.defineProperty(next, refundId, { value: entry, enumerable: true, writable: true, configurable: true });
  return next;
};

/** The open reservation an event closes; anything else is a stream that cannot be. */
function openReservation(p: ExistingPayment, event: PaymentRefundEvent): RefundReservationEntry {
  const r = Object.hasOwn(p.refundReservations, event.data.refundId) ? p.refundReservations[event.data.refundId] : undefined;
  if (r?.status !== 'open') {
    throw new EventNotApplicable(event, 'reservation_not_open', `refund ${event.data.refundId} has ${r ? `a ${r.status} reservation` : 'no reservation'}`);
  }
  if (r.amount !== event.data.amount) {
    throw new EventNotApplicable(event, 'reservation_not_open', `refund ${event.data.refundId} reserved ${r.amount}, the event says ${event.data.amount}`);
  }
  return r;
}

function evolveRefund(state: PaymentState, event: PaymentRefundEvent): ExistingPayment {
  const p = existing(state, event);
  switch (event.type) {
    case 'PaymentRefundReserved': {
      if (!REFUNDABLE_STATUSES.includes(p.status)) throw new EventNotApplicable(event, 'not_refundable', `the payment is ${p.status}`);
      if (Object.hasOwn(p.refundReservations, event.data.refundId)) {
        throw new EventNotApplicable(event, 'reservation_exists', `refund ${event.data.refundId} already has a reservation`);
      }
      if (event.data.amount <= 0 || event.data.amount > refundable(p)) {
        throw new EventNotApplicable(event, 'exceeds_refundable', `reserving ${event.data.amount} with ${refundable(p)} refundable`);
      }
      return { ...p, refundReservations: withReservation(p, event.data.refundId, { amount: event.data.amount, status: 'open' }) };
    }
    case 'PaymentRefundSettled': {
      const r = openReservation(p, event);
      const amountRefunded = p.amountRefunded + r.amount;
      return {
        ...p,
        status: amountRefunded === p.amountCaptured ? 'refunded' : 'partially_refunded',
        amountRefunded,
        refundReservations: withReservation(p, event.data.refundId, { amount: r.amount, status: 'settled' }),
      };
    }
    case 'PaymentRefundReleased': {
      const r = openReservation(p, event);
      return { ...p, refundReservations: withReservation(p, event.data.refundId, { amount: r.amount, status: 'released' }) };
    }
  }
}

/** An authorization's outcome opens a payment (a stream from before intents) or answers its pending create. */
function createOutcomeApplies(state: PaymentState, event: PaymentAuthorized | PaymentFailed): void {
  if (!state.exists) return;
  if (state.pendingOperation?.operation !== 'create') throw new EventNotApplicable(event, 'already_created', 'the payment already exists');
  if (state.amount !== event.data.amount || state.currency !== event.data.currency) {
    throw new EventNotApplicable(event, 'currency_differs', `the request was for ${state.amount} ${state.currency}`);
  }
}

function evolveIntent(state: PaymentState, event: PaymentIntentEvent): ExistingPayment {
  if (event.type === 'PaymentRequested') {
    if (state.exists) throw new EventNotApplicable(event, 'already_created', 'the payment already exists');
    const requested = opened(event.data, { status: 'processing', amountCapturable: 0, providerPaymentId: null, failure: null });
    return { ...requested, pendingOperation: { operation: 'create' } };
  }
  const p = existing(state, event);
  switch (event.type) {
    case 'PaymentCaptureRequested':
    case 'PaymentCancelRequested': {
      if (p.pendingOperation) throw new EventNotApplicable(event, 'operation_pending', `a ${p.pendingOperation.operation} is pending`);
      if (p.status !== 'requires_capture') throw new EventNotApplicable(event, 'not_created', `the payment is ${p.status}`);
      if (event.type === 'PaymentCancelRequested') return { ...p, pendingOperation: { operation: 'cancel', reason: event.data.reason } };
      if (event.data.amount <= 0 || event.data.amount > p.amountCapturable) {
        throw new EventNotApplicable(event, 'exceeds_amount', `capturing ${event.data.amount} of ${p.amountCapturable} capturable`);
      }
      return { ...p, pendingOperation: { operation: 'capture', amount: event.data.amount } };
    }
    case 'PaymentOperationRefused': {
      if (p.pendingOperation?.operation !== event.data.operation) {
        throw new EventNotApplicable(event, 'no_operation_pending', `no ${event.data.operation} is pending`);
      }
      return { ...p, pendingOperation: null };
    }
  }
}

/**
 * The one fold of a payment: the command handlers load with it and the read model derives
 * its rows from it. An event that cannot follow the state throws EventNotApplicable.
 */
export function evolve(state: PaymentState, event: PaymentEvent): ExistingPayment {
  switch (event.type) {
    case 'PaymentAuthorized': {
      createOutcomeApplies(state, event);
      const d = event.data;
      return opened(d, { status: 'requires_capture', amountCapturable: d.amount, providerPaymentId: d.providerPaymentId, failure: null });
    }
    case 'PaymentFailed': {
      createOutcomeApplies(state, event);
      const d = event.data;
      return opened(d, {
        status: 'failed',
        amountCapturable: 0,
        providerPaymentId: d.providerPaymentId,
        failure: { code: d.failureCode, declineCode: d.declineCode, message: d.failureMessage },
      });
    }
    case 'PaymentCaptured': {
      const p = existing(state, event);
      return withinAmount(
        {
          ...p,
          status: 'succeeded',
          amountCaptured: p.amountCaptured + event.data.amount,
          amountReleased: p.amountReleased + event.data.amountReleased,
          amountCapturable: 0,
          // The outcome of a pending capture (or news that overtook a pending cancel): nothing is pending after it.
          pendingOperation: null,
        },
        event,
      );
    }
    case 'PaymentCanceled': {
      const p = existing(state, event);
      return withinAmount(
        {
          ...p,
          status: 'canceled',
          amountReleased: p.amountReleased + event.data.amountReleased,
          amountCapturable: 0,
          cancellationReason: event.data.reason,
          pendingOperation: null,
        },
        event,
      );
    }
    case 'PaymentRequested':
    case 'PaymentCaptureRequested':
    case 'PaymentCancelRequested':
    case 'PaymentOperationRefused':
      return evolveIntent(state, event);
    case 'PaymentRefundReserved':
    case 'PaymentRefundSettled':
    case 'PaymentRefundReleased':
      return evolveRefund(state, event);
  }
}

export const fold = (events: readonly PaymentEvent[], from: PaymentState = initialState): PaymentState =>
  events.reduce<PaymentState>(evolve, from);

const operationPending = (state: ExistingPayment): PaymentError => ({
  code: 'payment_operation_pending',
  paymentId: state.paymentId,
  operation: state.pendingOperation?.operation ?? 'create',
});

function create(state: PaymentState, cmd: CreatePayment | RequestPayment): Result<PaymentEvent[], PaymentError> {
  if (state.exists) return err({ code: 'payment_already_exists', paymentId: cmd.paymentId });
  if (cmd.amount.amount <= 0) return err({ code: 'invalid_amount', message: 'amount must be at least 1 minor unit' });
  const details = paymentDetails(cmd.paymentId, cmd);
  if (cmd.type === 'RequestPayment') return ok([{ type: 'PaymentRequested', data: { ...details, providerKey: cmd.providerKey } }]);
  return authorizationOutcome(details, cmd.authorization);
}

/** The details the request recorded, as the outcome events repeat them. */
const detailsOf = (p: ExistingPayment): PaymentDetails => ({
  paymentId: p.paymentId,
  customerId: p.customerId,
  amount: p.amount,
  currency: p.currency,
  paymentMethod: p.paymentMethod,
  captureMethod: p.captureMethod,
  description: p.description,
  metadata: p.metadata,
  ...savedCardOf(p),
});

function recordAuthorization(state: ExistingPayment, cmd: RecordAuthorization): Result<PaymentEvent[], PaymentError> {
  if (state.pendingOperation?.operation !== 'create') return err({ code: 'no_operation_pending', paymentId: state.paymentId, operation: 'create' });
  const auth = cmd.authorization;
  if (auth.status === 'invalid_request') {
    // Nothing was created at the processor; the request still ends, as a failure that names the parameter.
    return ok([
      {
        type: 'PaymentFailed',
        data: { ...detailsOf(state), providerPaymentId: null, failureCode: 'invalid_request', declineCode: null, failureMessage: auth.message, invalidParam: auth.param },
      },
    ]);
  }
  return authorizationOutcome(detailsOf(state), auth);
}

function recordOperation(state: ExistingPayment, cmd: RecordOperationOutcome): Result<PaymentEvent[], PaymentError> {
  const pending = state.pendingOperation;
  if (pending?.operation !== cmd.operation) return err({ code: 'no_operation_pending', paymentId: state.paymentId, operation: cmd.operation });
  if (cmd.outcome.status === 'failed') {
    return ok([
      { type: 'PaymentOperationRefused', data: { ...referenceOf(state), operation: cmd.operation, failureCode: cmd.outcome.code, failureMessage: cmd.outcome.message } },
    ]);
  }
  if (pending.operation === 'capture') {
    return ok([{ type: 'PaymentCaptured', data: { ...referenceOf(state), amount: pending.amount, amountReleased: state.amountCapturable - pending.amount } }]);
  }
  if (pending.operation === 'cancel') {
    return ok([{ type: 'PaymentCanceled', data: { ...referenceOf(state), amountReleased: state.amountCapturable, reason: pending.reason } }]);
  }
  throw new Error('unreachable: a create outcome is recorded by RecordAuthorization');
}

function authorizationOutcome(details: PaymentDetails, auth: AuthorizationOutcome): Result<PaymentEvent[], PaymentError> {
  if (auth.status === 'declined') {
    return ok([
      {
        type: 'PaymentFailed',
        data: {
          ...details,
          providerPaymentId: auth.providerPaymentId,
          failureCode: auth.failureCode,
          declineCode: auth.declineCode,
          failureMessage: auth.message,
        },
      },
    ]);
  }
  const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { ...details, providerPaymentId: auth.providerPaymentId } };
  if (details.captureMethod === 'manual') return ok([authorized]);
  return ok([authorized, { type: 'PaymentCaptured', data: { ...referenceOf(details), amount: details.amount, amountReleased: 0 } }]);
}

function capture(state: ExistingPayment, cmd: CapturePayment | RequestCapture): Result<PaymentEvent[], PaymentError> {
  if (state.pendingOperation) return err(operationPending(state));
  if (state.status !== 'requires_capture') return err(illegalTransition(state.status, 'capture'));
  const amount = cmd.amount ?? state.amountCapturable;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT_MINOR) {
    return err({ code: 'invalid_amount', message: 'capture amount must be a positive integer count of minor units' });
  }
  if (amount > state.amountCapturable) {
    return err({ code: 'capture_exceeds_authorized', requested: amount, capturable: state.amountCapturable });
  }
  if (cmd.type === 'RequestCapture') {
    return ok([{ type: 'PaymentCaptureRequested', data: { ...referenceOf(state), amount, providerKey: captureProviderKey(state.paymentId, amount) } }]);
  }
  return ok([{ type: 'PaymentCaptured', data: { ...referenceOf(state), amount, amountReleased: state.amountCapturable - amount } }]);
}

function cancel(state: ExistingPayment, cmd: CancelPayment | RequestCancel): Result<PaymentEvent[], PaymentError> {
  if (state.pendingOperation) return err(operationPending(state));
  if (state.status !== 'requires_capture') return err(illegalTransition(state.status, 'cancel'));
  if (cmd.type === 'RequestCancel') {
    return ok([{ type: 'PaymentCancelRequested', data: { ...referenceOf(state), reason: cmd.reason ?? null, providerKey: cancelProviderKey(state.paymentId) } }]);
  }
  return ok([{ type: 'PaymentCanceled', data: { ...referenceOf(state), amountReleased: state.amountCapturable, reason: cmd.reason ?? null } }]);
}

function reserveRefund(state: ExistingPayment, cmd: ReserveRefund): Result<PaymentEvent[], PaymentError> {
  if (!REFUNDABLE_STATUSES.includes(state.status)) return err({ code: 'payment_not_refundable', paymentId: state.paymentId, status: state.status });
  if (Object.hasOwn(state.refundReservations, cmd.refundId)) return err({ code: 'refund_already_reserved', refundId: cmd.refundId });
  const available = refundable(state);
  const amount = cmd.amount ?? available;
  if (cmd.amount !== undefined && (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT_MINOR)) {
    return err({ code: 'invalid_amount', message: 'refund amount must be a positive integer count of minor units' });
  }
  // Also the "everything" refund of a payment with nothing left: 0 refundable refuses any amount.
  if (amount > available || amount <= 0) {
    return err({ code: 'amount_exceeds_refundable', requested: amount, refundable: available, currency: state.currency });
  }
  return ok([
    {
      type: 'PaymentRefundReserved',
      data: { ...referenceOf(state), refundId: cmd.refundId, amount, reason: cmd.reason, metadata: cmd.metadata },
    },
  ]);
}

/** Settle or release: exact (the reservation's own amount) and a no-op when already closed the same way. */
function closeRefund(state: ExistingPayment, cmd: SettleRefund | ReleaseRefund): Result<PaymentEvent[], PaymentError> {
  const r = Object.hasOwn(state.refundReservations, cmd.refundId) ? state.refundReservations[cmd.refundId] : undefined;
  const wanted = cmd.type === 'SettleRefund' ? 'settled' : 'released';
  if (r?.status === wanted) return ok([]);
  if (r?.status !== 'open') return err({ code: 'refund_reservation_not_open', refundId: cmd.refundId, reservation: r ? r.status : 'missing' });
  const data = { ...referenceOf(state), refundId: cmd.refundId, amount: r.amount };
  return ok([cmd.type === 'SettleRefund' ? { type: 'PaymentRefundSettled', data } : { type: 'PaymentRefundReleased', data: { ...data, outcome: cmd.outcome } }]);
}

export function decide(state: PaymentState, cmd: PaymentCommand): Result<PaymentEvent[], PaymentError> {
  if (cmd.type === 'CreatePayment' || cmd.type === 'RequestPayment') return create(state, cmd);
  if (!state.exists) return err({ code: 'payment_not_found', paymentId: cmd.paymentId });
  switch (cmd.type) {
    case 'CapturePayment':
    case 'RequestCapture':
      return capture(state, cmd);
    case 'CancelPayment':
    case 'RequestCancel':
      return cancel(state, cmd);
    case 'RecordAuthorization':
      return recordAuthorization(state, cmd);
    case 'RecordOperationOutcome':
      return recordOperation(state, cmd);
    case 'ReserveRefund':
      return reserveRefund(state, cmd);
    case 'SettleRefund':
    case 'ReleaseRefund':
      return closeRefund(state, cmd);
  }
}
