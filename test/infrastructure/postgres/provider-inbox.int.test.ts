import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewInboxEntry } from '../../../src/application/ports/provider-inbox.js';
import { migrate } from '../../../src/infrastructure/postgres/migrator.js';
import { inboxMigrations } from '../../../src/infrastructure/postgres/inbox/schema.js';
import { PostgresProviderInbox } from '../../../src/infrastructure/postgres/inbox/postgres-provider-inbox.js';
import { sqlExecutor } from '../../../src/infrastructure/postgres/sql-executor.js';
import type { TestDatabase } from '../../support/pg.js';
import { createTestDatabase } from '../../support/pg.js';

/*
 * The inbox adapter on its own: deduplication, claims that exclude each other and lapse,
 * a lapsed claim's holder unable to finish over its successor, paging, and retry.
 */

let db: TestDatabase;
let inbox: PostgresProviderInbox;

beforeAll(async () => {
  db = await createTestDatabase('provider_inbox');
  await migrate(db.pool, inboxMigrations);
  // As the service builds it: the processor's writes commit without waiting for the WAL flush.
  inbox = new PostgresProviderInbox(sqlExecutor(db.pool), { relaxedProcessorCommits: db.pool });
});
afterAll(async () => {
  await db?.drop();
});

const entry = (eventId: string): NewInboxEntry => ({
  provider: 'stripe',
  eventId,
  type: 'payment_intent.succeeded',
  objectId: 'pi_1',
  providerCreatedAt: new Date('2026-11-28T12:00:00Z'),
  payloadJson: JSON.stringify({ id: eventId, type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } }),
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgresProviderInbox', () => {
  it('records an event once per (provider, event id)', async () => {
    expect(await inbox.record(entry('evt_once'))).toEqual({ duplicate: false });
    expect(await inbox.record(entry('evt_once'))).toEqual({ duplicate: true });
    expect(await inbox.record({ ...entry('evt_once'), provider: 'other' })).toEqual({ duplicate: false });
    await db.pool.query(`UPDATE webhook_inbox SET status = 'ignored', next_attempt_at = NULL WHERE event_id = 'evt_once'`);
  });

  it('a recorded event is first due after firstAttemptDelayMs (so our own command\'s write lands first)', async () => {
    const delayed = new PostgresProviderInbox(sqlExecutor(db.pool), { relaxedProcessorCommits: db.pool, firstAttemptDelayMs: 300 });
    await delayed.record(entry('evt_delayed'));
    expect(await delayed.claimDue(10, 60_000)).toEqual([]);
    await pause(350);
    const [claim] = await delayed.claimDue(10, 60_000);
    expect(claim).toMatchObject({ eventId: 'evt_delayed' });
    if (!claim) throw new Error('no claim');
    await delayed.finishAll([{ claim, status: 'ignored', outcome: 'test', error: null }]);
  });

  it('claims exclude each other; a lapsed claim is taken over, and its first holder can no longer finish it', async () => {
    await inbox.record(entry('evt_claim'));
    const [first] = await inbox.claimDue(10, 30);
    expect(first).toMatchObject({ eventId: 'evt_claim', attempts: 1, payload: { id: 'evt_claim' } });
    expect(await inbox.claimDue(10, 60_000)).toEqual([]);
    await pause(60);
    const [second] = await inbox.claimDue(10, 60_000);
    expect(second).toMatchObject({ id: first?.id, attempts: 2 });
    if (!first || !second) throw new Error('no claims');
    expect(await inbox.finishAll([{ claim: first, status: 'processed', outcome: 'late', error: null }])).toEqual([first.id]);
    expect(await inbox.reschedule(first, 'late', 0)).toBe(false);
    expect(await inbox.get(first.id)).toMatchObject({ status: 'processing', outcome: null });
    expect(await inbox.finishAll([{ claim: second, status: 'processed', outcome: 'done', error: null }])).toEqual([]);
    expect(await inbox.get(first.id)).toMatchObject({ status: 'processed', outcome: 'done', attempts: 2, nextAttemptAt: null });
  });

  it('a rescheduled entry is due again only after its delay', async () => {
    await inbox.record(entry('evt_later'));
    const [claim] = await inbox.claimDue(10, 60_000);
    if (!claim) throw new Error('no claim');
    expect(await inbox.reschedule(claim, 'Stripe down', 200)).toBe(true);
    expect(await inbox.claimDue(10, 60_000)).toEqual([]);
    await pause(250);
    const [again] = await inbox.claimDue(10, 60_000);
    expect(again).toMatchObject({ id: claim.id, attempts: 2 });
    if (!again) throw new Error('no claim');
    await inbox.finishAll([{ claim: again, status: 'failed', outcome: null, error: 'gave up' }]);
  });

  it('lists newest first, by status, in pages; retries only failed and ignored entries', async () => {
    const page1 = await inbox.list({ limit: 2 });
    expect(page1.data.map((e) => e.eventId)).toEqual(['evt_later', 'evt_claim']);
    const page2 = await inbox.list({ limit: 2, before: page1.nextBefore ?? undefined });
    expect(page2.data.map((e) => e.eventId)).toEqual(['evt_delayed', 'evt_once']);
    const page3 = await inbox.list({ limit: 2, before: page2.nextBefore ?? undefined });
    expect(page3).toMatchObject({ nextBefore: null });
    expect(page3.data.map((e) => e.eventId)).toEqual(['evt_once']);
    expect((await inbox.list({ status: 'failed', limit: 10 })).data).toMatchObject([{ eventId: 'evt_later', lastError: 'gave up' }]);

    const failed = page1.data[0];
    if (!failed) throw new Error('no entry');
    expect(await inbox.retry(failed.id)).toMatchObject({ status: 'scheduled', entry: { status: 'pending', attempts: 0 } });
    expect(await inbox.retry(failed.id)).toEqual({ status: 'not_retryable', current: 'pending' });
    expect(await inbox.retry('999999')).toEqual({ status: 'not_found' });
    expect(await inbox.retry('not-an-id')).toEqual({ status: 'not_found' });
  });

  it('prunes processed and ignored entries past the retention; failed and recent ones stay', async () => {
    await inbox.record(entry('evt_old_done'));
    await inbox.record(entry('evt_old_failed'));
    await db.pool.query(`UPDATE webhook_inbox SET status = 'processed', next_attempt_at = NULL, processed_at = now() - interval '31 days' WHERE event_id = 'evt_old_done'`);
    await db.pool.query(`UPDATE webhook_inbox SET status = 'failed', next_attempt_at = NULL, processed_at = now() - interval '31 days' WHERE event_id = 'evt_old_failed'`);
    const before = (await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM webhook_inbox')).rows[0]?.n;
    expect(await inbox.pruneDone(30)).toBe(1);
    const left = (await db.pool.query<{ event_id: string }>('SELECT event_id FROM webhook_inbox')).rows.map((r) => r.event_id);
    expect(left).toHaveLength(Number(before) - 1);
    expect(left).toContain('evt_old_failed');
    expect(left).not.toContain('evt_old_done');
  });
});
