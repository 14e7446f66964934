import type { InvoiceState } from '../../domain/invoice/index.js';
import type { InvoiceId, SubscriptionId } from '../../domain/ids.js';
import type { SubscriptionState } from '../../domain/subscription/index.js';
import { INCOMPLETE_EXPIRY_MS } from '../../domain/subscription/index.js';

/*
 * The billing clock's work, as a function of state (docs/architecture.md, "Subscriptions"):
 * what falls due when. A read model keeps one row per pending item (this function is how a
 * projection computes it), and the clock runs the items due by its time in time order;
 * advancing a test clock runs those of its subscriptions the same way.
 */

export type DueWork =
  | { readonly kind: 'start_next_period'; readonly subscriptionId: SubscriptionId; readonly dueAt: string; readonly testClock: string | null }
  | { readonly kind: 'expire_incomplete'; readonly subscriptionId: SubscriptionId; readonly dueAt: string; readonly testClock: string | null }
  | { readonly kind: 'retry_invoice'; readonly invoiceId: InvoiceId; readonly attempt: number; readonly dueAt: string; readonly testClock: string | null };

/** What a subscription has pending, if anything. */
export function subscriptionDueWork(s: SubscriptionState): DueWork | undefined {
  if (!s.exists) return undefined;
  switch (s.status) {
    case 'trialing':
    case 'active':
    case 'past_due':
    case 'unpaid':
      return { kind: 'start_next_period', subscriptionId: s.subscriptionId, dueAt: s.currentPeriod.end, testClock: s.testClock };
    case 'incomplete':
      return { kind: 'expire_incomplete', subscriptionId: s.subscriptionId, dueAt: new Date(Date.parse(s.createdAt) + INCOMPLETE_EXPIRY_MS).toISOString(), testClock: s.testClock };
    case 'paused':
    case 'canceled':
    case 'incomplete_expired':
      return undefined;
  }
}

/** An open invoice's next dunning retry, if one is scheduled. */
export function invoiceDueWork(i: InvoiceState): DueWork | undefined {
  if (!i.exists || i.status !== 'open' || i.nextAttemptAt === null) return undefined;
  return { kind: 'retry_invoice', invoiceId: i.invoiceId, attempt: i.attempts.length + 1, dueAt: i.nextAttemptAt, testClock: i.testClock };
}

const KIND_ORDER: Readonly<Record<DueWork['kind'], number>> = { retry_invoice: 0, expire_incomplete: 1, start_next_period: 2 };
const keyOf = (w: DueWork): string => ('subscriptionId' in w ? w.subscriptionId : w.invoiceId);

/**
 * The items due by `until`, earliest first; at the same instant a retry of an old invoice
 * before a renewal (so a recovered subscription renews as active), then ids for a stable order.
 */
export function dueBy(items: readonly DueWork[], until: Date): DueWork[] {
  const limit = until.getTime();
  return items
    .filter((w) => Date.parse(w.dueAt) <= limit)
    .sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}
