import type { DisputeView, PaymentDisputeSummary } from '../../application/disputes/dispute-view.js';
import type { DisputePage, DisputeQueries, ListDisputesQuery, ProviderPaymentIndex } from '../../application/ports/dispute-queries.js';
import type { InvalidCursor } from '../../application/ports/payment-queries.js';
import type { Position } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import { isDisputeId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { ok } from '../../domain/result.js';
import { keysetList } from '../keyset-list.js';
import { projectionSchema } from '../projection.js';
import type { DisputeRow } from './dispute-row.js';
import { disputeViewFromRow } from './dispute-row.js';
import { DISPUTES_PROJECTION } from './disputes-projection.js';

// The live schema by name: a rebuild swaps schemas atomically.
const SCHEMA = projectionSchema(DISPUTES_PROJECTION);
const DISPUTES_TABLE = `${SCHEMA}.disputes`;

const GET_DISPUTE = `SELECT * FROM ${DISPUTES_TABLE} WHERE id = $1`;
/** Bounded by the ids asked for; a payment has a handful of disputes at most (Stripe: one per charge). */
const FOR_PAYMENTS = `SELECT id, payment_id, status, amount, reason FROM ${DISPUTES_TABLE} WHERE payment_id = ANY($1::text[]) ORDER BY payment_id, id`;
const PAYMENT_FOR_PROVIDER = `SELECT payment_id FROM ${SCHEMA}.dispute_payment_refs WHERE provider_payment_id = $1`;

const FILTERS = [
  ['paymentId', 'payment_id'],
  ['customerId', 'customer_id'],
  ['status', 'status'],
] as const satisfies readonly (readonly [keyof ListDisputesQuery, string])[];

export class SqlDisputeQueries implements DisputeQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async get(id: string): Promise<DisputeView | undefined> {
    const row = (await this.sql.query<DisputeRow>(GET_DISPUTE, [id])).rows[0];
    return row ? disputeViewFromRow(row) : undefined;
  }

  async list(query: ListDisputesQuery): Promise<Result<DisputePage, InvalidCursor>> {
    const page = await keysetList<DisputeRow>(this.sql, {
      table: DISPUTES_TABLE,
      filters: FILTERS.map(([field, column]) => [column, query[field]] as const),
      cursor: query.cursor,
      isId: isDisputeId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(disputeViewFromRow), nextCursor: page.value.nextCursor }) : page;
  }

  async forPayments(paymentIds: readonly string[]): Promise<ReadonlyMap<string, readonly PaymentDisputeSummary[]>> {
    const out = new Map<string, PaymentDisputeSummary[]>();
    if (paymentIds.length === 0) return out;
    const rows = await this.sql.query<Pick<DisputeRow, 'id' | 'payment_id' | 'status' | 'amount' | 'reason'>>(FOR_PAYMENTS, [paymentIds]);
    for (const r of rows.rows) {
      const list = out.get(r.payment_id) ?? [];
      list.push({ id: r.id, status: r.status, amount: Number(r.amount), reason: r.reason });
      out.set(r.payment_id, list);
    }
    return out;
  }
}

/** How long a miss waits for the index to catch up with the log before it is an answer. */
export const PROVIDER_INDEX_CATCH_UP_MS = 5_000;

/**
 * The processor-id index (dispute_payment_refs). A miss is an answer only once the disputes
 * projection has caught up with the log's head as it was when asked (or the wait ran out):
 * the authorization that names the processor's id may have just been written.
 */
export class SqlProviderPaymentIndex implements ProviderPaymentIndex {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly head: () => Promise<Position | undefined>,
    private readonly waitFor: (position: Position, timeoutMs: number) => Promise<boolean>,
    private readonly catchUpMs: number = PROVIDER_INDEX_CATCH_UP_MS,
  ) {}

  async paymentIdFor(providerPaymentId: string): Promise<string | undefined> {
    const found = await this.lookup(providerPaymentId);
    if (found !== undefined) return found;
    const head = await this.head();
    if (head === undefined) return undefined;
    await this.waitFor(head, this.catchUpMs);
    return this.lookup(providerPaymentId);
  }

  private async lookup(providerPaymentId: string): Promise<string | undefined> {
    return (await this.sql.query<{ payment_id: string }>(PAYMENT_FOR_PROVIDER, [providerPaymentId])).rows[0]?.payment_id;
  }
}
