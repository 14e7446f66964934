import type { Position } from './position.js';

/** Matches the projection runner's statuses (src/projections/status.ts), so its rows pass through unchanged. */
export type ProjectionState = 'running' | 'catching_up' | 'stopped' | 'failed' | 'rebuilding' | 'needs_rebuild';

/** One projection as operators see it in GET /v1/admin/projections. */
export interface ProjectionStatusView {
  readonly name: string;
  readonly version: number;
  readonly status: ProjectionState;
  /** formatPosition of the last event applied; null before the first. */
  readonly checkpoint: string | null;
  /** Events between the checkpoint and the head of the log; null when unknown. */
  readonly lag: number | null;
  /** Why a failed projection stopped. */
  readonly error: string | null;
  /** formatPosition of the event it stopped at. */
  readonly failedPosition: string | null;
  /** ISO 8601 of the last checkpoint or status change; null before the projection first ran. */
  readonly updatedAt: string | null;
}

/** The projections, as queries and operators see them. */
export interface ReadModels {
  /** Resolves true once `projection` has applied everything up to `position`, false after `timeoutMs`. */
  waitForPosition(projection: string, position: Position, timeoutMs: number): Promise<boolean>;
  status(): Promise<readonly ProjectionStatusView[]>;
}
