import { CHART_OF_ACCOUNTS } from '../../domain/ledger/chart.js';

/*
 * The ledger's tables, and the rules PostgreSQL itself enforces on them (not only this
 * code): every entry balances per currency, and nothing is ever updated or deleted. The
 * posting rules' books (ledger_invoices, ledger_invoice_payments) are working state, not
 * the ledger: they are updated in place, and never negative.
 *
 * The DDL runs unqualified with search_path set to the projection's schema (rm_ledger, or a
 * rebuild's rm_ledger__rebuild that is later renamed to rm_ledger; docs/architecture.md,
 * "Projections"). So the trigger functions must not depend on the search_path of whoever
 * fires them (the runner, a direct psql session): they find their tables through
 * TG_TABLE_SCHEMA, which follows a schema rename. A function's own `SET search_path` would
 * pin the scratch schema's old name instead.
 *
 * Rebuild and audit still work: they create the tables in a scratch schema, insert, and
 * then rename or DROP SCHEMA … CASCADE; neither is an UPDATE, DELETE or TRUNCATE of a row,
 * so the immutability triggers do not fire (test/projections/ledger.int.test.ts rebuilds
 * and audits to prove it).
 */

/** Set (transaction-local) by a writer that inserts entries and their postings in one statement. */
export const POSTINGS_IN_STATEMENT = 'ledger.postings_in_statement';

const ACCOUNT_NAMES = CHART_OF_ACCOUNTS.map((a) => `'${a.name}'`).join(', ');

export const LEDGER_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS ledger_entries (
  -- One entry per event, so the event id is the key: a replayed or rebuilt event can never post twice.
  event_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  position_commit numeric(20,0) NOT NULL,
  position_prepare numeric(20,0) NOT NULL,
  occurred_at timestamptz NOT NULL,
  description text NOT NULL,
  payment_id text COLLATE "C",
  refund_id text COLLATE "C",
  customer_id text,
  CONSTRAINT ledger_entries_position_unique UNIQUE (position_commit, position_prepare)
);

CREATE TABLE IF NOT EXISTS ledger_postings (
  entry_id uuid NOT NULL,
  line smallint NOT NULL CONSTRAINT ledger_postings_line_non_negative CHECK (line >= 0),
  account text COLLATE "C" NOT NULL CONSTRAINT ledger_postings_account_known CHECK (account IN (${ACCOUNT_NAMES})),
  currency text COLLATE "C" NOT NULL CONSTRAINT ledger_postings_currency_shape CHECK (currency ~ '^[A-Z]{3}$'),
  side text NOT NULL CONSTRAINT ledger_postings_side_known CHECK (side IN ('debit', 'credit')),
  amount bigint NOT NULL CONSTRAINT ledger_postings_amount_positive CHECK (amount > 0),
  -- Copies of the entry's position and time (both immutable), so balances read one index.
  position_commit numeric(20,0) NOT NULL,
  position_prepare numeric(20,0) NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (entry_id, line)
);

-- The posting rules' memory (ledger-books.ts): per invoice, what is still receivable,
-- deferred, written off and owed back by a prorated cancel (until its payment's refund draws
-- it down); per invoice payment, its invoice and what no invoice absorbed.
-- applied_* is the last event applied to the row (a replayed event changes nothing).
CREATE TABLE IF NOT EXISTS ledger_invoices (
  invoice_id text COLLATE "C" PRIMARY KEY,
  subscription_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  currency text COLLATE "C" NOT NULL,
  period_end timestamptz NOT NULL,
  issued_commit numeric(20,0) NOT NULL,
  issued_prepare numeric(20,0) NOT NULL,
  receivable bigint NOT NULL CONSTRAINT ledger_invoices_receivable_non_negative CHECK (receivable >= 0),
  deferred bigint NOT NULL CONSTRAINT ledger_invoices_deferred_non_negative CHECK (deferred >= 0),
  written_off bigint NOT NULL CONSTRAINT ledger_invoices_written_off_non_negative CHECK (written_off >= 0),
  cancel_credit bigint NOT NULL CONSTRAINT ledger_invoices_cancel_credit_non_negative CHECK (cancel_credit >= 0),
  applied_commit numeric(20,0) NOT NULL,
  applied_prepare numeric(20,0) NOT NULL
);
-- The batch loads a subscription's invoices still deferring revenue (recognition, credits).
CREATE INDEX IF NOT EXISTS ledger_invoices_deferring ON ledger_invoices (subscription_id) WHERE deferred > 0;
-- A cancel reads all its subscription's invoices (holdCancelCredit).
CREATE INDEX IF NOT EXISTS ledger_invoices_subscription ON ledger_invoices (subscription_id);

CREATE TABLE IF NOT EXISTS ledger_invoice_payments (
  payment_id text COLLATE "C" PRIMARY KEY,
  invoice_id text COLLATE "C" NOT NULL,
  unapplied bigint NOT NULL CONSTRAINT ledger_invoice_payments_unapplied_non_negative CHECK (unapplied >= 0),
  applied_commit numeric(20,0) NOT NULL,
  applied_prepare numeric(20,0) NOT NULL
);

-- Balanced per currency, checked at COMMIT: an entry without postings, or whose debits and
-- credits differ in any currency, cannot commit. This runs once per entry, so its query is
-- static (planned once per session, not per row as EXECUTE would): it is resolved in the
-- trigger's own schema by pointing search_path there for the duration of the check. A
-- cached plan is replanned whenever search_path differs from the one it was planned under,
-- and after a schema switch drops the tables it named.
CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  saved text := current_setting('search_path');
  own text := quote_ident(TG_TABLE_SCHEMA);
  currencies bigint;
  unbalanced text;
BEGIN
  IF saved <> own THEN PERFORM set_config('search_path', own, true); END IF;
  SELECT count(*), min(currency) FILTER (WHERE balance <> 0)
    INTO currencies, unbalanced
    FROM (SELECT currency, sum(CASE side WHEN 'debit' THEN amount ELSE -amount END) AS balance
            FROM ledger_postings WHERE entry_id = NEW.event_id GROUP BY currency) per_currency;
  IF saved <> own THEN PERFORM set_config('search_path', saved, true); END IF;
  IF currencies = 0 THEN
    RAISE EXCEPTION 'ledger entry % has no postings', NEW.event_id USING ERRCODE = 'check_violation';
  END IF;
  IF unbalanced IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry %: debits and credits differ in %', NEW.event_id, unbalanced USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$fn$;

-- The projection writes an entry and its postings in one statement. It says so for the
-- transaction (${POSTINGS_IN_STATEMENT} = on), and then each entry is checked at the end of
-- the statement that inserted it, all at once, instead of one deferred check per entry at
-- COMMIT (the per-row trigger's WHEN skips them). Having postings is all that is left to
-- check: the postings' own statement trigger already proved every entry they touch
-- balanced, and postings are never changed or removed. Without the setting (a hand-written
-- entry, its postings in a later statement) the deferred per-row check above applies.
CREATE OR REPLACE FUNCTION ledger_entries_must_have_postings() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bare uuid;
BEGIN
  IF current_setting('${POSTINGS_IN_STATEMENT}', true) IS DISTINCT FROM 'on' THEN RETURN NULL; END IF;
  EXECUTE format(
    'SELECT n.event_id FROM new_entries n
       LEFT JOIN LATERAL (SELECT 1 AS found FROM %1$I.ledger_postings p WHERE p.entry_id = n.event_id LIMIT 1) posted ON true
      WHERE posted.found IS NULL
      LIMIT 1',
    TG_TABLE_SCHEMA)
    INTO bare;
  IF bare IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry % has no postings', bare USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$fn$;

-- Postings inserted later (another statement or transaction) must name an existing entry
-- and leave every entry they touch balanced: a statement-level check over the statement's
-- new rows, so a batch's one multi-row INSERT pays one query, not one per row.
CREATE OR REPLACE FUNCTION ledger_postings_must_balance() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad record;
BEGIN
  -- Index probes per entry the statement touched (LATERAL … LIMIT keeps them probes): a
  -- join the planner may choose instead would read the whole, growing, table per statement
  -- (a merge join over the postings' primary key made each batch O(table)).
  EXECUTE format(
    'SELECT touched.entry_id, true AS orphan, NULL::text AS currency
       FROM (SELECT DISTINCT entry_id FROM new_postings) touched
       LEFT JOIN LATERAL (SELECT 1 AS found FROM %1$I.ledger_entries e WHERE e.event_id = touched.entry_id LIMIT 1) entry ON true
      WHERE entry.found IS NULL
      LIMIT 1',
    TG_TABLE_SCHEMA)
    INTO bad;
  IF bad.entry_id IS NULL THEN
    EXECUTE format(
      'SELECT touched.entry_id, false AS orphan, unbalanced.currency
         FROM (SELECT DISTINCT entry_id FROM new_postings) touched
        CROSS JOIN LATERAL (
              SELECT p.currency FROM %1$I.ledger_postings p
               WHERE p.entry_id = touched.entry_id
               GROUP BY p.currency
              HAVING sum(CASE p.side WHEN ''debit'' THEN p.amount ELSE -p.amount END) <> 0
               LIMIT 1) unbalanced
        LIMIT 1',
      TG_TABLE_SCHEMA)
      INTO bad;
  END IF;
  IF bad.entry_id IS NOT NULL AND bad.orphan THEN
    RAISE EXCEPTION 'ledger posting names no entry: %', bad.entry_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF bad.entry_id IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry %: debits and credits differ in %', bad.entry_id, bad.currency USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$fn$;

-- Corrections are reversing entries: rows are never changed or removed.
CREATE OR REPLACE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the ledger is append-only; post a reversing entry instead', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

DO $do$
BEGIN
  -- Before the statement-level check existed, this trigger fired for every entry: replaced once.
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND tgname = 'ledger_entries_balanced'
               AND pg_get_triggerdef(oid) NOT LIKE '%WHEN%') THEN
    DROP TRIGGER ledger_entries_balanced ON ledger_entries;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND tgname = 'ledger_entries_balanced') THEN
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      WHEN (current_setting('${POSTINGS_IN_STATEMENT}', true) IS DISTINCT FROM 'on')
      EXECUTE FUNCTION ledger_entry_must_balance();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND tgname = 'ledger_entries_posted') THEN
    CREATE TRIGGER ledger_entries_posted AFTER INSERT ON ledger_entries
      REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_must_have_postings();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_postings'::regclass AND tgname = 'ledger_postings_balanced') THEN
    CREATE TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
      REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_must_balance();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND tgname = 'ledger_entries_append_only') THEN
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
    CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ledger_postings'::regclass AND tgname = 'ledger_postings_append_only') THEN
    CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
      FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
    CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
  END IF;
END
$do$;
`;

/** What the ledger queries read; a rebuild builds them after its replay. */
export const LEDGER_INDEX_SQL = `
-- GET /v1/ledger/entries?paymentId=, newest first.
CREATE INDEX IF NOT EXISTS ledger_entries_payment ON ledger_entries (payment_id, position_commit, position_prepare);
-- Balances: index-only scans of one account (and currency) up to a position or a time.
CREATE INDEX IF NOT EXISTS ledger_postings_account_position
  ON ledger_postings (account, currency, position_commit, position_prepare) INCLUDE (side, amount, entry_id);
CREATE INDEX IF NOT EXISTS ledger_postings_account_time
  ON ledger_postings (account, currency, occurred_at) INCLUDE (side, amount);
`;

export const LEDGER_SCHEMA_SQL = `${LEDGER_TABLES_SQL}${LEDGER_INDEX_SQL}`;
