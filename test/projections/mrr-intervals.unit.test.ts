import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';
import type { TrackedSubscription } from '../../src/projections/subscription-metrics/mrr-intervals.js';
import { foldIntervals } from '../../src/projections/subscription-metrics/mrr-intervals.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import { writeMrrScenario } from './support/mrr-scenario.js';

/*
 * The interval fold (src/projections/subscription-metrics/mrr-intervals.ts) in memory, over
 * the MRR scenario's events written by the real command handlers: batch boundaries do not
 * matter, a replay changes nothing, and a clock that seems to run backwards leaves an empty
 * interval rather than a negative one.
 */

async function scenario(): Promise<readonly RecordedEvent[]> {
  return writeMrrScenario(new InMemoryEventStore());
}

/** Folds `events` in batches of `size`, applying each batch's changes to an in-memory table. */
function foldInBatches(events: readonly RecordedEvent[], size: number) {
  let tracked = new Map<string, TrackedSubscription>();
  const rows = new Map<string, { validFrom: string; validTo: string | null; status: string; churned: boolean }>();
  for (let at = 0; at < events.length; at += size) {
    const changes = foldIntervals(tracked, events.slice(at, at + size));
    for (const c of changes.closes) {
      const row = rows.get(`${c.subscriptionId} ${c.seq}`);
      if (!row || row.validTo !== null) throw new Error('closed an interval that is not open');
      row.validTo = c.validTo;
    }
    for (const i of changes.inserts) rows.set(`${i.subscriptionId} ${i.seq}`, { validFrom: i.validFrom, validTo: i.validTo, status: i.status, churned: i.churned });
    tracked = new Map(changes.tracked);
  }
  return { tracked, rows };
}

describe('the MRR interval fold', () => {
  it('leaves the same intervals whatever the batch size, each subscription\'s intervals back to back', async () => {
    const events = await scenario();
    const whole = foldInBatches(events, events.length);
    for (const size of [1, 2, 5]) expect(foldInBatches(events, size).rows).toEqual(whole.rows);
    const bySubscription = new Map<string, { validFrom: string; validTo: string | null }[]>();
    for (const [key, row] of whole.rows) {
      const id = key.split(' ')[0] as string;
      bySubscription.set(id, [...(bySubscription.get(id) ?? []), row]);
    }
    for (const intervals of bySubscription.values()) {
      for (let i = 1; i < intervals.length; i++) expect(intervals[i]?.validFrom).toBe(intervals[i - 1]?.validTo);
      expect(intervals[intervals.length - 1]?.validTo).toBeNull();
    }
    // Two cancellations from counted statuses (C, and T on its clock); G's, in its trial, is not churn.
    expect([...whole.rows.values()].filter((r) => r.churned)).toHaveLength(2);
    expect([...whole.rows.values()].filter((r) => r.status === 'canceled')).toHaveLength(3);
  });

  it('changes nothing for events it has folded already', async () => {
    const events = await scenario();
    const { tracked } = foldInBatches(events, 4);
    const again = foldIntervals(tracked, events);
    expect(again.inserts).toEqual([]);
    expect(again.closes).toEqual([]);
    expect(again.dirty.size).toBe(0);
  });

  it('starts an interval no earlier than the one it closes', async () => {
    const events = await scenario();
    const created = events[0] as RecordedEvent;
    const paid = events.find((e) => e.streamId === created.streamId && e.type === 'SubscriptionActivated') as RecordedEvent;
    const early = { ...paid, metadata: { ...paid.metadata, occurredAt: '2020-01-01T00:00:00.000Z' } };
    const { inserts } = foldIntervals(new Map(), [created, early]);
    expect(inserts.map((i) => [i.status, i.validFrom, i.validTo])).toEqual([
      ['incomplete', '2026-01-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z'],
      ['active', '2026-01-05T00:00:00.000Z', null],
    ]);
  });

  it('names the event it cannot use', async () => {
    const events = await scenario();
    const created = events[0] as RecordedEvent;
    const broken = { ...created, metadata: { ...created.metadata, occurredAt: 'yesterday' } };
    expect(() => foldIntervals(new Map(), [broken])).toThrow(ProjectionEventError);
    const orphan = events.find((e) => e.type === 'SubscriptionActivated') as RecordedEvent;
    expect(() => foldIntervals(new Map(), [orphan])).toThrow(/never created/);
  });
});
