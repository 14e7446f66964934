import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import type { RefundView } from '../../src/application/refunds/refund-view.js';
import type { RefundEvent } from '../../src/domain/refund/events.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import { nextRefundView } from '../../src/projections/refunds/refund-view-fold.js';
import { foldRefundBatch } from '../../src/projections/refunds/refunds-projection.js';
import { cutIntoBatches } from './support/payment-scenarios.js';
import { batchSizesArb, expectedRow, refundEvents, refundIds, scenarioArb, scenarioLog } from './support/refund-scenarios.js';

const [{ refundId, paymentId }] = refundIds(7) as [{ refundId: RefundView['id']; paymentId: RefundView['paymentId'] }];

const recorded = (events: readonly RefundEvent[], overrides: Partial<RecordedEvent> = {}): RecordedEvent[] =>
  events.map((e, i) => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    type: e.type,
    streamId: `refund-${refundId}`,
    revision: streamRevision(i),
    position: position(BigInt(i + 1), BigInt(i + 1)),
    data: e.data,
    metadata: { correlationId: 'c', causationId: null, actor: 't', occurredAt: `2026-01-0${i + 1}T00:00:00.000Z`, schemaVersion: 1 },
    recordedAt: new Date(),
    ...overrides,
  }));

const foldAll = (events: readonly RecordedEvent[]): RefundView | undefined => events.reduce<RefundView | undefined>((view, e) => nextRefundView(view, e) ?? view, undefined);

const plan = { amount: 1_500, currency: 'EUR', customer: 1, reason: 'duplicate' as const };

describe('refund row fold', () => {
  it('creates the refund pending, as RefundView orders its fields', () => {
    const [requested] = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'pending' }));
    const view = nextRefundView(undefined, requested!);
    expect(JSON.stringify(view)).toBe(
      JSON.stringify({
        id: refundId,
        object: 'refund',
        paymentId,
        customerId: 'cus_1',
        amount: 1_500,
        currency: 'EUR',
        status: 'pending',
        reason: 'duplicate',
        failureReason: null,
        metadata: { order: 'o-1500', a: '1' },
        revision: '0',
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      }),
    );
  });

  it.each([
    ['succeeded', null],
    ['failed', 'expired_or_canceled_card'],
    ['canceled', null],
  ] as const)('moves pending to %s once, keeping what the request said', (outcome, failureReason) => {
    const view = foldAll(recorded(refundEvents(refundId, paymentId, { ...plan, outcome })));
    expect(view).toMatchObject({ status: outcome, failureReason, amount: 1_500, reason: 'duplicate', revision: '1', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' });
  });

  it('ignores an event the row already has (replay)', () => {
    const events = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'succeeded' }));
    const view = foldAll(events)!;
    for (const e of events) expect(nextRefundView(view, e)).toBeUndefined();
  });

  it('stops at an update of a refund it never saw, a second request, or a change to a terminal refund', () => {
    const [requested, succeeded] = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'succeeded' }));
    expect(() => nextRefundView(undefined, succeeded!)).toThrow(ProjectionEventError);
    expect(() => nextRefundView(undefined, succeeded!)).toThrow(/not in the read model/);
    const pending = nextRefundView(undefined, requested!)!;
    expect(() => nextRefundView(pending, { ...requested!, revision: streamRevision(1) })).toThrow(/already requested/);
    const done = nextRefundView(pending, succeeded!)!;
    const [, canceled] = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'canceled' }));
    expect(() => nextRefundView(done, { ...canceled!, revision: streamRevision(2) })).toThrow(/RefundCanceled cannot apply .*already succeeded/);
  });

  it('stops, naming the event, at an event the contract does not describe', () => {
    const [requested] = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'pending' }));
    const broken = (data: Record<string, unknown>, metadata = {}): RecordedEvent => ({
      ...requested!,
      data: { ...(requested!.data as object), ...data },
      metadata: { ...requested!.metadata, ...metadata },
    });
    expect(() => nextRefundView(undefined, broken({ currency: 'usd' }))).toThrow(/no known currency/);
    expect(() => nextRefundView(undefined, broken({ amount: 0 }))).toThrow(/no positive integer amount/);
    expect(() => nextRefundView(undefined, broken({ refundId: 'pay_x' }))).toThrow(/names no refund id/);
    expect(() => nextRefundView(undefined, broken({ reason: 'because' }))).toThrow(/unknown reason/);
    expect(() => nextRefundView(undefined, broken({}, { schemaVersion: 2 }))).toThrow(/newer than this code/);
    const error = (() => {
      try {
        nextRefundView(undefined, broken({ paymentId: 'nope' }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ProjectionEventError);
    expect((error as ProjectionEventError).event.id).toBe(requested!.id);
  });

  it('announces each change to the refund, its payment and its customer, created then updated', () => {
    const events = recorded(refundEvents(refundId, paymentId, { ...plan, outcome: 'failed' }));
    const { changes, rows } = foldRefundBatch([], events);
    expect(changes.map((c) => [c.type, c.topics, c.position])).toEqual([
      ['refund.created', [`refund:${refundId}`, `payment:${paymentId}`, 'customer:cus_1'], events[0]!.position],
      ['refund.updated', [`refund:${refundId}`, `payment:${paymentId}`, 'customer:cus_1'], events[1]!.position],
    ]);
    expect(rows).toEqual([changes[1]!.data]);
  });
});

/** The table in memory: each batch starts from the stored rows it names and writes only forward (the upsert's guard). */
function applyInBatches(table: Map<string, RefundView>, log: readonly RecordedEvent[], sizes: readonly number[]) {
  const changes = [];
  for (const batch of cutIntoBatches(log, sizes)) {
    const named = new Set(batch.map((e) => (e.data as { refundId: string }).refundId));
    const folded = foldRefundBatch([...table.values()].filter((v) => named.has(v.id)), batch);
    for (const row of folded.rows) {
      const before = table.get(row.id);
      if (!before || BigInt(before.revision) < BigInt(row.revision)) table.set(row.id, row);
    }
    changes.push(...folded.changes);
  }
  return changes;
}

describe('refunds read model fold, for random refund histories', () => {
  it('holds each refund with its status and amount, whatever the batches, announces each event once, and a replay changes nothing', () => {
    fc.assert(
      fc.property(scenarioArb, batchSizesArb, batchSizesArb, (scenario, sizes, againSizes) => {
        const { log, expected } = scenarioLog(scenario);
        const table = new Map<string, RefundView>();
        const changes = applyInBatches(table, log, sizes);
        expect(table.size).toBe(expected.length);
        for (const e of expected) expect(table.get(e.refundId)).toMatchObject(expectedRow(e));
        expect(changes.map((c) => c.position)).toEqual(log.map((e) => e.position));

        const before = structuredClone([...table.entries()]);
        expect(applyInBatches(table, log, againSizes)).toEqual([]);
        expect([...table.entries()]).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});
