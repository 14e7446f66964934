import { MAX_AMOUNT_MINOR } from '../money.js';
import type { Money } from '../money.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { PaymentError } from './errors.js';
import { illegalTransition } from './errors.js';
import type { CancellationReason, CaptureMethod, PaymentEvent } from './events.js';
import type { ExistingPayment, PaymentState } from './state.js';
import { initialState } from './state.js';

/** What the card processor said when asked to authorize. The provider call is I/O, so it happens before decide. */
export type AuthorizationOutcome =
  | { readonly outcome: 'approved'; readonly providerPaymentId: string }
  | {
      readonly outcome: 'declined';
      readonly providerPaymentId: string | null;
      readonly failureCode: string;
      readonly declineCode: string | null;
      readonly message: string;
    };

export interface CreatePayment {
  readonly type: 'CreatePayment';
  readonly paymentId: string;
  readonly customerId: string;
  readonly amount: Money;
  readonly paymentMethod: string;
  readonly captureMethod: CaptureMethod;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly authorization: AuthorizationOutcome;
}

export interface CapturePayment {
  readonly type: 'CapturePayment';
  readonly paymentId: string;
  /** Minor units in the payment's currency; absent means "everything authorized". */
  readonly amount?: number | undefined;
}

export interface CancelPayment {
  readonly type: 'CancelPayment';
  readonly paymentId: string;
  readonly reason?: CancellationReason | null | undefined;
}

export type PaymentCommand = CreatePayment | CapturePayment | CancelPayment;

export function evolve(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentAuthorized': {
      const d = event.data;
      return {
        exists: true,
        id: d.paymentId,
        status: 'requires_capture',
        customerId: d.customerId,
        amount: d.amount,
        amountCapturable: d.amount,
        amountCaptured: 0,
        amountReleased: 0,
        currency: d.currency,
        paymentMethod: d.paymentMethod,
        captureMethod: d.captureMethod,
        providerPaymentId: d.providerPaymentId,
        description: d.description,
        metadata: d.metadata,
        failure: null,
        cancellationReason: null,
      };
    }
    case 'PaymentFailed': {
      const d = event.data;
      return {
        exists: true,
        id: d.paymentId,
        status: 'failed',
        customerId: d.customerId,
        amount: d.amount,
        amountCapturable: 0,
        amountCaptured: 0,
        amountReleased: 0,
        currency: d.currency,
        paymentMethod: d.paymentMethod,
        captureMethod: d.captureMethod,
        providerPaymentId: d.providerPaymentId,
        description: d.description,
        metadata: d.metadata,
        failure: { code: d.failureCode, declineCode: d.declineCode, message: d.failureMessage },
        cancellationReason: null,
      };
    }
    case 'PaymentCaptured': {
      if (!state.exists) return state;
      return {
        ...state,
        status: 'succeeded',
        amountCaptured: state.amountCaptured + event.data.amount,
        amountReleased: state.amountReleased + event.data.amountReleased,
        amountCapturable: 0,
      };
    }
    case 'PaymentCanceled': {
      if (!state.exists) return state;
      return {
        ...state,
        status: 'canceled',
        amountReleased: state.amountReleased + event.data.amountReleased,
        amountCapturable: 0,
        cancellationReason: event.data.reason,
      };
    }
  }
}

export const fold = (events: readonly PaymentEvent[], from: PaymentState = initialState): PaymentState =>
  events.reduce(evolve, from);

function create(state: PaymentState, cmd: CreatePayment): Result<PaymentEvent[], PaymentError> {
  if (state.exists) return err({ code: 'payment_already_exists', paymentId: cmd.paymentId });
  if (cmd.amount.amount <= 0) return err({ code: 'invalid_amount', message: 'amount must be at least 1 minor unit' });
  const common = {
    paymentId: cmd.paymentId,
    customerId: cmd.customerId,
    amount: cmd.amount.amount,
    currency: cmd.amount.currency,
    paymentMethod: cmd.paymentMethod,
    captureMethod: cmd.captureMethod,
    description: cmd.description,
    metadata: cmd.metadata,
  };
  const auth = cmd.authorization;
  if (auth.outcome === 'declined') {
    return ok([
      {
        type: 'PaymentFailed',
        data: {
          ...common,
          providerPaymentId: auth.providerPaymentId,
          failureCode: auth.failureCode,
          declineCode: auth.declineCode,
          failureMessage: auth.message,
        },
      },
    ]);
  }
  const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { ...common, providerPaymentId: auth.providerPaymentId } };
  if (cmd.captureMethod === 'manual') return ok([authorized]);
  return ok([
    authorized,
    {
      type: 'PaymentCaptured',
      data: { paymentId: cmd.paymentId, customerId: cmd.customerId, amount: cmd.amount.amount, currency: cmd.amount.currency, amountReleased: 0 },
    },
  ]);
}

function capture(state: ExistingPayment, cmd: CapturePayment): Result<PaymentEvent[], PaymentError> {
  if (state.status !== 'requires_capture') return err(illegalTransition(state.status, 'capture'));
  const amount = cmd.amount ?? state.amountCapturable;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT_MINOR) {
    return err({ code: 'invalid_amount', message: 'capture amount must be a positive integer count of minor units' });
  }
  if (amount > state.amountCapturable) {
    return err({ code: 'capture_exceeds_authorized', requested: amount, capturable: state.amountCapturable });
  }
  return ok([
    {
      type: 'PaymentCaptured',
      data: {
        paymentId: state.id,
        customerId: state.customerId,
        amount,
        currency: state.currency,
        amountReleased: state.amountCapturable - amount,
      },
    },
  ]);
}

function cancel(state: ExistingPayment, cmd: CancelPayment): Result<PaymentEvent[], PaymentError> {
  if (state.status !== 'requires_capture') return err(illegalTransition(state.status, 'cancel'));
  return ok([
    {
      type: 'PaymentCanceled',
      data: {
        paymentId: state.id,
        customerId: state.customerId,
        currency: state.currency,
        amountReleased: state.amountCapturable,
        reason: cmd.reason ?? null,
      },
    },
  ]);
}

export function decide(state: PaymentState, cmd: PaymentCommand): Result<PaymentEvent[], PaymentError> {
  if (cmd.type === 'CreatePayment') return create(state, cmd);
  if (!state.exists) return err({ code: 'payment_not_found', paymentId: cmd.paymentId });
  switch (cmd.type) {
    case 'CapturePayment':
      return capture(state, cmd);
    case 'CancelPayment':
      return cancel(state, cmd);
  }
}

