import type { BillingQueries, InvoiceRecord, ListInvoicesQuery, ListSubscriptionsQuery, Page, SubscriptionRecord } from '../../application/ports/billing-queries.js';
import type { InvalidCursor } from '../../application/ports/payment-queries.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import { isInvoiceId, isSubscriptionId } from '../../domain/ids.js';
import type { ExistingInvoice } from '../../domain/invoice/index.js';
import type { Result } from '../../domain/result.js';
import { ok } from '../../domain/result.js';
import type { ExistingSubscription } from '../../domain/subscription/index.js';
import { keysetList } from '../keyset-list.js';
import { projectionSchema } from '../projection.js';
import { BILLING_PROJECTION } from './billing-projection.js';

// The live schema by name, as the other queries do: a rebuild swaps schemas atomically.
const SCHEMA = projectionSchema(BILLING_PROJECTION);
const SUBSCRIPTIONS = `${SCHEMA}.subscriptions`;
const INVOICES = `${SCHEMA}.invoices`;

interface StateRow<S> {
  readonly id: string;
  readonly state: S;
  readonly revision: string | number;
}

interface SubscriptionRow extends StateRow<ExistingSubscription> {
  readonly latest_invoice: string | null;
}

const record = <S>(row: StateRow<S>): { state: S; revision: bigint } => ({ state: row.state, revision: BigInt(row.revision) });
const subscriptionRecord = (row: SubscriptionRow): SubscriptionRecord => ({ ...record(row), latestInvoice: row.latest_invoice });

/** Reads the billing read model (for the subscription and invoice endpoints): newest first, keyset pagination on the id. */
export class SqlBillingQueries implements BillingQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async subscription(id: string): Promise<SubscriptionRecord | undefined> {
    const row = (await this.sql.query<SubscriptionRow>(`SELECT id, state, revision, latest_invoice FROM ${SUBSCRIPTIONS} WHERE id = $1`, [id])).rows[0];
    return row ? subscriptionRecord(row) : undefined;
  }

  async invoice(id: string): Promise<InvoiceRecord | undefined> {
    const row = (await this.sql.query<StateRow<ExistingInvoice>>(`SELECT id, state, revision FROM ${INVOICES} WHERE id = $1`, [id])).rows[0];
    return row ? record(row) : undefined;
  }

  async subscriptions(query: ListSubscriptionsQuery): Promise<Result<Page<SubscriptionRecord>, InvalidCursor>> {
    const page = await keysetList<SubscriptionRow>(this.sql, {
      table: SUBSCRIPTIONS,
      filters: [
        ['customer_id', query.customerId],
        ['status', query.status],
      ],
      cursor: query.cursor,
      isId: isSubscriptionId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(subscriptionRecord), nextCursor: page.value.nextCursor }) : page;
  }

  async invoices(query: ListInvoicesQuery): Promise<Result<Page<InvoiceRecord>, InvalidCursor>> {
    const page = await keysetList<StateRow<ExistingInvoice>>(this.sql, {
      table: INVOICES,
      filters: [
        ['subscription_id', query.subscriptionId],
        ['customer_id', query.customerId],
        ['status', query.status],
      ],
      cursor: query.cursor,
      isId: isInvoiceId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(record), nextCursor: page.value.nextCursor }) : page;
  }

  async latestInvoiceIds(subscriptionIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (subscriptionIds.length === 0) return new Map();
    // The projection keeps it on the subscription's row as invoices are issued (billing-projection.ts).
    const rows = (
      await this.sql.query<{ id: string; latest_invoice: string }>(
        `SELECT id, latest_invoice FROM ${SUBSCRIPTIONS} WHERE id = ANY($1::text[]) AND latest_invoice IS NOT NULL`,
        [subscriptionIds],
      )
    ).rows;
    return new Map(rows.map((r) => [r.id, r.latest_invoice]));
  }
}
