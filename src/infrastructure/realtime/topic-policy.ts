import { canSeeCustomer, hasScope, type Principal } from '../../application/auth/principal.js';
import type { AuthorizeTopic } from './realtime-hub.js';

/** Who owns a payment: its customer id, or undefined when there is no such payment. */
export type PaymentOwnerOf = (paymentId: string) => Promise<string | undefined>;

/** Who owns a refund (the customer of its payment), or undefined when there is no such refund. */
export type RefundOwnerOf = (refundId: string) => Promise<string | undefined>;

/** Without a refund lookup, no customer-scoped principal may follow a refund. */
const noRefunds: RefundOwnerOf = () => Promise.resolve(undefined);

/**
 * The default topic policy, for a connection authenticated as `principal`:
 *
 * - `payment:<id>`, `refund:<id>` and `customer:<id>` need `payments:read`;
 * - a customer-scoped principal may follow only `customer:<its id>` and the payments and
 *   refunds that belong to it (looked up in the payments and refunds read models). An
 *   unknown payment or refund is refused exactly like another customer's, so the answer
 *   does not reveal which ids exist;
 * - `ledger` needs `ledger:read` and is refused to customer-scoped principals (it spans
 *   every customer);
 * - anything else is refused.
 *
 * `admin` implies every scope, but not every customer. Rejects when the owner lookup does.
 */
export async function mayFollow(principal: Principal, topic: string, ownerOf: PaymentOwnerOf, refundOwnerOf: RefundOwnerOf = noRefunds): Promise<boolean> {
  const colon = topic.indexOf(':');
  const kind = colon < 0 ? topic : topic.slice(0, colon);
  const id = colon < 0 ? undefined : topic.slice(colon + 1);
  switch (kind) {
    case 'ledger':
      return id === undefined && principal.customerId === null && hasScope(principal, 'ledger:read');
    case 'customer':
      return id !== undefined && id.length > 0 && hasScope(principal, 'payments:read') && canSeeCustomer(principal, id);
    case 'payment':
    case 'refund': {
      if (id === undefined || id.length === 0 || !hasScope(principal, 'payments:read')) return false;
      if (principal.customerId === null) return true;
      const owner = await (kind === 'payment' ? ownerOf : refundOwnerOf)(id);
      return owner !== undefined && canSeeCustomer(principal, owner);
    }
    default:
      return false;
  }
}

/**
 * mayFollow as the hub's AuthorizeTopic, for sockets whose handshake put a Principal on
 * `socket.data.principal`. A socket without one is refused everything.
 */
export function principalTopicPolicy(ownerOf: PaymentOwnerOf, refundOwnerOf: RefundOwnerOf = noRefunds): AuthorizeTopic {
  return (socket, topic) => {
    const principal = socket.data.principal;
    return principal === undefined ? false : mayFollow(principal, topic, ownerOf, refundOwnerOf);
  };
}
