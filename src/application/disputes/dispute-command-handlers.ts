import type { DisputeEvent, DisputedPayment, ExistingDispute } from '../../domain/dispute/index.js';
import { CURRENT_DISPUTE_SCHEMA_VERSION, decideDispute, disputeAcceptsEvidence } from '../../domain/dispute/index.js';
import type { DisputeId } from '../../domain/ids.js';
import { disputeStream, isDisputeId, isPaymentId, paymentStream, toDisputeId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { commandMetadata, idempotencySeed } from '../command-context.js';
import { loadPayment } from '../payments/payment-stream.js';
import type { Clock } from '../ports/clock.js';
import type { DisputeCommands, DisputeSyncError, DisputeSyncSuccess, ProviderDisputeSnapshot } from '../ports/dispute-commands.js';
import type { DisputeEvidenceProvider } from '../ports/dispute-evidence.js';
import type { ProviderPaymentIndex } from '../ports/dispute-queries.js';
import type { EventStore } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { Position } from '../ports/position.js';
import { loadDispute, viewOfLoadedDispute } from './dispute-stream.js';
import type { DisputeView } from './dispute-view.js';

/**
 * Attempts at appending a sync when another writer (a duplicate webhook delivery, the
 * simulated processor) appended to the same dispute in between. Each lost race is a fresh
 * load; a duplicate decides nothing the second time.
 */
export const DISPUTE_SYNC_MAX_ATTEMPTS = 5;

/** The dispute's id, from the processor's: every path (webhook, simulated processor, a replay) finds the same stream. */
export function disputeIdFor(ids: IdGenerator, providerDisputeId: string, openedAt: Date): DisputeId {
  return toDisputeId(ids.deterministic('dp_', `dispute\u0000${providerDisputeId}`, openedAt));
}

export type EvidenceError =
  | { readonly code: 'dispute_not_found'; readonly disputeId: string }
  | { readonly code: 'dispute_not_accepting_evidence'; readonly disputeId: string; readonly status: string }
  | { readonly code: 'dispute_evidence_unsupported' }
  | DisputeSyncError;

/** Evidence, as the HTTP layer calls it (not part of the inbound DisputeCommands port). */
export interface DisputeEvidenceCommands {
  submitEvidence(disputeId: string, text: string, ctx: CommandContext): Promise<Result<{ dispute: DisputeView; position: Position | null }, EvidenceError>>;
}

/**
 * Disputes (docs/architecture.md, "Disputes"): the processor's snapshot is brought into our
 * dispute stream. The payment is found by the processor's id (a read-model index), then
 * read from its own stream, which says how much is left to dispute. Event ids derive from
 * the dispute's revision and the snapshot, so two deliveries of one snapshot racing each
 * other write the same events once.
 */
export class DisputeCommandHandlers implements DisputeCommands, DisputeEvidenceCommands {
  constructor(
    private readonly store: EventStore,
    private readonly index: ProviderPaymentIndex,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly evidence: DisputeEvidenceProvider | undefined,
    private readonly options: { readonly maxAttempts: number } = { maxAttempts: DISPUTE_SYNC_MAX_ATTEMPTS },
  ) {}

  async syncFromProvider(snapshot: ProviderDisputeSnapshot, ctx: CommandContext): Promise<Result<DisputeSyncSuccess, DisputeSyncError>> {
    const openedAt = new Date(snapshot.createdAt);
    if (Number.isNaN(openedAt.getTime())) return err({ code: 'dispute_inconsistent', message: `the dispute's createdAt is not a time: ${JSON.stringify(snapshot.createdAt)}` });
    const found = await this.index.paymentIdFor(snapshot.providerPaymentId);
    if (found === undefined || !isPaymentId(found)) return err({ code: 'payment_not_found', providerPaymentId: snapshot.providerPaymentId });
    const payment = (await loadPayment(this.store, paymentStream(found))).state;
    if (!payment.exists) return err({ code: 'payment_not_found', providerPaymentId: snapshot.providerPaymentId });
    const disputed: DisputedPayment = {
      paymentId: payment.paymentId,
      customerId: payment.customerId,
      currency: payment.currency,
      amountCaptured: payment.amountCaptured,
      amountRefunded: payment.amountRefunded,
    };
    const disputeId = disputeIdFor(this.ids, snapshot.providerDisputeId, openedAt);
    const stream = disputeStream(disputeId);
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const loaded = await loadDispute(this.store, stream);
      const decided = decideDispute(loaded.state, { type: 'SyncDispute', disputeId, snapshot, payment: disputed });
      if (!decided.ok) return decided;
      if (decided.value.length === 0) return ok({ disputeId, paymentId: disputed.paymentId, changed: false, position: null });
      const seed = `dispute-sync\u0000${snapshot.providerDisputeId}\u0000${loaded.revision ?? 'none'}\u0000${JSON.stringify(snapshotKey(snapshot))}`;
      try {
        const appended = await this.store.append(stream, this.toNew(decided.value, seed, ctx), loaded.revision ?? 'no_stream');
        // Recognised as a write already made (a racing duplicate got there first): nothing changed by this call.
        return ok({ disputeId, paymentId: disputed.paymentId, changed: !appended.replayed, position: appended.replayed ? null : appended.position });
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
      }
    }
    return err({ code: 'concurrency_conflict', attempts: this.options.maxAttempts });
  }

  async submitEvidence(disputeId: string, text: string, ctx: CommandContext): Promise<Result<{ dispute: DisputeView; position: Position | null }, EvidenceError>> {
    if (!isDisputeId(disputeId)) return err({ code: 'dispute_not_found', disputeId });
    const stream = disputeStream(disputeId);
    const loaded = await loadDispute(this.store, stream);
    const state = loaded.state;
    // Another customer's dispute is as absent as a missing one.
    if (!state.exists || (ctx.customerScope && state.customerId !== ctx.customerScope)) return err({ code: 'dispute_not_found', disputeId });
    if (!disputeAcceptsEvidence(state.status)) return err({ code: 'dispute_not_accepting_evidence', disputeId, status: state.status });
    if (!this.evidence) return err({ code: 'dispute_evidence_unsupported' });
    const submitted = await this.evidence.submitEvidence(snapshotOf(state), text, this.evidenceKey(disputeId, ctx));
    if (submitted.kind === 'unsupported') return err({ code: 'dispute_evidence_unsupported' });
    if (submitted.kind === 'not_accepting') {
      // Our copy was behind the processor's (its webhook not yet here): catch up, then refuse as we would have.
      const caughtUp = await this.syncFromProvider(submitted.snapshot, ctx);
      if (!caughtUp.ok) return caughtUp;
      return err({ code: 'dispute_not_accepting_evidence', disputeId, status: submitted.snapshot.status });
    }
    const synced = await this.syncFromProvider(submitted.snapshot, ctx);
    if (!synced.ok) return synced;
    const view = viewOfLoadedDispute(await loadDispute(this.store, stream));
    if (!view) throw new Error(`dispute ${disputeId} was synced but cannot be read back`);
    return ok({ dispute: view, position: synced.value.position });
  }

  /**
   * The processor's idempotency key for this submission: from the command's Idempotency-Key
   * (and its first sighting) when it has one, so a retry submits once; a fresh one otherwise.
   * Hashed: the seed holds the actor and the client's key, and Stripe's keys are at most 255 characters.
   */
  private evidenceKey(disputeId: DisputeId, ctx: CommandContext): string {
    const seed = idempotencySeed(ctx);
    return `evidence:${disputeId}:${seed === undefined ? this.ids.uuid() : this.ids.uuidFrom(`dispute-evidence\u0000${disputeId}\u0000${seed}`)}`;
  }

  private toNew(events: readonly DisputeEvent[], seed: string, ctx: CommandContext) {
    const metadata = commandMetadata(ctx, this.clock.now().toISOString(), CURRENT_DISPUTE_SCHEMA_VERSION);
    return events.map((e, i) => ({ id: this.ids.uuidFrom(`${seed}\u0000${i}`), type: e.type, data: e.data, metadata }));
  }
}

/** The snapshot's fields in a fixed order: two deliveries of one view derive the same ids. */
const snapshotKey = (s: ProviderDisputeSnapshot) => [s.status, s.amount, s.currency, s.feeAmount, s.reason, s.evidenceDueBy];

/** Our dispute as the processor would describe it: what evidence is submitted against. */
export const snapshotOf = (d: ExistingDispute): ProviderDisputeSnapshot => ({
  providerDisputeId: d.providerDisputeId,
  providerPaymentId: d.providerPaymentId,
  amount: d.amount,
  currency: d.currency,
  status: d.status,
  reason: d.reason,
  feeAmount: d.feeAmount,
  evidenceDueBy: d.evidenceDueBy,
  createdAt: d.openedAt,
});
