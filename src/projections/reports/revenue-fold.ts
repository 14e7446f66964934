import { toDomainEvent } from '../../application/payments/payment-stream.js';
import { toRefundEvent } from '../../application/refunds/refund-stream.js';
import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { PositionParts } from '../../application/ports/position.js';
import { comparePositions } from '../../application/ports/position.js';
import type { CalendarDate } from '../../application/reports/calendar-date.js';
import { utcDayOf } from '../../application/reports/calendar-date.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { describeError } from '../logger.js';
import { ProjectionEventError } from '../projection.js';

/*
 * The pure half of the reports projection: which events count, what each adds to its
 * (UTC day, currency) row, and how a batch folds into the stored rows. Kept free of SQL so
 * that a unit test and a fast-check property can compare it with a naive recomputation.
 */

export const REVENUE_EVENT_TYPES = ['PaymentCaptured', 'RefundSucceeded'] as const;

/** Money and counts, in integer minor units. */
export interface RevenueCounts {
  readonly gross: number;
  readonly refunded: number;
  readonly payments: number;
  readonly refunds: number;
}

/** What one event adds to one (day, currency) row. */
export interface RevenueContribution extends RevenueCounts {
  readonly day: CalendarDate;
  readonly currency: CurrencyCode;
}

/**
 * What a batch adds to one (day, currency) row, written with `+=`. `last` is the position
 * of the last event it counts: events reach a row in log order, so a row whose stored
 * `last` is at or after an event's position has counted it (docs/architecture.md,
 * "Projections": a rebuild or a re-run batch applies the same events again, and must
 * change nothing).
 */
export interface RevenueDelta extends RevenueContribution {
  readonly last: PositionParts;
}

/** A stored row as the fold sees it: its totals and the last position it counted. */
export type RevenueTotals = RevenueDelta;

/** An event that counts, with what it adds. */
export interface CountedEvent {
  readonly event: RecordedEvent;
  readonly contribution: RevenueContribution;
}

export const rowKey = (day: string, currency: string): string => `${day} ${currency}`;

const isAmount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function dayOf(event: RecordedEvent): CalendarDate {
  const day = typeof event.metadata.occurredAt === 'string' ? utcDayOf(event.metadata.occurredAt) : undefined;
  if (day === undefined) throw new ProjectionEventError(event, `occurredAt is not a timestamp: ${JSON.stringify(event.metadata.occurredAt)}`);
  return day;
}

/** RefundSucceeded through the refund aggregate's upcaster, or a ProjectionEventError naming this event. */
function refundAmountOf(event: RecordedEvent): { amount: number; currency: CurrencyCode } {
  let refund;
  try {
    refund = toRefundEvent(event);
  } catch (error) {
    throw new ProjectionEventError(event, describeError(error));
  }
  return { amount: refund.data.amount, currency: refund.data.currency };
}

/** What `event` adds to the report; undefined for an event type reports do not count. */
export function contributionOf(event: RecordedEvent): RevenueContribution | undefined {
  switch (event.type) {
    case 'PaymentCaptured': {
      let captured;
      try {
        captured = toDomainEvent(event);
      } catch (error) {
        throw new ProjectionEventError(event, describeError(error));
      }
      if (captured.type !== 'PaymentCaptured') return undefined;
      if (!isAmount(captured.data.amount)) throw new ProjectionEventError(event, 'PaymentCaptured needs a non-negative integer amount');
      return { day: dayOf(event), currency: captured.data.currency, gross: captured.data.amount, refunded: 0, payments: 1, refunds: 0 };
    }
    case 'RefundSucceeded': {
      const { amount, currency } = refundAmountOf(event);
      return { day: dayOf(event), currency, gross: 0, refunded: amount, payments: 0, refunds: 1 };
    }
    default:
      return undefined;
  }
}

/** Sums of minor units stay exact: past 2^53 a total is a bug to stop at, not a rounding. */
function addCounts(event: RecordedEvent | undefined, a: RevenueCounts | undefined, b: RevenueCounts): RevenueCounts {
  const add = (x: number, y: number): number => {
    const sum = x + y;
    if (Number.isSafeInteger(sum)) return sum;
    const message = `a report total would leave the exact integer range (${x} + ${y})`;
    throw event ? new ProjectionEventError(event, message) : new RangeError(message);
  };
  return {
    gross: add(a?.gross ?? 0, b.gross),
    refunded: add(a?.refunded ?? 0, b.refunded),
    payments: add(a?.payments ?? 0, b.payments),
    refunds: add(a?.refunds ?? 0, b.refunds),
  };
}

/** The events of a batch that reports count, each read once. */
export const countedEvents = (events: readonly RecordedEvent[]): CountedEvent[] =>
  events.flatMap((event) => {
    const contribution = contributionOf(event);
    return contribution ? [{ event, contribution }] : [];
  });

/** The distinct (day, currency) rows `counted` touch, for the batch's one read of stored positions. */
export function keysOf(counted: readonly CountedEvent[]): { days: CalendarDate[]; currencies: CurrencyCode[] } {
  const seen = new Map<string, RevenueContribution>();
  for (const { contribution: c } of counted) seen.set(rowKey(c.day, c.currency), c);
  const keys = [...seen.values()];
  return { days: keys.map((k) => k.day), currencies: keys.map((k) => k.currency) };
}

/**
 * Aggregates a batch (in log order) into one delta per (day, currency) row. `storedLast`
 * holds the last position each existing row counted (by rowKey); an event at or before it
 * is already in the row and is left out, so a replayed batch yields no delta at all.
 */
export function aggregateBatch(storedLast: ReadonlyMap<string, PositionParts>, counted: readonly CountedEvent[]): RevenueDelta[] {
  const deltas = new Map<string, RevenueDelta>();
  for (const { event, contribution: c } of counted) {
    const key = rowKey(c.day, c.currency);
    const seenUpTo = storedLast.get(key);
    if (seenUpTo && comparePositions(event.position, seenUpTo) <= 0) continue;
    deltas.set(key, { day: c.day, currency: c.currency, ...addCounts(event, deltas.get(key), c), last: event.position });
  }
  return [...deltas.values()];
}

/**
 * The upsert's rule, in memory: a delta adds to its row, unless the row already counted
 * its last event (the SQL's WHERE says the same). Undefined `row`: a new row.
 */
export function mergeDelta(row: RevenueTotals | undefined, delta: RevenueDelta): RevenueTotals {
  if (row && comparePositions(delta.last, row.last) <= 0) return row;
  return { day: delta.day, currency: delta.currency, ...addCounts(undefined, row, delta), last: delta.last };
}
