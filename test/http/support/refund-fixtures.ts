import { randomBytes } from 'node:crypto';
import type { EventStore } from '../../../src/application/ports/event-store.js';
import { streamRevision } from '../../../src/application/ports/event-store.js';
import { formatPosition } from '../../../src/application/ports/position.js';
import type { RefundId } from '../../../src/domain/ids.js';
import { refundStream, toPaymentId, toRefundId } from '../../../src/domain/ids.js';
import { encodeTimeOrdered } from '../../../src/infrastructure/system/crockford.js';
import type { RefundPlan } from '../../projections/support/refund-scenarios.js';
import { refundEvents, toNewEvents } from '../../projections/support/refund-scenarios.js';

/*
 * Refunds for the read-side suites, written straight to the event store as the contract
 * describes them (src/domain/refund/events.ts). The write side (POST /v1/refunds) is not
 * needed to test what the API shows.
 */

let lastMs = 0;

/** A new refund id, later than every one made before in this process (ids are time-ordered). */
export function newRefundId(): RefundId {
  lastMs = Math.max(Date.now(), lastMs + 1);
  return toRefundId(`re_${encodeTimeOrdered(lastMs, randomBytes(10))}`);
}

export interface WrittenRefund {
  readonly id: RefundId;
  /** Ledger-Position of each event, in order: pass as minPosition. */
  readonly positions: string[];
}

/** Appends a refund's history for `paymentId` of `customerId`, one event per append as the write side would. */
export async function writeRefund(store: EventStore, paymentId: string, customerId: string, plan: Omit<RefundPlan, 'customer'>): Promise<WrittenRefund> {
  const id = newRefundId();
  const positions: string[] = [];
  for (const [i, event] of refundEvents(id, toPaymentId(paymentId), { ...plan, customer: 0 }, customerId).entries()) {
    const result = await store.append(refundStream(id), toNewEvents([event]), i === 0 ? 'no_stream' : streamRevision(i - 1));
    positions.push(formatPosition(result.position));
  }
  return { id, positions };
}
