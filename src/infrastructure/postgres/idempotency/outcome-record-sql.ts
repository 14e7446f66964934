import type { OutcomeRecord } from '../../../application/ports/event-store.js';

/*
 * The idempotency record of a keyed command, written by the same statement as its events
 * (EventStore `recordOutcome`; docs/architecture.md, "The command path"). The event store
 * wraps its append query in this: the append runs first (a MATERIALIZED CTE runs once, and
 * the outer SELECT reads it), then the key is completed exactly as
 * PostgresIdempotencyStore.complete would, but only when the append wrote (status 'ok') and
 * the lease still holds. One round trip and one commit instead of two: the events and the
 * answer a retry will get are durable together, or neither is.
 *
 * The append query must return `status` and, as text, `transaction_id` and
 * `global_position`: the position header is "<transaction_id>.<global_position>", as
 * formatPosition writes it.
 */

/**
 * The CTE that completes the key from the appended row(s) named `source` (columns
 * `transaction_id` and `global_position` as text), when `okCondition` (over alias `a`) holds.
 * Its parameters are $firstParam.. in outcomeRecordParams' order. The statement around it
 * reports `EXISTS (SELECT 1 FROM recorded)`; a data-modifying CTE runs whether read or not.
 */
export function recordOutcomeCte(source: string, okCondition: string, firstParam: number): string {
  const p = (i: number): string => `$${firstParam + i - 1}`;
  return `recorded AS (
    UPDATE idempotency_keys k
    SET state = 'completed', response_status = ${p(1)},
        response_headers = ${p(2)}::jsonb || jsonb_build_object(${p(3)}::text, a.transaction_id || '.' || a.global_position),
        response_body = ${p(4)}, completed_at = now(), lease_token = NULL, locked_until = NULL
    FROM ${source} a
    WHERE (${okCondition}) AND k.actor = ${p(5)} AND k.key = ${p(6)} AND k.lease_token = ${p(7)} AND k.state = 'in_flight'
    RETURNING 1
  )`;
}

/** A SELECT-shaped append query (it returns `status`), wrapped; its own parameters stay $1..$appendParams, the record's follow. */
export function appendRecordingOutcomeSql(appendSql: string, appendParams: number): string {
  return `WITH appended AS MATERIALIZED (${appendSql}),
  ${recordOutcomeCte('appended', "a.status = 'ok'", appendParams + 1)}
  SELECT a.*, EXISTS (SELECT 1 FROM recorded) AS outcome_recorded FROM appended a`;
}

/** The record's parameters, in the order appendRecordingOutcomeSql numbers them. */
export function outcomeRecordParams(record: OutcomeRecord): unknown[] {
  const { response } = record;
  return [
    response.status,
    JSON.stringify(response.headers),
    record.positionHeader,
    Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
    record.scope.actor,
    record.scope.key,
    record.lease,
  ];
}
