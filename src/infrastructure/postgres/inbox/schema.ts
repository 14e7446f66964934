import type { Migration } from '../migrator.js';

/**
 * The processor's events, one row per (provider, event id): the unique constraint is the
 * deduplication, so a repeated delivery inserts nothing. `next_attempt_at` is when a
 * pending row is due and, while `processing`, when its claim lapses (a dead processor's
 * row becomes due again); `claim_token` says whose claim it is, so a processor that lost
 * its claim cannot finish the row over its successor. Done rows keep their payload: an
 * operator can see what was sent, and retry it.
 */
export const inboxMigrations: readonly Migration[] = [
  {
    id: 'inbox/001-webhook-inbox',
    sql: `
      CREATE TABLE IF NOT EXISTS webhook_inbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider text NOT NULL,
        event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
        type text NOT NULL,
        object_id text,
        provider_created_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'processed', 'ignored', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz DEFAULT now(),
        claim_token uuid,
        last_error text,
        outcome text,
        processed_at timestamptz,
        CONSTRAINT webhook_inbox_event UNIQUE (provider, event_id),
        CONSTRAINT webhook_inbox_due CHECK ((status IN ('pending', 'processing')) = (next_attempt_at IS NOT NULL)),
        CONSTRAINT webhook_inbox_claim CHECK ((status = 'processing') = (claim_token IS NOT NULL))
      );
      CREATE INDEX IF NOT EXISTS webhook_inbox_due_at ON webhook_inbox (next_attempt_at) WHERE status IN ('pending', 'processing');
      CREATE INDEX IF NOT EXISTS webhook_inbox_by_status ON webhook_inbox (status, id);
    `,
  },
];
