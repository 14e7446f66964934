import type { RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import type { PositionedChange } from '../application/ports/projection-store.js';
import type { SqlExecutor } from '../application/ports/sql.js';
import type { Result } from '../domain/result.js';
import { err, ok } from '../domain/result.js';
import { describeError } from './logger.js';
import type { Projection, ProjectionChange } from './projection.js';
import { ProjectionEventError } from './projection.js';

/** A handler threw: the projection stops at this event. */
export interface HandlerFailure {
  readonly message: string;
  readonly position: Position;
  readonly eventId: string;
  /** The thrown value, so the store can tell its own transient errors from the handler's. */
  readonly error: unknown;
}

/**
 * Feeds the events the projection handles to it, in order, inside the caller's transaction.
 * The others are only read past: the caller still checkpoints over them, so a wait for
 * any position, handled or not, can complete. A replay into a scratch schema publishes
 * nothing (`changes: 'discard'`): its changes are neither checked nor returned.
 */
export async function applyEvents(
  projection: Projection,
  handled: ReadonlySet<string>,
  sql: SqlExecutor,
  events: readonly RecordedEvent[],
  keep: 'keep' | 'discard' = 'keep',
): Promise<Result<PositionedChange[], HandlerFailure>> {
  if (projection.applyBatch) return applyBatch(projection, projection.applyBatch.bind(projection), handled, sql, events, keep);
  const changes: PositionedChange[] = [];
  for (const event of events) {
    if (!handled.has(event.type)) continue;
    let produced;
    try {
      produced = await projection.apply(sql, event);
    } catch (error) {
      return err({ message: describeError(error), position: event.position, eventId: event.id, error });
    }
    if (keep === 'discard') continue;
    for (const change of produced) {
      const problem = invalidChange(change);
      if (problem) return err({ message: `${projection.name} returned an unusable change: ${problem}`, position: event.position, eventId: event.id, error: new Error(problem) });
      changes.push({ topics: change.topics, type: change.type, data: change.data, position: event.position });
    }
  }
  return ok(changes);
}

async function applyBatch(
  projection: Projection,
  apply: NonNullable<Projection['applyBatch']>,
  handled: ReadonlySet<string>,
  sql: SqlExecutor,
  events: readonly RecordedEvent[],
  keep: 'keep' | 'discard',
): Promise<Result<PositionedChange[], HandlerFailure>> {
  const relevant = events.filter((e) => handled.has(e.type));
  const first = relevant[0];
  if (!first) return ok([]);
  let produced;
  try {
    produced = await apply(sql, relevant);
  } catch (error) {
    const at = error instanceof ProjectionEventError ? error.event : first;
    return err({ message: describeError(error), position: at.position, eventId: at.id, error });
  }
  if (keep === 'discard') return ok([]);
  const changes: PositionedChange[] = [];
  for (const change of produced) {
    const problem = invalidChange(change);
    if (problem) {
      const at = relevant.find((e) => e.position === change.position) ?? first;
      return err({ message: `${projection.name} returned an unusable change: ${problem}`, position: at.position, eventId: at.id, error: new Error(problem) });
    }
    changes.push({ topics: change.topics, type: change.type, data: change.data, position: change.position });
  }
  return ok(changes);
}

// realtime_changes.topic is 1..200 characters.
const MAX_TOPIC_LENGTH = 200;

/**
 * A change the store could not write is the handler's bug: caught here, it stops the
 * projection at its event; caught at commit, it would look like an outage and retry forever.
 */
function invalidChange(change: ProjectionChange): string | undefined {
  if (change.topics.length === 0) return 'no topics';
  const topic = change.topics.find((t) => t.length === 0 || t.length > MAX_TOPIC_LENGTH);
  if (topic !== undefined) return `topic must be 1 to ${MAX_TOPIC_LENGTH} characters: ${JSON.stringify(topic.slice(0, 50))}`;
  if (change.type.length === 0) return 'empty type';
  try {
    JSON.stringify(change.data);
  } catch (error) {
    return `data is not JSON: ${describeError(error)}`;
  }
  return undefined;
}

// No double underscore: `rm_<name>__rebuild` must never be another projection's live schema.
const PROJECTION_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Names become schema names, which must fit PostgreSQL's 63 bytes with a `__rebuild` suffix. */
export function assertProjectionName(name: string): void {
  if (!PROJECTION_NAME.test(name) || name.length > 48) {
    throw new Error(`invalid projection name ${JSON.stringify(name)}: want lowercase words joined by single underscores, at most 48 characters`);
  }
}

/** Where a rebuild replays before the switch. */
export const rebuildSchema = (name: string): string => `rm_${name}__rebuild`;
/** Where an audit replays; dropped afterwards. */
export const auditSchema = (name: string): string => `rm_${name}__audit`;
