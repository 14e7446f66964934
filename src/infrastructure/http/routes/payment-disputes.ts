import type { PaymentView } from '../../../application/payments/payment-view.js';
import type { HttpDeps } from '../deps.js';

/**
 * The payments with their disputes (issue 10), for GET /v1/payments/:id and the list: a
 * `disputes` field where a payment has any, absent otherwise (so an undisputed payment's
 * answer is what it always was). One query per page. The disputes read model may be a
 * moment behind the payments one; `dispute.*` changes on the payment's topic announce them.
 */
export async function withDisputes(deps: HttpDeps, payments: readonly PaymentView[]): Promise<PaymentView[]> {
  if (!deps.disputes || payments.length === 0) return [...payments];
  const byPayment = await deps.disputes.queries.forPayments(payments.map((p) => p.id));
  return payments.map((p) => {
    const disputes = byPayment.get(p.id);
    return disputes && disputes.length > 0 ? { ...p, disputes } : p;
  });
}
