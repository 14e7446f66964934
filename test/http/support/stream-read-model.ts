import type { PaymentView } from '../../../src/application/payments/payment-view.js';
import { loadPayment } from '../../../src/application/payments/payment-stream.js';
import { toPaymentView } from '../../../src/application/payments/payment-view.js';
import type { EventStore } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';
import { comparePositions, formatPosition, position } from '../../../src/application/ports/position.js';
import type { SqlExecutor } from '../../../src/application/ports/sql.js';
import type { ListPaymentsQuery, PaymentListResult, PaymentQueries } from '../../../src/application/ports/payment-queries.js';
import type { ProjectionStatusView, ReadModels } from '../../../src/application/ports/read-models.js';
import { DEFAULT_PAGE_SIZE } from '../../../src/projections/payments/payment-queries.js';

/**
 * Payment queries answered straight from the event store, standing in for the projected
 * read model: always caught up, unless `hold()` makes it pretend to lag so that
 * minPosition waits can be tested. It reads the `events` table directly rather than
 * readAll, whose visibility rule (below the server-wide snapshot xmin) would let other
 * suites' open transactions on the same server make these suites flaky.
 */
export class StreamReadModel implements PaymentQueries, ReadModels {
  private held = false;

  constructor(
    private readonly store: EventStore,
    private readonly sql: SqlExecutor,
  ) {}

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  async get(id: string): Promise<PaymentView | undefined> {
    const loaded = await loadPayment(this.store, `payment-${id}`);
    if (!loaded.state.exists || loaded.revision === undefined) return undefined;
    return toPaymentView(loaded.state, loaded.revision, loaded.createdAt ?? '', loaded.updatedAt ?? '');
  }

  async list(query: ListPaymentsQuery): Promise<PaymentListResult> {
    let offset = 0;
    if (query.cursor !== undefined) {
      const m = /^o([0-9]+)$/.exec(query.cursor);
      if (!m) return { ok: false, error: { code: 'invalid_cursor', message: 'not a cursor this double issued' } };
      offset = Number(m[1]);
    }
    const streams = await this.sql.query<{ stream_id: string }>(
      `SELECT stream_id FROM events WHERE stream_id LIKE 'payment-%' GROUP BY stream_id ORDER BY min(global_position) DESC`,
    );
    const ids = streams.rows.map((r) => r.stream_id.slice('payment-'.length));
    const views: PaymentView[] = [];
    for (const id of ids) {
      const view = await this.get(id);
      if (!view) continue;
      if (query.customerId !== undefined && view.customerId !== query.customerId) continue;
      if (query.status !== undefined && view.status !== query.status) continue;
      views.push(view);
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = views.slice(offset, offset + limit);
    const next = offset + limit < views.length ? `o${offset + limit}` : null;
    return { ok: true, value: { data: page, nextCursor: next } };
  }

  async waitForPosition(_projection: string, target: Position, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = await this.head();
      if (!this.held && head !== undefined && comparePositions(head, target) >= 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async status(): Promise<readonly ProjectionStatusView[]> {
    const head = await this.head();
    return [
      {
        name: 'payments',
        version: 1,
        status: this.held ? 'catching_up' : 'running',
        checkpoint: head ? formatPosition(head) : null,
        lag: 0,
        error: null,
        failedPosition: null,
        updatedAt: new Date().toISOString(),
      },
    ];
  }

  private async head(): Promise<Position | undefined> {
    const row = (
      await this.sql.query<{ commit: string; prepare: string }>(
        'SELECT transaction_id::text AS commit, global_position::text AS prepare FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
      )
    ).rows[0];
    return row ? position(BigInt(row.commit), BigInt(row.prepare)) : undefined;
  }
}
