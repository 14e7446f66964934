import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { PositionParts } from '../../src/application/ports/position.js';
import type { RevenueTotals } from '../../src/projections/reports/revenue-fold.js';
import { aggregateBatch, countedEvents, mergeDelta, rowKey } from '../../src/projections/reports/revenue-fold.js';
import { capturedEvent, recorded, refundSucceededEvent } from './support/revenue-events.js';

/*
 * The batch path (aggregate in memory, one += merge per row, guarded by the row's last
 * position) must leave exactly what a naive per-event sum leaves, however the log is cut
 * into batches, and a batch applied twice must change nothing.
 */

const DAY0 = Date.UTC(2024, 1, 27);
const eventArb = fc.record({
  kind: fc.constantFrom('capture' as const, 'refund' as const),
  // A handful of days around a leap day and a few currencies, so rows collide often.
  dayOffset: fc.integer({ min: 0, max: 4 }),
  msOfDay: fc.integer({ min: 0, max: 86_399_999 }),
  currency: fc.constantFrom('USD', 'EUR', 'JPY'),
  amount: fc.integer({ min: 1, max: 10_000_000 }),
});

type Spec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function toRecorded(specs: readonly Spec[]): RecordedEvent[] {
  return specs.map((s, i) => {
    const occurredAt = new Date(DAY0 + s.dayOffset * 86_400_000 + s.msOfDay).toISOString();
    const base = { payment: i + 1, amount: s.amount, currency: s.currency, occurredAt };
    return recorded(s.kind === 'capture' ? capturedEvent(base) : refundSucceededEvent({ ...base, refund: i + 1 }), i + 1);
  });
}

type Table = Map<string, RevenueTotals>;

/** What the projection does with one batch, on an in-memory table. */
function applyBatch(table: Table, batch: readonly RecordedEvent[]): void {
  const storedLast = new Map<string, PositionParts>([...table].map(([key, row]) => [key, row.last]));
  for (const delta of aggregateBatch(storedLast, countedEvents(batch))) {
    const key = rowKey(delta.day, delta.currency);
    table.set(key, mergeDelta(table.get(key), delta));
  }
}

/** The report recomputed naively, event by event. */
function naive(specs: readonly Spec[]): Map<string, { gross: number; refunded: number; payments: number; refunds: number }> {
  const out = new Map<string, { gross: number; refunded: number; payments: number; refunds: number }>();
  for (const s of specs) {
    const day = new Date(DAY0 + s.dayOffset * 86_400_000 + s.msOfDay).toISOString().slice(0, 10);
    const key = rowKey(day, s.currency);
    const row = out.get(key) ?? { gross: 0, refunded: 0, payments: 0, refunds: 0 };
    if (s.kind === 'capture') out.set(key, { ...row, gross: row.gross + s.amount, payments: row.payments + 1 });
    else out.set(key, { ...row, refunded: row.refunded + s.amount, refunds: row.refunds + 1 });
  }
  return out;
}

const totalsOf = (table: Table) => new Map([...table].map(([key, { gross, refunded, payments, refunds }]) => [key, { gross, refunded, payments, refunds }]));

describe('reports fold (property)', () => {
  it('equals a naive recomputation for any batching, and a batch applied twice changes nothing', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
        (specs, cuts, replays) => {
          const events = toRecorded(specs);
          const table: Table = new Map();
          let at = 0;
          for (let i = 0; at < events.length; i++) {
            const batch = events.slice(at, at + (cuts[i % cuts.length] as number));
            applyBatch(table, batch);
            if (replays[i % replays.length]) {
              const before = structuredClone([...table]);
              applyBatch(table, batch);
              expect([...table]).toEqual(before);
            }
            at += batch.length;
          }
          expect(totalsOf(table)).toEqual(naive(specs));
          // A full replay from the start (a rebuild that found the rows in place) adds nothing either.
          const settled = structuredClone([...table]);
          applyBatch(table, events);
          expect([...table]).toEqual(settled);
        },
      ),
      { numRuns: 300 },
    );
  });
});
