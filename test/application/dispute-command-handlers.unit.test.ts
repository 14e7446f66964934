import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { DisputeCommandHandlers } from '../../src/application/disputes/dispute-command-handlers.js';
import type { ProviderDisputeSnapshot } from '../../src/application/ports/dispute-commands.js';
import type { DisputeEvidenceProvider, EvidenceSubmission } from '../../src/application/ports/dispute-evidence.js';
import type { ExpectedRevision, NewEvent } from '../../src/application/ports/event-store.js';
import { WrongExpectedVersion } from '../../src/application/ports/event-store.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { PaymentEvent } from '../../src/domain/payment/index.js';
import { SimulatedDisputeEvidence } from '../../src/infrastructure/simulated-provider/simulated-disputes.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { PAYMENT_ID, authorized, captured } from '../domain/fixtures.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

const ctx: CommandContext = { correlationId: 'c', actor: 'stripe-webhook' };
const USD = toCurrencyCode('USD');

const snapshot = (overrides: Partial<ProviderDisputeSnapshot> = {}): ProviderDisputeSnapshot => ({
  providerDisputeId: 'dp_1',
  providerPaymentId: 'pi_sim_1',
  amount: 6_000,
  currency: USD,
  status: 'needs_response',
  reason: 'fraudulent',
  feeAmount: 1_500,
  evidenceDueBy: null,
  createdAt: '2026-11-28T00:00:00.000Z',
  ...overrides,
});

const evidenceOf = (option: boolean | DisputeEvidenceProvider | undefined): DisputeEvidenceProvider | undefined =>
  option === false ? undefined : option === undefined || option === true ? new SimulatedDisputeEvidence() : option;

/** A processor that answers as told and remembers the keys it was given. */
class ScriptedEvidence implements DisputeEvidenceProvider {
  readonly keys: string[] = [];
  constructor(private readonly answer: (dispute: ProviderDisputeSnapshot) => EvidenceSubmission) {}
  submitEvidence(dispute: ProviderDisputeSnapshot, _text: string, idempotencyKey: string): Promise<EvidenceSubmission> {
    this.keys.push(idempotencyKey);
    return Promise.resolve(this.answer(dispute));
  }
}

async function world(options: { evidence?: boolean | DisputeEvidenceProvider; store?: InMemoryEventStore } = {}) {
  const store = options.store ?? new InMemoryEventStore();
  const events: PaymentEvent[] = [authorized(10_000), captured(6_000, 4_000)];
  const metadata = { correlationId: 'c', causationId: null, actor: 't', occurredAt: new Date().toISOString(), schemaVersion: 1 };
  await store.append(`payment-${PAYMENT_ID}`, events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata })), 'no_stream');
  const index = { paymentIdFor: (id: string) => Promise.resolve(id === 'pi_sim_1' ? PAYMENT_ID : undefined) };
  const handlers = new DisputeCommandHandlers(store, index, new SystemClock(), new SystemIdGenerator(), evidenceOf(options.evidence));
  const streamOf = async (disputeId: string) => (await store.readStream(`dispute-${disputeId}`)).events;
  return { store, handlers, streamOf };
}

describe('DisputeCommandHandlers.syncFromProvider', () => {
  it('opens the dispute under an id derived from the processor\'s, and a repeat changes nothing', async () => {
    const { handlers, streamOf } = await world();
    const first = await handlers.syncFromProvider(snapshot(), ctx);
    expect(first).toMatchObject({ ok: true, value: { paymentId: PAYMENT_ID, changed: true } });
    if (!first.ok) return;
    expect(first.value.disputeId).toMatch(/^dp_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(first.value.position).not.toBeNull();
    const again = await handlers.syncFromProvider(snapshot(), ctx);
    expect(again).toEqual({ ok: true, value: { disputeId: first.value.disputeId, paymentId: PAYMENT_ID, changed: false, position: null } });
    const events = await streamOf(first.value.disputeId);
    expect(events.map((e) => e.type)).toEqual(['DisputeOpened']);
    expect(events[0]?.metadata).toMatchObject({ actor: 'stripe-webhook', correlationId: 'c' });
  });

  it('concurrent deliveries of one snapshot write it once', async () => {
    const { handlers, streamOf } = await world();
    const results = await Promise.all(Array.from({ length: 6 }, () => handlers.syncFromProvider(snapshot(), ctx)));
    expect(results.every((r) => r.ok)).toBe(true);
    const ids = new Set(results.map((r) => (r.ok ? r.value.disputeId : '')));
    expect(ids.size).toBe(1);
    expect((await streamOf([...ids][0] as string)).map((e) => e.type)).toEqual(['DisputeOpened']);
    expect(results.filter((r) => r.ok && r.value.changed).length).toBe(1);
  });

  it('moves forward, ignores an older view, and refuses a contradiction', async () => {
    const { handlers, streamOf } = await world();
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    expect(await handlers.syncFromProvider(snapshot({ status: 'lost' }), ctx)).toMatchObject({ ok: true, value: { changed: true } });
    expect(await handlers.syncFromProvider(snapshot({ status: 'under_review' }), ctx)).toMatchObject({ ok: true, value: { changed: false } });
    expect(await handlers.syncFromProvider(snapshot({ status: 'won' }), ctx)).toMatchObject({ ok: false, error: { code: 'dispute_inconsistent' } });
    expect((await streamOf(opened.value.disputeId)).map((e) => e.type)).toEqual(['DisputeOpened', 'DisputeClosed']);
  });

  it('answers payment_not_found for a processor payment that is not ours, and refuses more than was captured', async () => {
    const { handlers } = await world();
    expect(await handlers.syncFromProvider(snapshot({ providerPaymentId: 'pi_elsewhere' }), ctx)).toEqual({ ok: false, error: { code: 'payment_not_found', providerPaymentId: 'pi_elsewhere' } });
    expect(await handlers.syncFromProvider(snapshot({ amount: 6_001 }), ctx)).toMatchObject({ ok: false, error: { code: 'dispute_inconsistent' } });
  });

  it('gives up after a bounded number of lost races', async () => {
    class AlwaysRaced extends InMemoryEventStore {
      override append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision) {
        if (streamId.startsWith('dispute-')) return Promise.reject(new WrongExpectedVersion(streamId, expected, undefined));
        return super.append(streamId, events, expected);
      }
    }
    const { handlers } = await world({ store: new AlwaysRaced() });
    expect(await handlers.syncFromProvider(snapshot(), ctx)).toEqual({ ok: false, error: { code: 'concurrency_conflict', attempts: 5 } });
  });
});

describe('DisputeCommandHandlers.submitEvidence', () => {
  it('winning_evidence wins; then the dispute takes no more evidence', async () => {
    const { handlers } = await world();
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    const won = await handlers.submitEvidence(opened.value.disputeId, 'winning_evidence', ctx);
    expect(won).toMatchObject({ ok: true, value: { dispute: { id: opened.value.disputeId, status: 'won', feeAmount: 1_500, revision: '1' } } });
    expect(await handlers.submitEvidence(opened.value.disputeId, 'losing_evidence', ctx)).toMatchObject({ ok: false, error: { code: 'dispute_not_accepting_evidence', status: 'won' } });
  });

  it('other text puts it under review; losing_evidence then is refused (no longer needs a response)', async () => {
    const { handlers } = await world();
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    expect(await handlers.submitEvidence(opened.value.disputeId, 'the receipt', ctx)).toMatchObject({ ok: true, value: { dispute: { status: 'under_review' } } });
    expect(await handlers.submitEvidence(opened.value.disputeId, 'losing_evidence', ctx)).toMatchObject({ ok: false, error: { code: 'dispute_not_accepting_evidence' } });
  });

  it('another customer\'s dispute is not found; without an evidence adapter it is unsupported', async () => {
    const { handlers } = await world();
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    expect(await handlers.submitEvidence(opened.value.disputeId, 'winning_evidence', { ...ctx, customerScope: 'cus_other' })).toMatchObject({ ok: false, error: { code: 'dispute_not_found' } });
    expect(await handlers.submitEvidence('dp_nope', 'x', ctx)).toMatchObject({ ok: false, error: { code: 'dispute_not_found' } });
    const bare = await world({ evidence: false });
    const again = await bare.handlers.syncFromProvider(snapshot(), ctx);
    if (!again.ok) throw new Error('not opened');
    expect(await bare.handlers.submitEvidence(again.value.disputeId, 'winning_evidence', ctx)).toEqual({ ok: false, error: { code: 'dispute_evidence_unsupported' } });
  });

  it('the processor\'s key derives from the command\'s Idempotency-Key and its first sighting; without one, each submission has its own', async () => {
    const processor = new ScriptedEvidence((d) => ({ kind: 'submitted', snapshot: d }));
    const { handlers } = await world({ evidence: processor });
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    const keyed = (key: string, at = 1_000): CommandContext => ({ ...ctx, actor: 'key:ak_1', idempotency: { key, firstSeenAt: new Date(at) } });
    for (const c of [keyed('k1'), keyed('k1'), keyed('k2'), keyed('k1', 2_000), ctx, ctx]) await handlers.submitEvidence(opened.value.disputeId, 'x', c);
    const [a, b, c, d, e, f] = processor.keys;
    expect(a).toMatch(new RegExp(`^evidence:${opened.value.disputeId}:[0-9a-f-]{36}$`));
    expect(b).toBe(a);
    expect(new Set([a, c, d, e, f]).size).toBe(5);
    expect(a!.length).toBeLessThanOrEqual(255);
  });

  it('a processor that no longer takes evidence (its webhook not here yet): ours catches up, and the answer is not accepting', async () => {
    const { handlers, streamOf } = await world({ evidence: new ScriptedEvidence((d) => ({ kind: 'not_accepting', snapshot: { ...d, status: 'lost' } })) });
    const opened = await handlers.syncFromProvider(snapshot(), ctx);
    if (!opened.ok) throw new Error('not opened');
    expect(await handlers.submitEvidence(opened.value.disputeId, 'late', ctx)).toEqual({ ok: false, error: { code: 'dispute_not_accepting_evidence', disputeId: opened.value.disputeId, status: 'lost' } });
    expect((await streamOf(opened.value.disputeId)).map((e) => e.type)).toEqual(['DisputeOpened', 'DisputeClosed']);
  });
});
