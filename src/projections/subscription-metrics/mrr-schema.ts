/**
 * `rm_subscription_metrics`: each subscription's MRR contribution over time.
 *
 * - `mrr_subscriptions`: the subscription's state as the one fold leaves it, the revision
 *   folded up to, and its open interval; what the next batch continues from.
 * - `mrr_intervals`: one row per stretch of the subscription's life with one status,
 *   currency and monthly amount (`mrr_numerator / mrr_denominator` minor units, exact).
 *   `during` is [valid_from, valid_to); valid_to null while it lasts.
 *
 * Indexes, one per query shape (mrr-queries.ts):
 * - mrr_intervals_during (GiST on `during`, only the statuses a report counts): which
 *   intervals contain an instant.
 * - mrr_intervals_churned (valid_from, only churn rows): cancellations in a month.
 */
export const MRR_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS mrr_subscriptions (
  id text COLLATE "C" PRIMARY KEY,
  state jsonb NOT NULL,
  revision bigint NOT NULL CHECK (revision >= 0),
  open_seq integer NOT NULL CHECK (open_seq >= 0),
  open_from timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS mrr_intervals (
  subscription_id text COLLATE "C" NOT NULL,
  seq integer NOT NULL CHECK (seq >= 0),
  test_clock text COLLATE "C",
  currency text COLLATE "C" NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL,
  mrr_numerator bigint NOT NULL CHECK (mrr_numerator >= 0),
  mrr_denominator integer NOT NULL CHECK (mrr_denominator > 0),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz CHECK (valid_to >= valid_from),
  churned boolean NOT NULL,
  during tstzrange GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  PRIMARY KEY (subscription_id, seq)
);`;

export const MRR_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS mrr_intervals_during ON mrr_intervals USING gist (during) WHERE status IN ('active', 'past_due', 'trialing');
CREATE INDEX IF NOT EXISTS mrr_intervals_churned ON mrr_intervals (valid_from) WHERE churned;`;
