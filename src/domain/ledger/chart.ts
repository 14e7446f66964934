/**
 * The chart of accounts. Every posting names one of these; the database refuses any other
 * name (a CHECK built from this list), and the HTTP API serves it as it is.
 *
 * Kinds and normal balances follow the accounting identity
 *   assets + expenses + contra-revenue = liabilities + equity + revenue
 * so an account's balance is shown on its normal side: debits − credits for a debit-normal
 * account, credits − debits for a credit-normal one.
 *
 * Accounts marked `planned` have no posting rule yet: they are here so that later issues
 * (payouts, provider fees, disputes) post to names clients already know, rather than
 * renaming anything. Their balance is zero until then. New accounts are only ever added:
 * the table's CHECK comes from this list, so adding one needs the ledger projection's
 * version bumped (a rebuild creates the table with the longer list).
 */
export type AccountKind = 'asset' | 'liability' | 'equity' | 'revenue' | 'contra_revenue' | 'expense';
export type NormalBalance = 'debit' | 'credit';

export interface Account {
  readonly name: string;
  readonly kind: AccountKind;
  readonly normalBalance: NormalBalance;
  readonly description: string;
  /** False while no posting rule uses it (reserved for a later feature). */
  readonly active: boolean;
}

const NORMAL: Readonly<Record<AccountKind, NormalBalance>> = {
  asset: 'debit',
  expense: 'debit',
  contra_revenue: 'debit',
  liability: 'credit',
  equity: 'credit',
  revenue: 'credit',
};

const account = (name: string, kind: AccountKind, description: string, active = true): Account =>
  Object.freeze({ name, kind, normalBalance: NORMAL[kind], description, active });

/** Names used by the posting rules, so a typo is a compile error rather than a refused insert. */
export const ACCOUNTS = {
  providerClearing: 'provider_clearing',
  revenue: 'revenue',
  refunds: 'refunds',
  refundsPending: 'refunds_pending',
  refundReservations: 'refund_reservations',
  accountsReceivable: 'accounts_receivable',
  deferredRevenue: 'deferred_revenue',
  customerCredit: 'customer_credit',
  badDebt: 'bad_debt',
  disputedFunds: 'disputed_funds',
  chargebacks: 'chargebacks',
  disputeFees: 'dispute_fees',
} as const;

export const CHART_OF_ACCOUNTS: readonly Account[] = Object.freeze([
  // Assets
  account('provider_clearing', 'asset', 'Money the payment processor holds for us: captured charges less refunds paid out, until a payout.'),
  account('bank', 'asset', 'Our bank account; payouts from the processor land here.', false),
  account('payouts_in_transit', 'asset', 'Payouts the processor has sent that the bank has not yet confirmed.', false),
  account('accounts_receivable', 'asset', 'Invoiced amounts not yet paid (an uncollectible invoice\'s is written off to bad_debt).'),
  account('disputed_funds', 'asset', 'Money the processor withholds while a dispute is open: still ours until the dispute is lost.'),
  // Liabilities
  account('refunds_pending', 'liability', 'Refunds reserved against captured payments and not yet succeeded, failed or canceled: money we have promised back.'),
  account('customer_credit', 'liability', 'What customers are owed: proration credits beyond an invoice\'s charges, prorated cancellations, invoice payments beyond what the invoice owed (until refunded).'),
  account('deferred_revenue', 'liability', 'Invoiced subscription fees for service not yet delivered: recognised as revenue when the period has been served.'),
  // Equity
  account('owner_equity', 'equity', 'Opening balances and corrections outside the payment flow.', false),
  // Revenue and contra-revenue
  account('revenue', 'revenue', 'Captured payments that pay no invoice, and subscription fees recognised as their periods are served.'),
  account('refunds', 'contra_revenue', 'Refunds the processor returned to cardholders.'),
  account('refund_reservations', 'contra_revenue', 'The revenue side of refunds_pending: refunds reserved and not yet resolved.'),
  account('chargebacks', 'contra_revenue', 'Disputes lost: payments reversed by the card network.'),
  // Expenses
  account('provider_fees', 'expense', 'Processing fees the processor deducts.', false),
  account('dispute_fees', 'expense', 'Fees charged per dispute, won or lost, less any the processor gave back.'),
  account('bad_debt', 'expense', 'Invoices written off as uncollectible, less what late payments recovered.'),
]);

const BY_NAME: ReadonlyMap<string, Account> = new Map(CHART_OF_ACCOUNTS.map((a) => [a.name, a]));

export const findAccount = (name: string): Account | undefined => BY_NAME.get(name);
