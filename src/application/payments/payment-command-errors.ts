import type { PaymentError } from '../../domain/payment/index.js';

/** Everything a payment command can answer besides success. Each maps to one HTTP status. */
export type PaymentCommandError =
  | PaymentError
  /** A customer-scoped caller named another customer. */
  | { readonly code: 'customer_forbidden'; readonly customerId: string }
  | { readonly code: 'revision_mismatch'; readonly expected: string; readonly actual: string | null }
  | { readonly code: 'provider_invalid_request'; readonly param: string; readonly message: string }
  | { readonly code: 'provider_unavailable'; readonly message: string }
  | { readonly code: 'provider_failed'; readonly providerCode: string; readonly message: string }
  | { readonly code: 'concurrency_conflict'; readonly attempts: number };
