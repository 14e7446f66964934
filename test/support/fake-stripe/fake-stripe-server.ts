import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FormObject, FormValue } from './form.js';
import { canonical, parseForm } from './form.js';

/**
 * A stateful stand-in for Stripe's API, enough of it for PaymentIntents and Refunds, shaped
 * after Stripe's API reference (not after our adapter): the PaymentIntent status machine,
 * partial capture, refunds that stay pending and fail later, Stripe's error JSON, its
 * test payment methods, and its idempotency rules. Tests can also make it answer 500 for
 * the next N requests, or never answer.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | null;
  readonly params: FormObject;
  readonly status: number;
  readonly replayed: boolean;
}

type IntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

interface StripeErrorBody {
  type: 'card_error' | 'invalid_request_error' | 'api_error' | 'idempotency_error' | 'authentication_error';
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  payment_intent?: PaymentIntent;
  charge?: string;
}

interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: IntentStatus;
  capture_method: string;
  confirmation_method: 'automatic';
  payment_method: string | null;
  payment_method_types: string[];
  /** The Customer the payment method is saved to (a saved card is charged as its customer's). */
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  latest_charge: string | null;
  last_payment_error: Omit<StripeErrorBody, 'payment_intent'> | null;
  cancellation_reason: string | null;
  canceled_at: number | null;
  client_secret: string;
  created: number;
  livemode: false;
}

interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  failure_reason?: string;
  reason: string | null;
  metadata: Record<string, string>;
  created: number;
}

/** Stripe's Dispute object, the fields a dispute sync reads (docs: "The Dispute object"). */
export interface FakeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost';
  reason: string;
  created: number;
  evidence: { uncategorized_text: string | null };
  evidence_details: { due_by: number | null; has_evidence: boolean; past_due: boolean; submission_count: number };
  balance_transactions: { id: string; object: 'balance_transaction'; amount: number; fee: number; currency: string; type: 'adjustment' }[];
  is_charge_refundable: boolean;
  metadata: Record<string, string>;
  livemode: false;
}

type CardBehaviour =
  | { kind: 'approve' }
  | { kind: 'approve_refunds_fail' }
  | { kind: 'decline'; code: string; decline_code?: string; message: string }
  /** Needs 3-D Secure on every charge: `requires_action`, or a decline when nobody can authenticate. */
  | { kind: 'authentication_required' };

/** Stripe's test-mode PaymentMethods (docs: "Testing", declined payments). */
export const FAKE_STRIPE_TEST_PAYMENT_METHODS: Readonly<Record<string, CardBehaviour>> = {
  pm_card_visa: { kind: 'approve' },
  pm_card_mastercard: { kind: 'approve' },
  pm_card_amex: { kind: 'approve' },
  pm_card_refundFail: { kind: 'approve_refunds_fail' },
  pm_card_chargeDeclined: { kind: 'decline', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { kind: 'decline', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedLostCard: { kind: 'decline', code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' },
  pm_card_chargeDeclinedStolenCard: { kind: 'decline', code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' },
  pm_card_chargeDeclinedFraudulent: { kind: 'decline', code: 'card_declined', decline_code: 'fraudulent', message: 'Your card was declined.' },
  pm_card_chargeDeclinedExpiredCard: { kind: 'decline', code: 'expired_card', message: 'Your card has expired.' },
  pm_card_chargeDeclinedIncorrectCvc: { kind: 'decline', code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  pm_card_chargeDeclinedProcessingError: { kind: 'decline', code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  pm_card_authenticationRequired: { kind: 'authentication_required' },
};

/** Stripe's decline of a card that needs authentication when the customer cannot give it (off_session, or error_on_requires_action). */
const AUTHENTICATION_DECLINE = {
  code: 'authentication_required',
  decline_code: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
} as const;

/** Stripe's Customer ids; any such id is taken to exist (the fake keeps no Customers). */
const CUSTOMER_ID = /^cus_[A-Za-z0-9]+$/;

const CANCELABLE: readonly IntentStatus[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'];
const MAX_BODY_BYTES = 64 * 1024;

class ApiError extends Error {
  constructor(readonly status: number, readonly body: StripeErrorBody, readonly saveForIdempotency: boolean) {
    super(body.message);
  }
}
/** A parameter that fails validation: Stripe saves no idempotent result for it. */
const invalid = (message: string, param?: string, code?: string) =>
  new ApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) }, false);
const missing = (kind: string, id: string, param: string) =>
  new ApiError(404, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` }, false);

interface Answer {
  status: number;
  body: unknown;
}

interface SavedResult {
  readonly route: string;
  readonly params: string;
  readonly answer: Answer;
}

export class FakeStripeServer {
  readonly requests: RecordedRequest[] = [];
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly refunds = new Map<string, Refund>();
  readonly disputes = new Map<string, FakeDispute>();
  /** Customer ids Stripe does not know (deleted, or another account's): every other well-formed cus_ id exists. */
  readonly missingCustomers = new Set<string>();
  private readonly idempotency = new Map<string, SavedResult>();
  private readonly refundsThatFail = new Set<string>();
  private readonly server: http.Server;
  private failures: { remaining: number; status: number } = { remaining: 0, status: 500 };
  private hangs = 0;
  private counter = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: String(error) } }));
      });
    });
  }

  async start(): Promise<{ host: string; port: number; protocol: 'http' }> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return { host: '127.0.0.1', port: (this.server.address() as AddressInfo).port, protocol: 'http' };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  /** The next `count` requests answer `status` (500 by default) before reaching the API: nothing happens, nothing is saved for their keys. */
  failNext(count: number, status = 500): void {
    this.failures = { remaining: count, status };
  }

  /** The next `count` requests are read and never answered. */
  hangNext(count: number): void {
    this.hangs = count;
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const idempotencyKey = header(req, 'idempotency-key');
    const send = (answer: Answer, replayed = false, params: FormObject = {}) => {
      this.requests.push({ method, path: url.pathname, idempotencyKey, params, status: answer.status, replayed });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': `req_${this.random(14)}` };
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (replayed) headers['idempotent-replayed'] = 'true';
      res.writeHead(answer.status, headers);
      res.end(JSON.stringify(answer.body));
    };

    const auth = header(req, 'authorization');
    if (!auth || !/^Bearer sk_test_\w+$/.test(auth)) {
      send({ status: 401, body: { error: { type: 'authentication_error', message: 'Invalid API Key provided.' } } });
      return;
    }
    if (this.hangs > 0) {
      this.hangs--;
      this.requests.push({ method, path: url.pathname, idempotencyKey, params: {}, status: 0, replayed: false });
      return;
    }
    if (this.failures.remaining > 0) {
      this.failures.remaining--;
      send({ status: this.failures.status, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } });
      return;
    }

    let params: FormObject;
    try {
      params = method === 'GET' ? Object.fromEntries(url.searchParams) : parseForm(body);
    } catch (error) {
      send({ status: 400, body: { error: { type: 'invalid_request_error', message: (error as Error).message } } });
      return;
    }

    const route = `${method} ${url.pathname}`;
    // Stripe's idempotency: a key's first result is saved (success or failure, once the
    // endpoint ran) and replayed for the same parameters; other parameters are refused.
    if (idempotencyKey && method === 'POST') {
      const saved = this.idempotency.get(idempotencyKey);
      if (saved) {
        if (saved.route !== route || saved.params !== canonical(params)) {
          send({
            status: 400,
            body: {
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              },
            },
          }, false, params);
          return;
        }
        send(saved.answer, true, params);
        return;
      }
    }

    let answer: Answer;
    let save = true;
    try {
      answer = { status: 200, body: this.route(method, url.pathname, params) };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      answer = { status: error.status, body: { error: error.body } };
      save = error.saveForIdempotency;
    }
    if (idempotencyKey && method === 'POST' && save) this.idempotency.set(idempotencyKey, { route, params: canonical(params), answer });
    send(answer, false, params);
  }

  private route(method: string, path: string, params: FormObject): unknown {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v1') throw this.unrecognized(method, path);
    if (parts[1] === 'payment_intents') {
      if (method === 'POST' && parts.length === 2) return this.createIntent(params);
      const intent = this.intent(parts[2] ?? '');
      if (method === 'GET' && parts.length === 3) return intent;
      if (method === 'POST' && parts.length === 4) {
        if (parts[3] === 'confirm') return this.confirm(intent, params);
        if (parts[3] === 'capture') return this.capture(intent, params);
        if (parts[3] === 'cancel') return this.cancel(intent, params);
      }
    }
    if (parts[1] === 'disputes' && method === 'GET' && parts.length === 3) {
      const dispute = this.disputes.get(parts[2] ?? '');
      if (!dispute) throw missing('dispute', parts[2] ?? '', 'dispute');
      return dispute;
    }
    if (parts[1] === 'disputes' && method === 'POST' && parts.length === 3) return this.updateDisputeEvidence(parts[2] ?? '', params);
    if (parts[1] === 'refunds') {
      if (method === 'POST' && parts.length === 2) return this.createRefund(params);
      if (method === 'GET' && parts.length === 3) return this.retrieveRefund(parts[2] ?? '');
    }
    throw this.unrecognized(method, path);
  }

  private createIntent(params: FormObject): PaymentIntent {
    const amount = positiveInteger(params.amount, 'amount');
    const currency = str(params.currency, 'currency');
    if (currency === undefined) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}.`, 'currency');
    const captureMethod = str(params.capture_method, 'capture_method') ?? 'automatic';
    if (!['automatic', 'automatic_async', 'manual'].includes(captureMethod)) throw invalid(`Invalid capture_method: ${captureMethod}`, 'capture_method');
    const paymentMethod = str(params.payment_method, 'payment_method') ?? null;
    if (paymentMethod !== null && !Object.hasOwn(FAKE_STRIPE_TEST_PAYMENT_METHODS, paymentMethod)) {
      throw invalid(`No such PaymentMethod: '${paymentMethod}'`, 'payment_method', 'resource_missing');
    }
    const types = params.payment_method_types;
    const customer = str(params.customer, 'customer') ?? null;
    if (customer !== null && (!CUSTOMER_ID.test(customer) || this.missingCustomers.has(customer))) {
      throw invalid(`No such customer: '${customer}'`, 'customer', 'resource_missing');
    }
    // The API reference: off_session and error_on_requires_action "can only be used with confirm=true".
    const confirm = str(params.confirm, 'confirm') === 'true';
    const confirmParams = confirmationParams(params);
    if (!confirm && confirmParams.off_session !== undefined) throw invalid('off_session can only be used with confirm=true.', 'off_session');
    if (!confirm && confirmParams.error_on_requires_action !== undefined) {
      throw invalid('error_on_requires_action can only be used with confirm=true.', 'error_on_requires_action');
    }
    const intent: PaymentIntent = {
      id: `pi_${this.random(24)}`,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency,
      status: paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
      capture_method: captureMethod,
      confirmation_method: 'automatic',
      payment_method: paymentMethod,
      payment_method_types: Array.isArray(types) ? types.map(String) : ['card'],
      customer,
      description: str(params.description, 'description') ?? null,
      metadata: metadataOf(params.metadata),
      latest_charge: null,
      last_payment_error: null,
      cancellation_reason: null,
      canceled_at: null,
      client_secret: '',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
    };
    intent.client_secret = `${intent.id}_secret_${this.random(24)}`;
    this.paymentIntents.set(intent.id, intent);
    if (confirm) return this.confirm(intent, confirmParams);
    return intent;
  }

  private confirm(intent: PaymentIntent, params: FormObject): PaymentIntent {
    const pm = str(params.payment_method, 'payment_method');
    if (pm !== undefined) {
      if (!Object.hasOwn(FAKE_STRIPE_TEST_PAYMENT_METHODS, pm)) throw invalid(`No such PaymentMethod: '${pm}'`, 'payment_method', 'resource_missing');
      intent.payment_method = pm;
    }
    if (!['requires_payment_method', 'requires_confirmation'].includes(intent.status)) throw this.unexpectedState(intent, 'confirmed', ['requires_payment_method', 'requires_confirmation']);
    if (intent.payment_method === null) throw invalid('You cannot confirm this PaymentIntent because it\'s missing a payment method.', 'payment_method', 'payment_intent_unexpected_state');
    const offSession = isTrue(params.off_session);
    const errorOnRequiresAction = isTrue(params.error_on_requires_action);
    if (offSession && errorOnRequiresAction) {
      // Off-session already fails instead of asking for an action; Stripe refuses the pair.
      throw invalid('error_on_requires_action cannot be used with off_session.', 'error_on_requires_action');
    }
    const behaviour = FAKE_STRIPE_TEST_PAYMENT_METHODS[intent.payment_method] as CardBehaviour;
    if (behaviour.kind === 'authentication_required' && !offSession && !errorOnRequiresAction) {
      // On-session, the customer is there to authenticate: the intent waits for them.
      intent.status = 'requires_action';
      return intent;
    }
    const charge = `ch_${this.random(24)}`;
    intent.latest_charge = charge;
    const decline = behaviour.kind === 'decline' ? behaviour : behaviour.kind === 'authentication_required' ? AUTHENTICATION_DECLINE : undefined;
    if (decline !== undefined) {
      const failure = {
        type: 'card_error' as const,
        code: decline.code,
        ...(decline.decline_code ? { decline_code: decline.decline_code } : {}),
        message: decline.message,
        charge,
      };
      intent.status = 'requires_payment_method';
      intent.last_payment_error = failure;
      // A decline is a result of the endpoint: saved for the key like a success.
      throw new ApiError(402, { ...failure, payment_intent: { ...intent } }, true);
    }
    intent.last_payment_error = null;
    if (intent.capture_method === 'manual') {
      intent.status = 'requires_capture';
      intent.amount_capturable = intent.amount;
    } else {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
    }
    return intent;
  }

  private capture(intent: PaymentIntent, params: FormObject): PaymentIntent {
    if (intent.status !== 'requires_capture') throw this.unexpectedState(intent, 'captured', ['requires_capture']);
    const amount = params.amount_to_capture === undefined ? intent.amount_capturable : positiveInteger(params.amount_to_capture, 'amount_to_capture');
    if (amount > intent.amount_capturable) {
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'amount_too_large',
        param: 'amount_to_capture',
        message: `The amount to capture (${amount}) is greater than the amount capturable (${intent.amount_capturable}).`,
      }, true);
    }
    intent.status = 'succeeded';
    intent.amount_received = amount;
    intent.amount_capturable = 0;
    return intent;
  }

  private cancel(intent: PaymentIntent, params: FormObject): PaymentIntent {
    const reason = str(params.cancellation_reason, 'cancellation_reason');
    if (reason !== undefined && !CANCELLATION_REASONS.includes(reason)) {
      throw invalid(`Invalid cancellation_reason: must be one of ${CANCELLATION_REASONS.join(', ')}`, 'cancellation_reason');
    }
    if (!CANCELABLE.includes(intent.status)) throw this.unexpectedState(intent, 'canceled', CANCELABLE);
    intent.status = 'canceled';
    intent.cancellation_reason = reason ?? null;
    intent.canceled_at = Math.floor(Date.now() / 1000);
    intent.amount_capturable = 0;
    return intent;
  }

  private createRefund(params: FormObject): Refund {
    const piId = str(params.payment_intent, 'payment_intent');
    if (piId === undefined) throw invalid('One of the following params should be provided for this request: payment_intent or charge.', 'payment_intent', 'parameter_missing');
    const intent = this.paymentIntents.get(piId);
    if (!intent) throw missing('payment_intent', piId, 'payment_intent');
    if (intent.status !== 'succeeded' || intent.latest_charge === null) {
      throw new ApiError(400, { type: 'invalid_request_error', message: `This PaymentIntent (${piId}) does not have a successful charge to refund.`, param: 'payment_intent' }, true);
    }
    const refunded = [...this.refunds.values()]
      .filter((r) => r.payment_intent === piId && (r.status === 'succeeded' || r.status === 'pending'))
      .reduce((sum, r) => sum + r.amount, 0);
    const available = intent.amount_received - refunded;
    const amount = params.amount === undefined ? available : positiveInteger(params.amount, 'amount');
    if (amount > available) {
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'amount_too_large',
        param: 'amount',
        message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${available})`,
      }, true);
    }
    const failing = intent.payment_method !== null && FAKE_STRIPE_TEST_PAYMENT_METHODS[intent.payment_method]?.kind === 'approve_refunds_fail';
    const refund: Refund = {
      id: `re_${this.random(24)}`,
      object: 'refund',
      amount,
      currency: intent.currency,
      payment_intent: piId,
      charge: intent.latest_charge,
      status: failing ? 'pending' : 'succeeded',
      reason: str(params.reason, 'reason') ?? null,
      metadata: metadataOf(params.metadata),
      created: Math.floor(Date.now() / 1000),
    };
    if (failing) this.refundsThatFail.add(refund.id);
    this.refunds.set(refund.id, refund);
    return refund;
  }

  /** A pm_card_refundFail refund is pending when made and failed when looked at again: Stripe's asynchronous failure. */
  private retrieveRefund(id: string): Refund {
    const refund = this.refunds.get(id);
    if (!refund) throw missing('refund', id, 'id');
    if (this.refundsThatFail.delete(id)) {
      refund.status = 'failed';
      refund.failure_reason = 'expired_or_canceled_card';
    }
    return refund;
  }

  /**
   * The cardholder's bank disputes a captured payment (Stripe does this for its test cards
   * such as pm_card_createDispute; tests call it directly): a `needs_response` dispute for
   * the whole amount, with Stripe's 15.00 fee as a balance transaction.
   */
  createDispute(paymentIntentId: string, options: { reason?: string; feeAmount?: number; status?: 'needs_response' | 'warning_needs_response' } = {}): FakeDispute {
    const intent = this.intent(paymentIntentId);
    if (intent.status !== 'succeeded' || intent.latest_charge === null) throw new Error(`cannot dispute ${paymentIntentId}: it is ${intent.status}`);
    const created = Math.floor(Date.now() / 1000);
    const dispute: FakeDispute = {
      id: `dp_${this.random(24)}`,
      object: 'dispute',
      amount: intent.amount_received,
      currency: intent.currency,
      charge: intent.latest_charge,
      payment_intent: intent.id,
      status: options.status ?? 'needs_response',
      reason: options.reason ?? 'fraudulent',
      created,
      evidence: { uncategorized_text: null },
      evidence_details: { due_by: created + 7 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
      balance_transactions: [
        { id: `txn_${this.random(24)}`, object: 'balance_transaction', amount: -intent.amount_received, fee: options.feeAmount ?? 1_500, currency: intent.currency, type: 'adjustment' },
      ],
      is_charge_refundable: false,
      metadata: {},
      livemode: false,
    };
    this.disputes.set(dispute.id, dispute);
    return dispute;
  }

  /** Moves a dispute on, as the bank and Stripe do (`under_review`, then `won` or `lost`). */
  updateDispute(id: string, changes: Partial<Pick<FakeDispute, 'status'>>): FakeDispute {
    const dispute = this.disputes.get(id);
    if (!dispute) throw new Error(`no dispute ${id}`);
    Object.assign(dispute, changes);
    return dispute;
  }

  /**
   * POST /v1/disputes/:id (docs: "Update a dispute"): `evidence[…]` is recorded; with
   * `submit` (true by default) it goes to the bank and the dispute moves to `under_review`
   * (`warning_under_review` for an inquiry). A dispute past that point refuses with a 400.
   * Test mode's `winning_evidence` / `losing_evidence` decide the dispute after the answer
   * (Stripe's "Testing" page: the dispute is then closed as won or lost); here that is
   * `decideSubmittedDispute`, which a test calls before delivering `charge.dispute.closed`.
   */
  private updateDisputeEvidence(id: string, params: FormObject): FakeDispute {
    const dispute = this.disputes.get(id);
    if (!dispute) throw missing('dispute', id, 'dispute');
    const evidence = params.evidence;
    if (evidence !== undefined && (typeof evidence !== 'object' || Array.isArray(evidence))) throw invalid('Invalid evidence: must be an object', 'evidence');
    const text = evidence === undefined ? undefined : str(evidence.uncategorized_text, 'evidence[uncategorized_text]');
    if (text !== undefined && text.length > 150_000) throw invalid('Invalid evidence: the combined character count is limited to 150,000', 'evidence[uncategorized_text]');
    const submitParam = str(params.submit, 'submit') ?? 'true';
    if (submitParam !== 'true' && submitParam !== 'false') throw invalid(`Invalid boolean: ${submitParam}`, 'submit');
    if (dispute.status !== 'needs_response' && dispute.status !== 'warning_needs_response') {
      // Stripe ran the request and refused it for the dispute's state: saved for the key, like a PaymentIntent's unexpected state.
      throw new ApiError(400, { type: 'invalid_request_error', message: `This dispute is ${dispute.status} and can no longer be updated with evidence.` }, true);
    }
    if (text !== undefined) dispute.evidence = { ...dispute.evidence, uncategorized_text: text };
    const metadata = params.metadata === undefined ? undefined : metadataOf(params.metadata);
    if (metadata !== undefined) dispute.metadata = { ...dispute.metadata, ...metadata };
    if (submitParam === 'true') {
      dispute.status = dispute.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
      dispute.evidence_details = { ...dispute.evidence_details, has_evidence: true, submission_count: dispute.evidence_details.submission_count + 1 };
    }
    return dispute;
  }

  /**
   * What Stripe's test mode does after `winning_evidence` / `losing_evidence` was submitted:
   * `won` (`warning_closed` for an inquiry) or `lost`, and on a win the withdrawn amount and
   * fee come back as a second balance transaction. Other evidence leaves it under review.
   */
  decideSubmittedDispute(id: string): FakeDispute {
    const dispute = this.disputes.get(id);
    if (!dispute) throw new Error(`no dispute ${id}`);
    if (dispute.status !== 'under_review' && dispute.status !== 'warning_under_review') return dispute;
    const text = dispute.evidence.uncategorized_text;
    const inquiry = dispute.status === 'warning_under_review';
    if (text === 'winning_evidence') {
      dispute.status = inquiry ? 'warning_closed' : 'won';
      if (!inquiry) {
        dispute.balance_transactions.push({ id: `txn_${this.random(24)}`, object: 'balance_transaction', amount: dispute.amount, fee: 0, currency: dispute.currency, type: 'adjustment' });
      }
    } else if (text === 'losing_evidence') {
      dispute.status = 'lost';
    }
    return dispute;
  }

  private intent(id: string): PaymentIntent {
    const intent = this.paymentIntents.get(id);
    if (!intent) throw missing('payment_intent', id, 'intent');
    return intent;
  }

  private unexpectedState(intent: PaymentIntent, verb: string, allowed: readonly string[]): ApiError {
    return new ApiError(400, {
      type: 'invalid_request_error',
      code: 'payment_intent_unexpected_state',
      message: `This PaymentIntent could not be ${verb} because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be ${verb}: ${allowed.join(', ')}.`,
      payment_intent: { ...intent },
    }, true);
  }

  private unrecognized(method: string, path: string): ApiError {
    return new ApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` }, false);
  }

  private random(length: number): string {
    this.counter++;
    return (randomBytes(length).toString('base64url').replace(/[-_]/g, 'x') + String(this.counter)).slice(0, length);
  }
}

function header(req: http.IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A form boolean (or off_session's `one_off`/`recurring`, which mean off-session too). */
const isTrue = (value: FormValue | undefined): boolean => typeof value === 'string' && value !== 'false';

/** The create parameters that belong to its confirmation. */
function confirmationParams(params: FormObject): FormObject {
  return {
    ...(params.off_session === undefined ? {} : { off_session: params.off_session }),
    ...(params.error_on_requires_action === undefined ? {} : { error_on_requires_action: params.error_on_requires_action }),
  };
}

function str(value: FormValue | undefined, param: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid ${param}: must be a string`, param);
  return value;
}

function positiveInteger(value: FormValue | undefined, param: string): number {
  const s = str(value, param);
  if (s === undefined) throw invalid(`Missing required param: ${param}.`, param, 'parameter_missing');
  if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) throw invalid(`Invalid integer: ${s}`, param, 'parameter_invalid_integer');
  return Number(s);
}

/** Stripe's limits: 50 keys, keys up to 40 characters, values up to 500. */
function metadataOf(value: FormValue | undefined): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('Invalid metadata: must be an object', 'metadata');
  const entries = Object.entries(value);
  if (entries.length > 50) throw invalid('Invalid metadata: at most 50 keys', 'metadata');
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalid(`Invalid metadata[${k}]: must be a string`, `metadata[${k}]`);
    if (k.length > 40) throw invalid(`Invalid metadata: keys can be at most 40 characters`, `metadata[${k}]`);
    if (v.length > 500) throw invalid(`Invalid metadata[${k}]: values can be at most 500 characters`, `metadata[${k}]`);
    out[k] = v;
  }
  return out;
}
