import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { DueWorkSource } from '../../src/application/subscriptions/billing-clock.js';
import type { DueWork } from '../../src/application/subscriptions/billing-schedule.js';
import { dueBy, invoiceDueWork, subscriptionDueWork } from '../../src/application/subscriptions/billing-schedule.js';
import type { InvoiceState } from '../../src/domain/invoice/index.js';
import { evolveInvoice, upcastInvoiceEvent } from '../../src/domain/invoice/index.js';
import type { SubscriptionState } from '../../src/domain/subscription/index.js';
import { evolveSubscription, upcastSubscriptionEvent } from '../../src/domain/subscription/index.js';

/** Due work computed from the whole log, as the read model will keep it: for tests over the in-memory store. */
export class LogDueWorkSource implements DueWorkSource {
  constructor(private readonly events: readonly RecordedEvent[]) {}

  dueWork(testClock: string | null, until: Date, limit: number): Promise<readonly DueWork[]> {
    const subscriptions = new Map<string, SubscriptionState>();
    const invoices = new Map<string, InvoiceState>();
    for (const e of this.events) {
      if (e.streamId.startsWith('subscription-')) {
        subscriptions.set(e.streamId, evolveSubscription(subscriptions.get(e.streamId) ?? { exists: false }, upcastSubscriptionEvent(e.type, e.data, e.metadata.schemaVersion)));
      } else if (e.streamId.startsWith('invoice-')) {
        invoices.set(e.streamId, evolveInvoice(invoices.get(e.streamId) ?? { exists: false }, upcastInvoiceEvent(e.type, e.data, e.metadata.schemaVersion)));
      }
    }
    const work = [...[...subscriptions.values()].map(subscriptionDueWork), ...[...invoices.values()].map(invoiceDueWork)].filter(
      (w): w is DueWork => w !== undefined && w.testClock === testClock,
    );
    return Promise.resolve(dueBy(work, until).slice(0, limit));
  }
}
