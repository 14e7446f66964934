/**
 * SQLSTATE raised by ledger_append when event ids were already written, but not as this
 * same write (partly, elsewhere, or with other types). The adapter maps it to
 * IdempotencyViolation.
 */
export const IDEMPOTENCY_VIOLATION_SQLSTATE = 'LE001';

/** Name of the unique constraint on events.event_id; a hit on it may be a racing retry. */
export const EVENT_ID_CONSTRAINT = 'events_event_id_key';

/** Name of the unique constraint on (stream_id, stream_revision); a hit on it is a racing writer. */
export const STREAM_REVISION_CONSTRAINT = 'events_stream_revision_key';
