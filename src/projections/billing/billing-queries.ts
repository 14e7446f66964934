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

const record = <S>(row: StateRow<S>): { state: S; revision: bigint } => ({ state: row.state, revision: BigInt(row.revision) });

/** Reads the billing read model (for the subscription and invoice endpoints): newest first, keyset pagination on the id. */
export class SqlBillingQueries implements BillingQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async subscription(id: string): Promise<SubscriptionRecord | undefined> {
    const row = (await this.sql.query<StateRow<ExistingSubscription>>(`SELECT id, state, revision FROM ${SUBSCRIPTIONS} WHERE id = $1`, [id])).rows[0];
    return row ? record(row) : undefined;
  }

  async invoice(id: string): Promise<InvoiceRecord | undefined> {
    const row = (await this.sql.query<StateRow<ExistingInvoice>>(`SELECT id, state, revision FROM ${INVOICES} WHERE id = $1`, [id])).rows[0];
    return row ? record(row) : undefined;
  }

  async subscriptions(query: ListSubscriptionsQuery): Promise<Result<Page<SubscriptionRecord>, InvalidCursor>> {
    const page = await keysetList<StateRow<ExistingSubscription>>(this.sql, {
      table: SUBSCRIPTIONS,
      filters: [
        ['customer_id', query.customerId],
        ['status', query.status],
      ],
      cursor: query.cursor,
      isId: isSubscriptionId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(record), nextCursor: page.value.nextCursor }) : page;
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
    // Invoice ids are time-ordered by the period (or change) they bill: the greatest is the latest.
    const rows = (
      await this.sql.query<{ subscription_id: string; id: string }>(
        `SELECT DISTINCT ON (subscription_id) subscription_id, id FROM ${INVOICES} WHERE subscription_id = ANY($1::text[]) ORDER BY subscription_id, id DESC`,
        [subscriptionIds],
      )
    ).rows;
    return new Map(rows.map((r) => [r.subscription_id, r.id]));
  }
}
