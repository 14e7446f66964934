import type { CommandContext } from '../../src/application/command-context.js';
import type { DisputeCommands, DisputeStatus, DisputeSyncError, DisputeSyncSuccess, ProviderDisputeSnapshot } from '../../src/application/ports/dispute-commands.js';
import type { Result } from '../../src/domain/result.js';
import { err, ok } from '../../src/domain/result.js';

/**
 * DisputeCommands in memory, for the webhook tests until the real one is wired: the port's
 * contract as far as those tests need it (a repeat or an older view changes nothing, a
 * terminal dispute never moves, a payment we do not have is `payment_not_found`).
 */
export interface HeldDispute {
  readonly disputeId: string;
  readonly paymentId: string;
  status: DisputeStatus;
  feeAmount: number;
  readonly contexts: CommandContext[];
}

const TERMINAL: readonly DisputeStatus[] = ['won', 'lost', 'warning_closed'];

export class InMemoryDisputeCommands implements DisputeCommands {
  readonly disputes = new Map<string, HeldDispute>();

  constructor(private readonly paymentIdOf: (providerPaymentId: string) => string | undefined) {}

  syncFromProvider(snapshot: ProviderDisputeSnapshot, ctx: CommandContext): Promise<Result<DisputeSyncSuccess, DisputeSyncError>> {
    const paymentId = this.paymentIdOf(snapshot.providerPaymentId);
    if (paymentId === undefined) return Promise.resolve(err({ code: 'payment_not_found', providerPaymentId: snapshot.providerPaymentId }));
    let held = this.disputes.get(snapshot.providerDisputeId);
    let changed = false;
    if (!held) {
      held = { disputeId: `dp_${snapshot.providerDisputeId.slice(3)}`, paymentId, status: snapshot.status, feeAmount: snapshot.feeAmount, contexts: [] };
      this.disputes.set(snapshot.providerDisputeId, held);
      changed = true;
    } else if (!TERMINAL.includes(held.status) && (held.status !== snapshot.status || held.feeAmount !== snapshot.feeAmount)) {
      held.status = snapshot.status;
      held.feeAmount = snapshot.feeAmount;
      changed = true;
    }
    held.contexts.push(ctx);
    return Promise.resolve(ok({ disputeId: held.disputeId, paymentId, changed, position: null }));
  }
}
