import type { ProjectionStore } from '../application/ports/projection-store.js';
import type { Result } from '../domain/result.js';
import { err, ok } from '../domain/result.js';
import type { Projection } from './projection.js';

export type RestartError =
  | { readonly code: 'unknown_projection'; readonly name: string }
  | { readonly code: 'not_failed'; readonly name: string };

/**
 * Clears a failed projection's failure, from any process (the CLI needs no runner): its
 * leader, wherever it runs, notices within its lease retry interval and tries the failing
 * event again from the checkpoint. Fix the cause first.
 */
export async function restartProjection(
  deps: { readonly store: Pick<ProjectionStore, 'clearFailure'>; readonly projections: readonly Projection[] },
  name: string,
): Promise<Result<void, RestartError>> {
  if (!deps.projections.some((p) => p.name === name)) return err({ code: 'unknown_projection', name });
  if (!(await deps.store.clearFailure(name))) return err({ code: 'not_failed', name });
  return ok(undefined);
}
