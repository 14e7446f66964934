import type { RecordedEvent } from '../../../src/application/ports/event-store.js';
import { formatPosition } from '../../../src/application/ports/position.js';
import type { Projection } from '../../../src/projections/projection.js';

export interface RecordingProjection extends Projection {
  /** Make the handler throw for some events (change it later to "fix the bug"). */
  failOn: (event: RecordedEvent) => boolean;
  /** Awaited before each event: lets a test hold a batch in flight. */
  gate: () => Promise<void>;
}

/**
 * Records every event it handles as a row of `applied` and counts them in `counter`, with
 * no uniqueness anywhere: an event applied twice would show as an extra row and a count
 * above the number of events.
 */
export function recordingProjection(name: string, options: { eventTypes?: readonly string[]; version?: number } = {}): RecordingProjection {
  const projection: RecordingProjection = {
    name,
    version: options.version ?? 1,
    eventTypes: options.eventTypes ?? ['TestEvent'],
    schemaSql: `
      CREATE TABLE IF NOT EXISTS applied (event_id uuid NOT NULL, position text NOT NULL, type text NOT NULL);
      CREATE TABLE IF NOT EXISTS counter (id int PRIMARY KEY, n bigint NOT NULL);
      INSERT INTO counter (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    `,
    failOn: () => false,
    gate: () => Promise.resolve(),
    async apply(sql, event) {
      await projection.gate();
      if (projection.failOn(event)) throw new Error(`handler refused event ${event.id}`);
      const at = formatPosition(event.position);
      await sql.query('INSERT INTO applied (event_id, position, type) VALUES ($1, $2, $3)', [event.id, at, event.type]);
      await sql.query('UPDATE counter SET n = n + 1 WHERE id = 1');
      return [{ topics: [`test:${event.id}`, `all:${name}`], type: 'test.applied', data: { id: event.id, position: at } }];
    },
  };
  return projection;
}

/** Resolves when `check` holds, polling; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
