import type { Express, Request } from 'express';
import { canSeeCustomer } from '../../../application/auth/principal.js';
import type { ActivityQueries } from '../../../application/ports/activity-feed.js';
import type { Position } from '../../../application/ports/position.js';
import { parsePosition } from '../../../application/ports/position.js';
import { waitForActivityPosition } from '../../../projections/activity/activity-position-wait.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpLimits } from '../deps.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { CustomerIdSchema, LimitSchema, ListActivityQuery } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { activityWireForm } from '../wire-form.js';

const CURSOR_PREFIX = 'act:';

/** Opaque to clients: the position of the last entry of the page, so the next page starts below it. */
export const encodeActivityCursor = (position: string): string => Buffer.from(`${CURSOR_PREFIX}${position}`).toString('base64url');

function decodeCursor(cursor: string): Position | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(CURSOR_PREFIX) ? parsePosition(text.slice(CURSOR_PREFIX.length)) : undefined;
}

function customerIdOf(req: Request): string {
  const parsed = CustomerIdSchema.safeParse(req.params['id']);
  if (!parsed.success) {
    throw new HttpProblem({ code: 'validation_failed', detail: 'The customer id is not valid.', errors: [{ path: 'id', message: parsed.error.issues[0]?.message ?? 'is not valid' }] });
  }
  return parsed.data;
}

/**
 * GET /v1/customers/:id/activity: a customer's timeline, newest first (payments:read).
 *
 * A customer-scoped credential asking for another customer's timeline is 403 `forbidden`,
 * as is naming another customer in GET /v1/payments?customerId=: there is no customer
 * resource whose existence a 404 would hide (any id has a timeline, maybe empty, for an
 * unscoped caller), and an empty 200 would say "that customer did nothing".
 * `?minPosition=` waits, bounded, for the feed's own checkpoint, as other queries do for theirs.
 */
export function registerActivityRoutes(app: Express, activity: ActivityQueries, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);
  const feedProgress = { waitForPosition: (_name: string, position: Position, timeoutMs: number) => waitForActivityPosition(activity, position, timeoutMs) };
  route(app, 'get', '/v1/customers/:id/activity', requireScope('payments:read'), async (req, res) => {
    const customerId = customerIdOf(req);
    const query = parseOrThrow(ListActivityQuery, req.query);
    if (!canSeeCustomer(principalOf(res), customerId)) {
      throw new HttpProblem({ code: 'forbidden', detail: 'This credential may read only its own customer\'s activity.' });
    }
    await awaitReadModel(feedProgress, 'activity', query.minPosition, limits.minPositionWaitMs);
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !before) {
      throw new HttpProblem({ code: 'invalid_cursor', detail: 'The cursor is not one this API issued.', errors: [{ path: 'cursor', message: 'is not valid' }] });
    }
    const limit = query.limit ?? defaultLimit;
    // One more than the page, so the last page says so instead of leading to an empty one.
    const entries = await activity.page({ customerId, limit: limit + 1, beforePosition: before });
    const data = entries.slice(0, limit);
    const last = data.at(-1);
    sendJson(res, 200, { data: data.map(activityWireForm), nextCursor: entries.length > limit && last ? encodeActivityCursor(last.position) : null });
  });
}
