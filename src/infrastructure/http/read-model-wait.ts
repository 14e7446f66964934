import { parsePosition } from '../../application/ports/position.js';
import type { ReadModels } from '../../application/ports/read-models.js';
import { HttpProblem, validationProblem } from './problem.js';

/** However it is configured, a query never holds a connection longer than this for `minPosition`. */
export const MAX_MIN_POSITION_WAIT_MS = 5_000;

/**
 * Read-your-writes: with `?minPosition=` (a Ledger-Position a command returned) a query
 * first waits, bounded, until the projection has applied that position. Timing out is a
 * 503 with Retry-After, not stale data the client asked not to see.
 */
export async function awaitReadModel(
  readModels: Pick<ReadModels, 'waitForPosition'>,
  projection: string,
  minPosition: string | undefined,
  maxWaitMs: number,
): Promise<void> {
  if (minPosition === undefined) return;
  const position = parsePosition(minPosition);
  if (!position) {
    throw validationProblem([{ path: 'minPosition', message: 'must be a position as returned in Ledger-Position, e.g. 8812.8812' }]);
  }
  const waitMs = Math.max(0, Math.min(maxWaitMs, MAX_MIN_POSITION_WAIT_MS));
  if (await readModels.waitForPosition(projection, position, waitMs)) return;
  throw new HttpProblem({
    code: 'read_model_behind',
    detail: `The ${projection} read model did not reach position ${minPosition} within ${waitMs} ms; retry shortly.`,
    retryAfterSeconds: 1,
  });
}
