import type { RecordedEvent } from '../../application/ports/event-store.js';
import { formatPosition } from '../../application/ports/position.js';
import { toDomainEvent } from '../../application/payments/payment-stream.js';
import { toRefundEvent } from '../../application/refunds/refund-stream.js';
import type { PaymentEvent } from '../../domain/payment/index.js';
import type { RefundEvent } from '../../domain/refund/index.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { MAX_AMOUNT_MINOR } from '../../domain/money.js';
import { describeError } from '../logger.js';
import { ProjectionEventError } from '../projection.js';
import { ACCOUNTS } from '../../domain/ledger/chart.js';
import type { LedgerEntry, LedgerPosting } from '../../application/ledger/ledger-entry.js';

/*
 * The posting rules: which events move money, and the one journal entry each becomes
 * (docs/architecture.md, "Projections"; the README's "Ledger" section lists them). Pure, so
 * the projection, the property test and a reader of this file all see the same rules.
 *
 *   PaymentCaptured        Dr provider_clearing      Cr revenue             captured amount
 *   PaymentRefundReserved  Dr refund_reservations    Cr refunds_pending     reserved amount
 *   PaymentRefundReleased  Dr refunds_pending        Cr refund_reservations reservation given back (refund failed or canceled)
 *   PaymentRefundSettled   Dr refunds_pending        Cr refund_reservations reservation used up (refund succeeded)
 *   RefundSucceeded        Dr refunds                Cr provider_clearing   refunded amount
 *
 * Pending money is modelled like a pending transfer: a reservation moves the amount into a
 * pending pair (a liability and its contra-revenue twin) and its resolution moves it back
 * out, so the pending pair nets to zero once every refund is resolved; only a succeeded
 * refund touches `refunds` and `provider_clearing`. The real refund is posted from the
 * refund's own RefundSucceeded (the processor's answer), the pending pair is cleared by the
 * payment stream's settlement: each event posts exactly one entry, and the order in which a
 * process manager appends the two does not matter.
 *
 * Every other event (authorizations, failures, cancellations, refund requests, failures
 * and cancellations) moves no money in our books and posts nothing.
 */

/** The event types that can post an entry: the projection's `eventTypes`. */
export const LEDGER_EVENT_TYPES: readonly string[] = [
  'PaymentCaptured',
  'PaymentRefundReserved',
  'PaymentRefundReleased',
  'PaymentRefundSettled',
  'RefundSucceeded',
];

interface MoneyFacts {
  readonly paymentId: string;
  readonly refundId: string | null;
  readonly customerId: string | null;
  readonly amount: number;
  readonly currency: CurrencyCode;
}

const pair = (debit: string, credit: string, amount: number, currency: CurrencyCode): LedgerPosting[] => [
  { account: debit, side: 'debit', amount, currency },
  { account: credit, side: 'credit', amount, currency },
];

/**
 * The entry `event` posts, or undefined when it moves no money (an event type without a
 * rule, or an amount of zero). Throws ProjectionEventError for an event whose data is not
 * what its type promises: the projection stops at it rather than post a guess.
 */
export function postingsFor(event: RecordedEvent): LedgerEntry | undefined {
  const facts = moneyFacts(event);
  if (!facts || facts.amount === 0) return undefined;
  const { amount, currency, paymentId, refundId } = facts;
  let postings: LedgerPosting[];
  let description: string;
  switch (event.type) {
    case 'PaymentCaptured':
      postings = pair(ACCOUNTS.providerClearing, ACCOUNTS.revenue, amount, currency);
      description = `Payment ${paymentId} captured`;
      break;
    case 'PaymentRefundReserved':
      postings = pair(ACCOUNTS.refundReservations, ACCOUNTS.refundsPending, amount, currency);
      description = `Refund ${refundId} reserved against payment ${paymentId}`;
      break;
    case 'PaymentRefundReleased':
      postings = pair(ACCOUNTS.refundsPending, ACCOUNTS.refundReservations, amount, currency);
      description = `Refund ${refundId} reservation released (refund ${releaseOutcome(event)})`;
      break;
    case 'PaymentRefundSettled':
      postings = pair(ACCOUNTS.refundsPending, ACCOUNTS.refundReservations, amount, currency);
      description = `Refund ${refundId} reservation settled`;
      break;
    case 'RefundSucceeded':
      postings = pair(ACCOUNTS.refunds, ACCOUNTS.providerClearing, amount, currency);
      description = `Refund ${refundId} of payment ${paymentId} succeeded`;
      break;
    default:
      return undefined;
  }
  return {
    id: event.id,
    object: 'ledger_entry',
    eventId: event.id,
    eventType: event.type,
    position: formatPosition(event.position),
    occurredAt: new Date(event.metadata.occurredAt).toISOString(),
    description,
    paymentId,
    refundId,
    customerId: facts.customerId,
    postings,
  };
}

function releaseOutcome(event: RecordedEvent): string {
  const outcome = (event.data as { outcome?: unknown }).outcome;
  return outcome === 'failed' || outcome === 'canceled' ? outcome : 'resolved';
}

/** The typed event through the domain's upcasters, or a ProjectionEventError naming this event. */
function typedEvent(event: RecordedEvent): PaymentEvent | RefundEvent {
  try {
    return event.type.startsWith('Refund') ? toRefundEvent(event) : toDomainEvent(event);
  } catch (error) {
    throw new ProjectionEventError(event, describeError(error));
  }
}

function moneyFacts(event: RecordedEvent): MoneyFacts | undefined {
  if (!LEDGER_EVENT_TYPES.includes(event.type)) return undefined;
  const typed = typedEvent(event);
  switch (typed.type) {
    case 'PaymentCaptured': {
      const { paymentId, customerId, currency, amount } = typed.data;
      return { paymentId, refundId: null, customerId, currency, amount: checkedAmount(event, amount) };
    }
    case 'PaymentRefundReserved':
    case 'PaymentRefundSettled':
    case 'PaymentRefundReleased':
    case 'RefundSucceeded': {
      const { paymentId, refundId, customerId, currency, amount } = typed.data;
      return { paymentId, refundId, customerId, currency, amount: checkedAmount(event, amount) };
    }
    default:
      return undefined;
  }
}

function checkedAmount(event: RecordedEvent, amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0 || amount > MAX_AMOUNT_MINOR) {
    throw new ProjectionEventError(event, `${event.type} has an amount that is not a count of minor units: ${String(amount)}`);
  }
  return amount;
}
