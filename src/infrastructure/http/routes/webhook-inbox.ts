import type { Express } from 'express';
import type { InboxEntry } from '../../../application/ports/provider-inbox.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../../../projections/opaque-cursor.js';
import type { HttpLimits, StripeWebhookHttpDeps } from '../deps.js';
import { HttpProblem } from '../problem.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { CommandQuery } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { GetInboxEntryQuery, InboxEntryIdSchema, ListInboxQuery } from '../webhook-inbox-schemas.js';

/*
 * The webhook inbox for operators: what the processor sent, what each event came to, and
 * the parked ones (`?status=failed`) with a retry. Under /v1/admin, so behind
 * `authenticate` and `requireOperator` (operations.ts): the admin scope, not customer-scoped.
 */

const DEFAULT_LIMIT = 20;

const wireForm = (entry: InboxEntry): Record<string, unknown> => ({
  id: entry.id,
  object: 'webhook_event',
  provider: entry.provider,
  eventId: entry.eventId,
  type: entry.type,
  objectId: entry.objectId,
  createdAt: entry.providerCreatedAt,
  receivedAt: entry.receivedAt,
  status: entry.status,
  attempts: entry.attempts,
  nextAttemptAt: entry.nextAttemptAt,
  lastError: entry.lastError,
  outcome: entry.outcome,
  processedAt: entry.processedAt,
});

const encodeCursor = (before: string): string => encodeOpaqueCursor({ v: 1, inboxBefore: before });

function decodeCursor(cursor: string): string {
  const body = decodeOpaqueCursor(cursor);
  const before = body?.inboxBefore;
  if (body?.v !== 1 || typeof before !== 'string' || !InboxEntryIdSchema.safeParse(before).success) {
    throw new HttpProblem({ code: 'invalid_cursor', detail: 'The cursor is not one this API issued.', errors: [{ path: 'cursor', message: 'is not valid' }] });
  }
  return before;
}

function entryIdOf(value: unknown): string {
  if (typeof value === 'string' && InboxEntryIdSchema.safeParse(value).success) return value;
  throw new HttpProblem({ code: 'inbox_entry_not_found', detail: 'No inbox entry has this id.' });
}

export function registerWebhookInboxRoutes(app: Express, webhooks: StripeWebhookHttpDeps, _limits: HttpLimits): void {
  route(app, 'get', '/v1/admin/webhooks/inbox', async (req, res) => {
    const query = parseOrThrow(ListInboxQuery, req.query);
    const page = await webhooks.inbox.list({
      status: query.status as InboxEntry['status'] | undefined,
      limit: query.limit ?? DEFAULT_LIMIT,
      before: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    });
    sendJson(res, 200, { data: page.data.map(wireForm), nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore) });
  });

  route(app, 'get', '/v1/admin/webhooks/inbox/:id', async (req, res) => {
    parseOrThrow(GetInboxEntryQuery, req.query);
    const id = entryIdOf(req.params.id);
    const entry = await webhooks.inbox.get(id);
    if (!entry) throw new HttpProblem({ code: 'inbox_entry_not_found', detail: `No inbox entry has the id ${id}.` });
    sendJson(res, 200, { ...wireForm(entry), payload: entry.payload });
  });

  route(app, 'post', '/v1/admin/webhooks/inbox/:id/retry', async (req, res) => {
    parseOrThrow(CommandQuery, req.query);
    const id = entryIdOf(req.params.id);
    const result = await webhooks.inbox.retry(id);
    if (result.status === 'not_found') throw new HttpProblem({ code: 'inbox_entry_not_found', detail: `No inbox entry has the id ${id}.` });
    if (result.status === 'not_retryable') {
      throw new HttpProblem({
        code: 'inbox_entry_not_retryable',
        detail: `Inbox entry ${id} is ${result.current}: only failed and ignored entries are retried (a pending or processing one is on its way already).`,
        extensions: { currentStatus: result.current },
      });
    }
    webhooks.wake();
    sendJson(res, 202, wireForm(result.entry));
  });
}
