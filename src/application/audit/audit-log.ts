import type { AppendResult, EventStore, ExpectedRevision } from '../ports/event-store.js';
import type { Clock } from '../ports/clock.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { AuditEvent } from './audit-events.js';
import { auditStreamOf } from './audit-events.js';

export const AUDIT_SCHEMA_VERSION = 1;

export interface RecordOptions {
  /**
   * Makes the event id deterministic (e.g. `ApiKeyRevoked:<key id>`): recording the same
   * fact again after an unclear failure is then recognised as the same write, not a second one.
   */
  readonly idempotencySeed?: string;
  readonly causationId?: string | null;
}

/**
 * Appends administrative actions to the event store with their actor. A failed append
 * throws: callers that must not act unaudited (key creation and revocation) do the action
 * in a transaction they commit only after `record` returned.
 */
export class AuditLog {
  constructor(
    private readonly eventStore: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async record(event: AuditEvent, actor: string, correlationId: string, options: RecordOptions = {}): Promise<AppendResult> {
    if (actor.trim() === '') throw new Error('an audit event needs an actor');
    return this.eventStore.append(
      auditStreamOf(event),
      [{
        id: options.idempotencySeed === undefined ? this.ids.uuid() : this.ids.uuidFrom(`audit:${options.idempotencySeed}`),
        type: event.type,
        data: event.data,
        metadata: {
          correlationId,
          causationId: options.causationId ?? null,
          actor,
          occurredAt: this.clock.now().toISOString(),
          schemaVersion: AUDIT_SCHEMA_VERSION,
        },
      }],
      expectedRevisionFor(event),
    );
  }
}

/** A key or an endpoint is created once: a second creation in its stream is a bug (an id collision), not history. */
function expectedRevisionFor(event: AuditEvent): ExpectedRevision {
  return event.type === 'ApiKeyCreated' || event.type === 'WebhookEndpointCreated' ? 'no_stream' : 'any';
}
