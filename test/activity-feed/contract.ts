import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityFeedStore, ActivityRecord } from '../../src/application/ports/activity-feed.js';
import type { NewEvent } from '../../src/application/ports/event-store.js';
import { START, formatPosition, parsePosition, position } from '../../src/application/ports/position.js';
import { activityRecordOf } from '../../src/projections/activity/activity-entries.js';
import { applyNextBatch } from '../../src/projections/activity/activity-feed-runner.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/**
 * What every ActivityFeedStore adapter promises (src/application/ports/activity-feed.ts),
 * run against MongoDB (FerretDB) and PostgreSQL JSONB. Collections stay small on purpose:
 * FerretDB is slow at filtered queries, and its speed says nothing about MongoDB's.
 */
export interface ActivityFeedFixture {
  readonly feed: ActivityFeedStore;
  /** A second adapter instance over the same data (another service instance). */
  readonly openAnother: () => ActivityFeedStore;
  readonly teardown: () => Promise<void>;
}

let seq = 0;
function record(customerId: string, commit: number, overrides: Partial<ActivityRecord['entry']> = {}): ActivityRecord {
  seq++;
  return {
    customerId,
    entry: {
      id: randomUUID(),
      type: 'payment.created',
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      position: formatPosition(position(BigInt(commit), BigInt(commit))),
      paymentId: `pay_${String(seq).padStart(26, '0')}`,
      amount: 1_000 + seq,
      currency: 'USD',
      summary: `entry ${seq}`,
      ...overrides,
    },
  };
}

const payment = (customerId: string, paymentId: string, amount: number): NewEvent => ({
  id: randomUUID(),
  type: 'PaymentAuthorized',
  data: {
    paymentId, customerId, amount, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual',
    providerPaymentId: 'pi_1', description: null, metadata: {},
  },
  metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
});

const billingMeta = { correlationId: 'c', causationId: null, actor: 'billing', occurredAt: '2026-02-15T12:00:00.000Z', schemaVersion: 1 };
const subscriptionEvent = (type: string, subscriptionId: string, customerId: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(), type, data: { subscriptionId, customerId, ...data }, metadata: billingMeta,
});
const invoiceEvent = (type: string, invoiceId: string, subscriptionId: string, customerId: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(), type, data: { invoiceId, subscriptionId, customerId, currency: 'BHD', ...data }, metadata: billingMeta,
});

/** A subscription created, its first invoice issued and paid, then the subscription paused: entries with and without amounts. */
function billingLog(customerId: string, n: number): { stream: string; events: NewEvent[] }[] {
  const subscriptionId = `sub_01JD${String(n).padStart(22, '0')}`;
  const invoiceId = `in_01JD${String(n).padStart(22, '0')}`;
  const period = { kind: 'billing', index: 0, start: '2026-01-15T12:00:00.000Z', end: '2026-02-15T12:00:00.000Z' };
  return [
    { stream: `subscription-${subscriptionId}`, events: [subscriptionEvent('SubscriptionCreated', subscriptionId, customerId, {
      price: { amount: 12_345, currency: 'BHD', interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', metadata: {}, testClock: null,
      createdAt: period.start, status: 'incomplete', trialEnd: null, billingCycleAnchor: period.start, currentPeriod: period,
    })] },
    { stream: `invoice-${invoiceId}`, events: [
      invoiceEvent('InvoiceIssued', invoiceId, subscriptionId, customerId, {
        billingReason: 'subscription_create', total: 12_345, periodStart: period.start, periodEnd: period.end, issuedAt: period.start, testClock: null,
        lines: [{ kind: 'subscription', amount: 12_345, description: 'Subscription', periodStart: period.start, periodEnd: period.end }],
      }),
      invoiceEvent('InvoicePaymentAttempted', invoiceId, subscriptionId, customerId, { attempt: 1, paymentId: `pay_01JD${String(n).padStart(22, '0')}`, at: period.start }),
      invoiceEvent('InvoicePaid', invoiceId, subscriptionId, customerId, { amountPaid: 12_345, paymentId: `pay_01JD${String(n).padStart(22, '0')}`, at: period.start }),
    ] },
    { stream: `subscription-${subscriptionId}`, events: [
      subscriptionEvent('SubscriptionActivated', subscriptionId, customerId, { invoiceId }),
      subscriptionEvent('SubscriptionPaused', subscriptionId, customerId, { at: period.end }),
    ] },
  ];
}

export function activityFeedContract(name: string, makeFixture: () => Promise<ActivityFeedFixture>): void {
  describe(`ActivityFeedStore contract: ${name}`, () => {
    let fx: ActivityFeedFixture;
    beforeAll(async () => {
      fx = await makeFixture();
      await fx.feed.prepare();
    });
    afterAll(async () => {
      await fx?.teardown();
    });

    it('starts with an empty live generation at the start of the log; prepare is idempotent', async () => {
      await fx.feed.prepare();
      const state = await fx.feed.state();
      expect(state.checkpoint).toEqual(START);
      expect(await fx.feed.page({ customerId: 'cus_nobody', limit: 10 })).toEqual([]);
    });

    it('pages one customer newest first by position, with a before-cursor, and never shows another customer', async () => {
      const { live } = await fx.feed.state();
      const mine = [record('cus_page', 30), record('cus_page', 10), record('cus_page', 20)];
      const theirs = record('cus_other', 25);
      await fx.feed.insert(live, [...mine, theirs]);
      const first = await fx.feed.page({ customerId: 'cus_page', limit: 2 });
      expect(first.map((e) => e.position)).toEqual(['30.30', '20.20']);
      expect(first[0]).toEqual(mine[0]!.entry);
      const rest = await fx.feed.page({ customerId: 'cus_page', limit: 2, beforePosition: position(20n, 20n) });
      expect(rest.map((e) => e.position)).toEqual(['10.10']);
      expect((await fx.feed.page({ customerId: 'cus_other', limit: 10 })).map((e) => e.id)).toEqual([theirs.entry.id]);
    });

    it('orders by the whole position, not by its text (9.x before 10.x)', async () => {
      const { live } = await fx.feed.state();
      const low = record('cus_order', 9);
      const high = record('cus_order', 10);
      await fx.feed.insert(live, [low, high]);
      expect((await fx.feed.page({ customerId: 'cus_order', limit: 5 })).map((e) => e.id)).toEqual([high.entry.id, low.entry.id]);
    });

    it('is insert-only by event id: re-inserting (alone or mixed with new ones) keeps one copy, the first, and writes the new', async () => {
      const { live } = await fx.feed.state();
      const a = record('cus_dupe', 40);
      const b = record('cus_dupe', 41);
      await fx.feed.insert(live, [a]);
      const changedA = { customerId: a.customerId, entry: { ...a.entry, summary: 'changed' } };
      await fx.feed.insert(live, [changedA, b]);
      await fx.feed.insert(live, [a, b]);
      const page = await fx.feed.page({ customerId: 'cus_dupe', limit: 10 });
      expect(page).toEqual([b.entry, a.entry]);
    });

    it('moves the checkpoint only from the position it is at', async () => {
      const another = fx.openAnother();
      try {
        const { live, checkpoint } = await fx.feed.state();
        const next = position(checkpoint.commit + 5n, 0n);
        expect(await fx.feed.advance(live, next, next)).toBe(false);
        expect(await fx.feed.advance(live, checkpoint, next)).toBe(true);
        // The other instance lost the race: it still believes in the old checkpoint.
        expect(await another.advance(live, checkpoint, position(checkpoint.commit + 6n, 0n))).toBe(false);
        expect((await another.state()).checkpoint).toEqual(next);
        expect(await fx.feed.checkpointOf(live)).toEqual(next);
      } finally {
        await another.close();
      }
    });

    it('rebuilds into a fresh generation beside the live one, then switches; the retired one refuses checkpoints', async () => {
      const before = await fx.feed.state();
      const liveEntry = record('cus_gen', 50);
      await fx.feed.insert(before.live, [liveEntry]);
      const generation = await fx.feed.createGeneration();
      expect(generation).not.toBe(before.live);
      expect(await fx.feed.checkpointOf(generation)).toEqual(START);
      const rebuilt = record('cus_gen', 51);
      await fx.feed.insert(generation, [rebuilt]);
      // Still serving the live generation.
      expect((await fx.feed.page({ customerId: 'cus_gen', limit: 5 })).map((e) => e.id)).toEqual([liveEntry.entry.id]);
      expect(await fx.feed.advance(generation, START, position(60n, 0n))).toBe(true);
      await fx.feed.switchLive(generation);
      expect(await fx.feed.state()).toEqual({ live: generation, checkpoint: position(60n, 0n) });
      expect((await fx.feed.page({ customerId: 'cus_gen', limit: 5 })).map((e) => e.id)).toEqual([rebuilt.entry.id]);
      // A runner still writing the old generation finds out at its checkpoint.
      expect(await fx.feed.advance(before.live, before.checkpoint, position(70n, 0n))).toBe(false);
      expect(await fx.feed.checkpointOf(before.live)).toBeUndefined();
    });

    it('a new rebuild retires an unfinished one and leaves the live generation and its checkpoint alone', async () => {
      const live = await fx.feed.state();
      const abandoned = await fx.feed.createGeneration();
      await fx.feed.insert(abandoned, [record('cus_abandoned', 80)]);
      const moved = position(live.checkpoint.commit + 1n, 0n);
      expect(await fx.feed.advance(live.live, live.checkpoint, moved)).toBe(true);
      const next = await fx.feed.createGeneration();
      expect(next).not.toBe(abandoned);
      expect(await fx.feed.checkpointOf(abandoned)).toBeUndefined();
      expect(await fx.feed.advance(abandoned, START, position(90n, 0n))).toBe(false);
      expect(await fx.feed.state()).toEqual({ live: live.live, checkpoint: moved });
      expect(await fx.feed.checkpointOf(next)).toEqual(START);
    });

    it('keeps subscription and invoice entries exactly as written: their own fields, and no amount where the fact names none', async () => {
      const events = new InMemoryEventStore();
      const customer = `cus_billing_${seq++}`;
      for (const { stream, events: batch } of billingLog(customer, seq)) await events.append(stream, batch, 'any');
      const generation = await fx.feed.createGeneration();
      await fx.feed.switchLive(generation);
      const step = await applyNextBatch({ eventStore: events, feed: fx.feed }, generation, START, 100);
      // Six events, five entries: the payment attempt shows as its payment's own entries.
      expect(step).toMatchObject({ kind: 'applied', events: 6, entries: 5 });
      const page = await fx.feed.page({ customerId: customer, limit: 10 });
      expect(page.map((e) => e.type)).toEqual(['subscription.paused', 'subscription.activated', 'invoice.paid', 'invoice.issued', 'subscription.created']);
      const expected = events.events.map(activityRecordOf).filter((r) => r !== undefined).map((r) => r.entry).reverse();
      expect(page).toEqual(expected);
      // Not merely equal as objects: an absent field stays absent (a store that turned it into null would break the API's schema).
      for (const entry of page) expect(Object.keys(entry).sort()).toEqual(Object.keys(expected.find((e) => e.id === entry.id)!).sort());
      expect(page[0]).not.toHaveProperty('amount');
      expect(page[3]).toMatchObject({ amount: 12_345, currency: 'BHD', billingReason: 'subscription_create', periodStart: '2026-01-15T12:00:00.000Z', status: 'open' });
      expect(await fx.feed.page({ customerId: customer, limit: 2, beforePosition: parsePosition(page[2]!.position)! })).toEqual(page.slice(3));
    });

    it('keeps dispute entries exactly as written: the dispute id beside the payment id (issue 10)', async () => {
      const events = new InMemoryEventStore();
      const customer = `cus_dispute_${seq++}`;
      const disputeId = `dp_01JD${String(seq).padStart(22, '0')}`;
      const ref = { disputeId, paymentId: `pay_01JD${String(seq).padStart(22, '0')}`, customerId: customer, amount: 5_000, currency: 'USD', providerDisputeId: `dp_sim_${seq}`, reason: 'fraudulent', evidenceDueBy: null, feeAmount: 1_500 };
      await events.append(`dispute-${disputeId}`, [
        { id: randomUUID(), type: 'DisputeOpened', data: { ...ref, status: 'needs_response', providerPaymentId: 'pi_sim_dp_1', openedAt: '2026-02-15T12:00:00.000Z' }, metadata: billingMeta },
        { id: randomUUID(), type: 'DisputeClosed', data: { ...ref, previousStatus: 'needs_response', status: 'won', previousFeeAmount: 1_500 }, metadata: billingMeta },
      ], 'no_stream');
      const generation = await fx.feed.createGeneration();
      await fx.feed.switchLive(generation);
      expect(await applyNextBatch({ eventStore: events, feed: fx.feed }, generation, START, 100)).toMatchObject({ kind: 'applied', events: 2, entries: 2 });
      const page = await fx.feed.page({ customerId: customer, limit: 10 });
      const expected = events.events.map(activityRecordOf).filter((r) => r !== undefined).map((r) => r.entry).reverse();
      expect(page).toEqual(expected);
      for (const entry of page) expect(Object.keys(entry).sort()).toEqual(Object.keys(expected.find((e) => e.id === entry.id)!).sort());
      expect(page.map((e) => [e.type, e.disputeId])).toEqual([['dispute.won', disputeId], ['dispute.opened', disputeId]]);
    });

    it('a crash between the entries and the checkpoint replays the batch and changes nothing', async () => {
      const events = new InMemoryEventStore();
      const customer = `cus_crash_${seq++}`;
      for (let i = 0; i < 3; i++) await events.append(`payment-p${i}-${customer}`, [payment(customer, `pay_01JD${String(seq * 10 + i).padStart(22, '0')}`, 100 + i)], 'no_stream');
      // The in-memory log starts at 1.1; point the live generation at the start of it.
      const generation = await fx.feed.createGeneration();
      await fx.feed.switchLive(generation);
      const crashing: ActivityFeedStore = Object.assign(Object.create(fx.feed) as ActivityFeedStore, {
        advance: () => Promise.reject(new Error('crash before the checkpoint')),
      });
      await expect(applyNextBatch({ eventStore: events, feed: crashing }, generation, START, 10)).rejects.toThrow('crash before the checkpoint');
      const afterCrash = await fx.feed.page({ customerId: customer, limit: 10 });
      expect(afterCrash).toHaveLength(3);
      expect((await fx.feed.state()).checkpoint).toEqual(START);
      // The restarted runner: same batch again from the old checkpoint.
      const step = await applyNextBatch({ eventStore: events, feed: fx.feed }, generation, START, 10);
      expect(step).toMatchObject({ kind: 'applied', events: 3, entries: 3 });
      expect(await fx.feed.page({ customerId: customer, limit: 10 })).toEqual(afterCrash);
      expect(afterCrash.map((e) => e.amount)).toEqual([102, 101, 100]);
      expect((await fx.feed.state()).checkpoint).toEqual(events.events.at(-1)!.position);
      expect(await applyNextBatch({ eventStore: events, feed: fx.feed }, generation, (await fx.feed.state()).checkpoint, 10)).toEqual({ kind: 'idle' });
    });
  });
}
