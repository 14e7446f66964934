import type { CommandContext } from '../../../src/application/command-context.js';
import type { EventStore, RecordedEvent } from '../../../src/application/ports/event-store.js';
import type { Appended } from '../../../src/application/refunds/refund-steps.js';
import { RefundSteps } from '../../../src/application/refunds/refund-steps.js';
import { RefundCommandHandlers } from '../../../src/application/refunds/refund-command-handlers.js';
import { loadRefund, viewOfLoaded } from '../../../src/application/refunds/refund-stream.js';
import { refundStream, toRefundId } from '../../../src/domain/ids.js';
import type { InvoiceIssued, InvoicePaid } from '../../../src/domain/invoice/index.js';
import type { SubscriptionCanceled } from '../../../src/domain/subscription/index.js';
import { SimulatedPaymentProvider } from '../../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../../src/infrastructure/system/id-generator.js';

/*
 * The refund of a prorated cancel's credit, as the billing process manager issues it
 * (issue 9): on a SubscriptionCanceled whose proration credit is above zero, a refund of
 * the payment that paid the invoice of the canceled period, for the credit, through the
 * real refund commands on the simulated processor (a pm_card_refundFail payment's refund
 * is pending, then failed when asked again, and its reservation released).
 *
 * The billing process manager makes that refund itself: a cancel whose refund the log
 * already holds (metadata kind `proration_refund` for that subscription) is only finished
 * here (a pending one asked again, as the refund process manager would) and reported.
 */

export const PRORATION_REFUND_KIND = 'proration_refund';

export interface ProrationRefund {
  readonly subscriptionId: string;
  readonly invoiceId: string;
  readonly paymentId: string;
  readonly amount: number;
  /** The refund command's answer: created (and how it ended), or refused (e.g. more than the payment still has). */
  readonly outcome: 'succeeded' | 'failed' | 'pending' | 'refused';
}

const ctx: CommandContext = { correlationId: 'proration-refund', actor: 'billing-process-manager', customerScope: null };

const proration = (e: RecordedEvent): { credit: number } | null => (e.data as SubscriptionCanceled['data']).proration;
const metadataOf = (e: RecordedEvent): Record<string, unknown> => ((e.data as { metadata?: Record<string, unknown> }).metadata ?? {});

/** The invoice of the period a cancel at `at` ended (the newest issued whose period holds `at`), and the payment that paid it. */
export function canceledPeriodPayment(log: readonly RecordedEvent[], subscriptionId: string, at: string): { invoiceId: string; paymentId: string } | undefined {
  const when = Date.parse(at);
  const invoice = log
    .filter((e) => e.type === 'InvoiceIssued')
    .map((e) => e.data as InvoiceIssued['data'])
    .filter((i) => i.subscriptionId === subscriptionId && Date.parse(i.periodStart) <= when && when < Date.parse(i.periodEnd))
    .at(-1);
  if (!invoice) return undefined;
  const paid = log.find((e) => e.type === 'InvoicePaid' && (e.data as InvoicePaid['data']).invoiceId === invoice.invoiceId);
  const paymentId = paid ? (paid.data as InvoicePaid['data']).paymentId : null;
  return paymentId ? { invoiceId: invoice.invoiceId, paymentId } : undefined;
}

/** Refunds every prorated cancel in `log` not refunded yet; what it did. The caller reads the new events into its log. */
export async function refundProratedCancels(store: EventStore, log: readonly RecordedEvent[], now: () => Date): Promise<ProrationRefund[]> {
  const provider = new SimulatedPaymentProvider();
  const ids = new SystemIdGenerator();
  const refunds = new RefundCommandHandlers(store, provider, { now }, ids);
  const steps = new RefundSteps(store, provider, { now }, ids);
  const done: ProrationRefund[] = [];
  const seen = new Set<string>();
  for (const cancel of log.filter((e) => e.type === 'SubscriptionCanceled')) {
    const { subscriptionId, at } = cancel.data as SubscriptionCanceled['data'];
    const credit = proration(cancel)?.credit ?? 0;
    if (credit <= 0 || seen.has(subscriptionId)) continue;
    seen.add(subscriptionId);
    const paying = canceledPeriodPayment(log, subscriptionId, at);
    if (!paying) continue;
    // The process manager's refund, when it made one; else the same refund made here.
    const made = log.find((e) => e.type === 'PaymentRefundReserved' && metadataOf(e).kind === PRORATION_REFUND_KIND && metadataOf(e).subscriptionId === subscriptionId);
    let refundId: string;
    let amount: number;
    let status: string;
    if (made) {
      ({ refundId, amount } = made.data as { refundId: string; amount: number });
      status = viewOfLoaded(await loadRefund(store, refundStream(toRefundId(refundId))))?.status ?? 'pending';
    } else {
      const created = await refunds.create(
        { paymentId: paying.paymentId, amount: credit, reason: 'requested_by_customer', metadata: { subscriptionId, invoiceId: paying.invoiceId, kind: PRORATION_REFUND_KIND } },
        ctx,
      );
      if (!created.ok) {
        done.push({ subscriptionId, ...paying, amount: credit, outcome: 'refused' });
        continue;
      }
      ({ id: refundId, amount, status } = created.value.refund);
    }
    if (status === 'pending') {
      // What the refund process manager does next: asks the processor again, then settles or releases.
      const appended: Appended = [];
      const who = { actor: 'refund-process-manager', correlationId: `refund-pm:${refundId}` };
      if ((await steps.askProvider(toRefundId(refundId), who, { retrieve: true }, appended)) === 'final') await steps.close(toRefundId(refundId), who, appended);
      status = viewOfLoaded(await loadRefund(store, refundStream(toRefundId(refundId))))?.status ?? status;
    }
    done.push({ subscriptionId, ...paying, amount, outcome: status === 'succeeded' || status === 'failed' ? status : 'pending' });
  }
  return done;
}
