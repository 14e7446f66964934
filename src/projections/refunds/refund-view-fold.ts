import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { RefundStatus, RefundView } from '../../application/refunds/refund-view.js';
import { isCurrencyCode } from '../../domain/currency.js';
import { isPaymentId, isRefundId } from '../../domain/ids.js';
import type { RefundEvent, RefundEventType } from '../../domain/refund/events.js';
import { REFUND_EVENT_TYPES, REFUND_REASONS } from '../../domain/refund/events.js';
import { ProjectionEventError } from '../projection.js';

/*
 * The refund row as a pure fold of the refund stream (docs/architecture.md, "Projections").
 * Until the refund aggregate's decider is merged this fold carries the status rules itself:
 * `pending` (RefundRequested) moves once to a terminal state, and a terminal state never
 * changes. Once `src/domain/refund/decider.ts` exists this should become toView(evolve(…)),
 * as payments do, so that the projection and the command handlers share one fold.
 */

/** The schema version of refund events this code reads; a newer one is a bad deploy. */
const CURRENT_SCHEMA_VERSION = 1;

const TERMINAL: Readonly<Record<Exclude<RefundEventType, 'RefundRequested'>, Exclude<RefundStatus, 'pending'>>> = {
  RefundSucceeded: 'succeeded',
  RefundFailed: 'failed',
  RefundCanceled: 'canceled',
};

const isRefundEventType = (type: string): type is RefundEventType => (REFUND_EVENT_TYPES as readonly string[]).includes(type);

/** Why `data` is not the event the contract (src/domain/refund/events.ts) describes; undefined when it is. */
function shapeProblem(type: RefundEventType, data: Record<string, unknown>): string | undefined {
  const { refundId, paymentId, customerId, amount, currency } = data;
  if (typeof refundId !== 'string' || !isRefundId(refundId)) return `names no refund id: ${String(refundId)}`;
  if (typeof paymentId !== 'string' || !isPaymentId(paymentId)) return `of ${refundId} names no payment id: ${String(paymentId)}`;
  if (typeof customerId !== 'string' || customerId.length === 0) return `of ${refundId} names no customer`;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) return `of ${refundId} has no positive integer amount`;
  if (typeof currency !== 'string' || !isCurrencyCode(currency)) return `of ${refundId} has no known currency: ${String(currency)}`;
  if (type === 'RefundRequested') {
    const { reason, metadata } = data;
    if (reason !== null && !(REFUND_REASONS as readonly unknown[]).includes(reason)) return `of ${refundId} has an unknown reason: ${JSON.stringify(reason)}`;
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return `of ${refundId} has no metadata object`;
  }
  if (type === 'RefundFailed' && typeof data.failureReason !== 'string') return `of ${refundId} has no failureReason`;
  return undefined;
}

/** The typed event, or a ProjectionEventError naming this event (the projection stops there). */
export function refundEventOf(recorded: RecordedEvent): RefundEvent {
  const fail = (why: string): never => {
    throw new ProjectionEventError(recorded, why);
  };
  if (!isRefundEventType(recorded.type)) return fail(`not a refund event: ${recorded.type}`);
  if (recorded.metadata.schemaVersion > CURRENT_SCHEMA_VERSION) return fail(`${recorded.type} schema version ${recorded.metadata.schemaVersion} is newer than this code`);
  const data = recorded.data;
  if (typeof data !== 'object' || data === null) return fail(`${recorded.type} has no data`);
  const problem = shapeProblem(recorded.type, data as Record<string, unknown>);
  if (problem !== undefined) return fail(`${recorded.type} ${problem}`);
  return { type: recorded.type, data } as RefundEvent;
}

/**
 * The refund after `recorded`, or undefined when `prev` already reflects it (a replay: its
 * revision is not newer). Throws ProjectionEventError for an event the rules do not allow:
 * an update of a refund never created (lost events), a second RefundRequested, or a change
 * to a refund already in a terminal state.
 */
export function nextRefundView(prev: RefundView | undefined, recorded: RecordedEvent, event: RefundEvent = refundEventOf(recorded)): RefundView | undefined {
  if (prev && BigInt(prev.revision) >= recorded.revision) return undefined;
  const at = recorded.metadata.occurredAt;
  const { refundId } = event.data;
  if (event.type === 'RefundRequested') {
    if (prev) throw new ProjectionEventError(recorded, `refund ${refundId} was already requested (revision ${prev.revision})`);
    const { paymentId, customerId, amount, currency, reason, metadata } = event.data;
    // Field by field, in this order: it is the order of RefundView, and of the JSON clients see.
    return {
      id: refundId,
      object: 'refund',
      paymentId,
      customerId,
      amount,
      currency,
      status: 'pending',
      reason,
      failureReason: null,
      metadata,
      revision: recorded.revision.toString(),
      createdAt: at,
      updatedAt: at,
    };
  }
  if (!prev) throw new ProjectionEventError(recorded, `refund ${refundId} is not in the read model (${event.type} before RefundRequested)`);
  if (prev.status !== 'pending') throw new ProjectionEventError(recorded, `refund ${refundId} is already ${prev.status}; ${event.type} cannot change it`);
  return {
    ...prev,
    status: TERMINAL[event.type],
    failureReason: event.type === 'RefundFailed' ? event.data.failureReason : null,
    revision: recorded.revision.toString(),
    updatedAt: at,
  };
}
