/**
 * Payment methods named like Stripe's test-mode ones, with what a card processor in test
 * mode answers for each. Anything else is "No such PaymentMethod", as Stripe says.
 */
export type TestCardOutcome =
  | { readonly kind: 'approve' }
  /** Approves the charge; every refund of it fails later (Stripe's pm_card_refundFail). */
  | { readonly kind: 'approve_refunds_fail' }
  /** Approves the charge; once captured, the cardholder disputes it (Stripe's pm_card_createDispute; see simulated-disputes.ts). */
  | { readonly kind: 'approve_disputed' }
  | { readonly kind: 'decline'; readonly failureCode: string; readonly declineCode: string | null; readonly message: string };

const approve: TestCardOutcome = { kind: 'approve' };
const decline = (failureCode: string, declineCode: string | null, message: string): TestCardOutcome => ({
  kind: 'decline',
  failureCode,
  declineCode,
  message,
});

export const TEST_CARDS: Readonly<Record<string, TestCardOutcome>> = Object.freeze({
  pm_card_visa: approve,
  pm_card_visa_debit: approve,
  pm_card_mastercard: approve,
  pm_card_mastercard_debit: approve,
  pm_card_amex: approve,
  pm_card_discover: approve,
  pm_card_diners: approve,
  pm_card_jcb: approve,
  pm_card_unionpay: approve,
  pm_card_refundFail: { kind: 'approve_refunds_fail' },
  pm_card_createDispute: { kind: 'approve_disputed' },
  pm_card_chargeDeclined: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  pm_card_chargeDeclinedInsufficientFunds: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  pm_card_chargeDeclinedLostCard: decline('card_declined', 'lost_card', 'Your card was declined.'),
  pm_card_chargeDeclinedStolenCard: decline('card_declined', 'stolen_card', 'Your card was declined.'),
  pm_card_chargeDeclinedFraudulent: decline('card_declined', 'fraudulent', 'Your card was declined.'),
  pm_card_chargeDeclinedExpiredCard: decline('expired_card', null, 'Your card has expired.'),
  pm_card_chargeDeclinedIncorrectCvc: decline('incorrect_cvc', null, "Your card's security code is incorrect."),
  pm_card_chargeDeclinedProcessingError: decline('processing_error', null, 'An error occurred while processing your card. Try again in a little bit.'),
  // Needs 3-D Secure on every charge (Stripe's pm_card_authenticationRequired). This service never
  // waits for a customer to authenticate (off-session, or on-session with error_on_requires_action),
  // so, as at Stripe, it declines: a renewal charged to it fails and dunning retries it.
  pm_card_authenticationRequired: decline('authentication_required', 'authentication_required', 'Your card was declined. This transaction requires authentication.'),
});

export const testCardOutcome = (paymentMethod: string): TestCardOutcome | undefined =>
  Object.hasOwn(TEST_CARDS, paymentMethod) ? TEST_CARDS[paymentMethod] : undefined;
