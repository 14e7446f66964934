import { canSeeCustomer, hasScope, type Principal, type Scope } from '../../application/auth/principal.js';
import type { AuthorizeTopic } from './realtime-hub.js';

/** Who owns a payment: its customer id, or undefined when there is no such payment. */
export type PaymentOwnerOf = (paymentId: string) => Promise<string | undefined>;

/** Who owns a resource (a payment, refund, subscription or invoice): its customer id, or undefined when there is no such one. */
export type OwnerOf = (id: string) => Promise<string | undefined>;

/** The resources whose topics take an id and belong to one customer. */
export type OwnedTopicKind = 'payment' | 'refund' | 'subscription' | 'invoice' | 'dispute';

/**
 * The owner lookups behind the policy, one per kind of owned topic. A kind without one is
 * refused to every customer-scoped principal (unscoped ones need no lookup).
 */
export type OwnerLookups = Readonly<Partial<Record<OwnedTopicKind, OwnerOf>>>;

/** The scope each owned topic needs: a subscription or invoice is read with `subscriptions:read`. */
const SCOPE_OF: Readonly<Record<OwnedTopicKind, Scope>> = {
  payment: 'payments:read',
  refund: 'payments:read',
  subscription: 'subscriptions:read',
  invoice: 'subscriptions:read',
  dispute: 'payments:read',
};

const isOwnedKind = (kind: string): kind is OwnedTopicKind => Object.hasOwn(SCOPE_OF, kind);

/**
 * The default topic policy, for a connection authenticated as `principal`:
 *
 * - `payment:<id>`, `refund:<id>`, `dispute:<id>` and `customer:<id>` need `payments:read`;
 *   `subscription:<id>` and `invoice:<id>` need `subscriptions:read`;
 * - a customer-scoped principal may follow only `customer:<its id>` and the payments,
 *   refunds, subscriptions and invoices that belong to it (looked up in their read models).
 *   An unknown id is refused exactly like another customer's, so the answer does not
 *   reveal which ids exist;
 * - `ledger` needs `ledger:read` and is refused to customer-scoped principals (it spans
 *   every customer);
 * - anything else is refused.
 *
 * `admin` implies every scope, but not every customer. Rejects when the owner lookup does.
 */
export async function mayFollow(principal: Principal, topic: string, owners: OwnerLookups): Promise<boolean> {
  const colon = topic.indexOf(':');
  const kind = colon < 0 ? topic : topic.slice(0, colon);
  const id = colon < 0 ? undefined : topic.slice(colon + 1);
  if (kind === 'ledger') return id === undefined && principal.customerId === null && hasScope(principal, 'ledger:read');
  if (kind === 'customer') return id !== undefined && id.length > 0 && hasScope(principal, 'payments:read') && canSeeCustomer(principal, id);
  if (!isOwnedKind(kind)) return false;
  if (id === undefined || id.length === 0 || !hasScope(principal, SCOPE_OF[kind])) return false;
  if (principal.customerId === null) return true;
  const ownerOf = owners[kind];
  if (ownerOf === undefined) return false;
  const owner = await ownerOf(id);
  return owner !== undefined && canSeeCustomer(principal, owner);
}

/**
 * mayFollow as the hub's AuthorizeTopic, for sockets whose handshake put a Principal on
 * `socket.data.principal`. A socket without one is refused everything.
 */
export function principalTopicPolicy(owners: OwnerLookups): AuthorizeTopic {
  return (socket, topic) => {
    const principal = socket.data.principal;
    return principal === undefined ? false : mayFollow(principal, topic, owners);
  };
}
