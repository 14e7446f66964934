import { toDisputeEvent, toDisputeView } from '../../application/disputes/dispute-stream.js';
import type { EventStore, RecordedEvent } from '../../application/ports/event-store.js';
import { toDomainEvent } from '../../application/payments/payment-stream.js';
import { toPaymentView } from '../../application/payments/payment-view.js';
import { toRefundEvent, toRefundView } from '../../application/refunds/refund-stream.js';
import { INVOICE, SUBSCRIPTION } from '../../application/subscriptions/subscription-aggregate.js';
import { toInvoiceView } from '../../application/subscriptions/invoice-view.js';
import { toSubscriptionView } from '../../application/subscriptions/subscription-view.js';
import type { WebhookMapping, WebhookResource, WebhookResources } from '../../application/webhooks/webhook-event-types.js';
import { evolve as evolvePayment, initialState as initialPayment } from '../../domain/payment/index.js';
import type { PaymentState } from '../../domain/payment/index.js';
import { evolveDispute, initialDisputeState } from '../../domain/dispute/index.js';
import type { DisputeState } from '../../domain/dispute/index.js';
import { evolveRefund, initialRefundState } from '../../domain/refund/index.js';
import type { RefundState } from '../../domain/refund/index.js';
import type { InvoiceState } from '../../domain/invoice/index.js';
import type { SubscriptionState } from '../../domain/subscription/index.js';
import { disputeWireForm, invoiceWireForm, paymentWireForm, refundWireForm, subscriptionWireForm } from '../http/wire-form.js';

/*
 * A webhook's `data`: the resource as our API returns it, as of the event: the aggregate's
 * stream folded up to and including the event (the same folds and view functions the
 * command answers and the read models use), in the wire form GET sends. A batch reads
 * each stream once and folds it forward through every event of it in the batch.
 *
 * One known difference: a subscription's `latestInvoice` is not in its own stream (the
 * billing read model keeps it), so it is the read model's value when the event is fanned
 * out, which may already name an invoice issued after the event.
 */

/** Folds one stream forward, event by event. */
interface StreamFolder {
  /** The resource right after the event at `revision` (events before it are folded first). */
  viewAt(revision: bigint): WebhookResources[WebhookResource] | undefined;
}

function folder<S>(
  recorded: readonly RecordedEvent[],
  initial: S,
  step: (state: S, event: RecordedEvent) => S,
  view: (state: S, upTo: readonly RecordedEvent[]) => WebhookResources[WebhookResource] | undefined,
): StreamFolder {
  let state = initial;
  let folded = 0;
  return {
    viewAt(revision) {
      while (folded < recorded.length && (recorded[folded] as RecordedEvent).revision <= revision) {
        state = step(state, recorded[folded] as RecordedEvent);
        folded++;
      }
      return view(state, recorded.slice(0, folded));
    },
  };
}

export interface LatestInvoices {
  latestInvoiceIds(subscriptionIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

export interface BuiltPayload {
  readonly type: string;
  /** JSON `{ id, type, createdAt, data }`: the exact bytes sent and signed. */
  readonly body: string;
}

export class WebhookPayloads {
  constructor(
    private readonly eventStore: Pick<EventStore, 'readStream'>,
    private readonly latestInvoices: LatestInvoices,
  ) {}

  /** Payloads for `wanted` (mapped events, in log order), by event id; an event whose row says "none" is absent. */
  async build(wanted: readonly { readonly event: RecordedEvent; readonly mapping: WebhookMapping }[]): Promise<Map<string, BuiltPayload>> {
    const byStream = new Map<string, bigint>();
    for (const { event } of wanted) byStream.set(event.streamId, max(byStream.get(event.streamId), event.revision));
    const folders = new Map<string, StreamFolder>();
    const subscriptionIds: string[] = [];
    for (const { event, mapping } of wanted) if (mapping.resource === 'subscription') subscriptionIds.push(String((event.data as { subscriptionId?: unknown }).subscriptionId));
    const latest = subscriptionIds.length > 0 ? await this.latestInvoices.latestInvoiceIds([...new Set(subscriptionIds)]) : new Map<string, string>();
    for (const [streamId, revision] of byStream) {
      const { events } = await this.eventStore.readStream(streamId, { maxCount: Number(revision) + 1 });
      const mapping = wanted.find((w) => w.event.streamId === streamId)?.mapping as WebhookMapping;
      folders.set(streamId, folderFor(mapping.resource, events, latest));
    }
    const out = new Map<string, BuiltPayload>();
    for (const { event, mapping } of wanted) {
      const view = folders.get(event.streamId)?.viewAt(event.revision);
      if (!view) throw new Error(`webhooks: ${event.type} ${event.id} does not leave its ${mapping.resource} existing`);
      const type = (mapping.typeOf as (v: unknown, e: RecordedEvent) => string | undefined)(view, event);
      if (type === undefined) continue;
      const body = JSON.stringify({ id: webhookEventIdOf(event.id), type, createdAt: event.metadata.occurredAt, data: wireForm(mapping.resource, view) });
      out.set(event.id, { type, body });
    }
    return out;
  }
}

export const webhookEventIdOf = (eventUuid: string): string => `evt_${eventUuid.replaceAll('-', '')}`;

const max = (a: bigint | undefined, b: bigint): bigint => (a === undefined || b > a ? b : a);

function folderFor(resource: WebhookResource, events: readonly RecordedEvent[], latest: ReadonlyMap<string, string>): StreamFolder {
  switch (resource) {
    case 'payment':
      return folder<PaymentState>(events, initialPayment, (s, e) => evolvePayment(s, toDomainEvent(e)), (s, upTo) => {
        const [first, last] = [upTo[0], upTo.at(-1)];
        return s.exists && first && last ? toPaymentView(s, last.revision, first.metadata.occurredAt, last.metadata.occurredAt) : undefined;
      });
    case 'refund':
      return folder<RefundState>(events, initialRefundState, (s, e) => evolveRefund(s, toRefundEvent(e)), (s, upTo) => {
        const [first, last] = [upTo[0], upTo.at(-1)];
        return s.exists && first && last ? toRefundView(s, last.revision, first.metadata.occurredAt, last.metadata.occurredAt) : undefined;
      });
    case 'subscription':
      return folder<SubscriptionState>(events, SUBSCRIPTION.initial, (s, e) => SUBSCRIPTION.evolve(s, SUBSCRIPTION.upcast(e.type, e.data, e.metadata.schemaVersion)), (s, upTo) => {
        const last = upTo.at(-1);
        return s.exists && last ? toSubscriptionView(s, last.revision, latest.get(s.subscriptionId) ?? null) : undefined;
      });
    case 'invoice':
      return folder<InvoiceState>(events, INVOICE.initial, (s, e) => INVOICE.evolve(s, INVOICE.upcast(e.type, e.data, e.metadata.schemaVersion)), (s, upTo) => {
        const last = upTo.at(-1);
        return s.exists && last ? toInvoiceView(s, last.revision) : undefined;
      });
    case 'dispute':
      return folder<DisputeState>(events, initialDisputeState, (s, e) => evolveDispute(s, toDisputeEvent(e)), (s, upTo) => {
        const [first, last] = [upTo[0], upTo.at(-1)];
        return s.exists && first && last ? toDisputeView(s, last.revision, first.metadata.occurredAt, last.metadata.occurredAt) : undefined;
      });
  }
}

function wireForm(resource: WebhookResource, view: WebhookResources[WebhookResource]): unknown {
  switch (resource) {
    case 'payment':
      return paymentWireForm(view as WebhookResources['payment']);
    case 'refund':
      return refundWireForm(view as WebhookResources['refund']);
    case 'subscription':
      return subscriptionWireForm(view as WebhookResources['subscription']);
    case 'invoice':
      return invoiceWireForm(view as WebhookResources['invoice']);
    case 'dispute':
      return disputeWireForm(view as WebhookResources['dispute']);
  }
}
